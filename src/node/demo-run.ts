/**
 * `stunet demo`: the whole STU-Net workflow on an embedded default, on CPU, with nothing to download.
 *   1. phantoms  — a synthetic CT-like dataset as real NIfTI files in nnU-Net v2 layout (src/demo/phantom.ts),
 *                  training cases in imagesTr/labelsTr, held-out cases in imagesTs/labelsTs;
 *   2. train     — `stunet train` on it (fingerprint → plans → preprocessed cache → a small STU-Net trained
 *                  with nnU-Net's loss, optimizer, schedule and augmentation; checkpoints, log, curve);
 *   3. predict   — `stunet predict` on the held-out phantoms (sliding window, mirror TTA, previews);
 *   4. evaluate  — `stunet evaluate` against their labels (Dice, IoU, NSD; nnU-Net's summary.json);
 *   5. export    — the trained model also as an official nnU-Net v1 checkpoint (.model + .model.pkl).
 * Layout of `out`: data/<dataset>/, train/ (plans.json, preprocessed/, fold_all/…), predictions/,
 * summary.json, progress.png, model-torch-v1/, demo.json (settings, timings, mean Dice).
 */
import { copyFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PHANTOM_LABELS } from '../demo/phantom.js';
import type { Summary } from '../evaluation/index.js';
import { summaryToJson } from '../evaluation/index.js';
import type { ProgressListener } from '../util/progress.js';
import { writePhantomDataset, type PhantomDatasetFiles } from './demo-data.js';
import { evaluateFolders } from './evaluate-files.js';
import { writeAtomic } from './fs.js';
import { loadModelFrom, saveTorchCheckpoint } from './model-source.js';
import { predictFile } from './predict-files.js';
import { createPredictorNetwork } from '../jobs/network.js';
import { nodeRuntime } from './runtime.js';
import { trainRun } from './train-run.js';
import type { Vec3 } from '../util/vec3.js';

export const DEMO_DATASET = 'Dataset900_StunetPhantoms';

/** The demo's network and schedule: an STU-Net with the released topology, shrunk to CPU minutes. */
export const DEMO_DEFAULTS = {
  numTraining: 12,
  numTest: 4,
  dims: [8, 16, 32, 64, 128],
  pools: [
    [2, 2, 2],
    [2, 2, 2],
    [2, 2, 2],
    [2, 2, 2],
  ] as Vec3[],
  patch: [32, 32, 32] as Vec3,
  batch: 2,
  epochs: 20,
  iters: 25,
  valBatches: 3,
  nsdToleranceMm: 2,
  seed: 0,
} as const;

export interface DemoOptions {
  readonly out: string;
  /** Stop after writing the phantom dataset. */
  readonly onlyData?: boolean;
  readonly numTraining?: number;
  readonly numTest?: number;
  readonly epochs?: number;
  readonly iters?: number;
  readonly threads?: number;
  readonly seed?: number;
  readonly onProgress?: ProgressListener;
  readonly log?: (line: string) => void;
}

export interface DemoResult {
  readonly out: string;
  readonly dataset: PhantomDatasetFiles;
  /** Null with onlyData. */
  readonly modelDir: string | null;
  readonly summaryPath: string | null;
  readonly summary: Summary | null;
  /** Mean Dice over the foreground classes and held-out cases (nnU-Net's foreground_mean). */
  readonly meanDice: number | null;
  readonly seconds: Record<string, number>;
}

export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const out = resolve(o.out);
  const log = o.log ?? ((): void => undefined);
  const seconds: Record<string, number> = {};
  const timed = async <T>(stage: string, f: () => T | Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const r = await f();
    seconds[stage] = (performance.now() - t0) / 1000;
    return r;
  };
  const seed = o.seed ?? DEMO_DEFAULTS.seed;
  const datasetDir = join(out, 'data', DEMO_DATASET);
  const dataset = await timed('phantoms', () =>
    writePhantomDataset(datasetDir, {
      numTraining: o.numTraining ?? DEMO_DEFAULTS.numTraining,
      numTest: o.numTest ?? DEMO_DEFAULTS.numTest,
      seed: 1000 + seed * 100,
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    }),
  );
  log(
    `phantom dataset: ${dataset.trainingIds.length} training + ${dataset.testIds.length} held-out cases in ${datasetDir}` +
      (dataset.written === 0 ? ' (reused)' : ''),
  );
  if (o.onlyData === true)
    return { out, dataset, modelDir: null, summaryPath: null, summary: null, meanDice: null, seconds };

  const trainDir = join(out, 'train');
  const trained = await timed('train', () =>
    trainRun({
      datasetDir,
      outDir: trainDir,
      scale: 'S',
      dims: DEMO_DEFAULTS.dims,
      depth: DEMO_DEFAULTS.dims.map(() => 1),
      pools: DEMO_DEFAULTS.pools,
      patch: DEMO_DEFAULTS.patch,
      batch: DEMO_DEFAULTS.batch,
      epochs: o.epochs ?? DEMO_DEFAULTS.epochs,
      iters: o.iters ?? DEMO_DEFAULTS.iters,
      valBatches: DEMO_DEFAULTS.valBatches,
      fold: 'all',
      seed,
      backend: 'wasm',
      fingerprintSamples: 'all',
      finalValidation: false,
      ...(o.threads === undefined ? {} : { threads: o.threads }),
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
      log,
    }),
  );
  const modelDir = trained.modelDir;
  log(`trained model: ${modelDir}`);

  const predDir = join(out, 'predictions');
  const model = loadModelFrom(modelDir);
  await timed('predict', async () => {
    const predictor = await createPredictorNetwork(model, 'ort', nodeRuntime, o.threads === undefined ? {} : { threads: o.threads });
    try {
      for (const [i, id] of dataset.testIds.entries()) {
        o.onProgress?.({ stage: 'predict', done: i, total: dataset.testIds.length, message: id });
        await predictFile(
          join(datasetDir, 'imagesTs', `${id}_0000.nii.gz`),
          join(predDir, `${id}.nii.gz`),
          model,
          predictor.network,
          { preview: true, statistics: true },
        );
      }
      o.onProgress?.({ stage: 'predict', done: dataset.testIds.length, total: dataset.testIds.length });
    } finally {
      await predictor.close();
    }
  });

  const evaluated = await timed('evaluate', () =>
    evaluateFolders(predDir, join(datasetDir, 'labelsTs'), {
      labelsOrRegions: PHANTOM_LABELS.slice(1).map((_, i) => i + 1),
      nsdToleranceMm: DEMO_DEFAULTS.nsdToleranceMm,
    }),
  );
  const summaryPath = join(out, 'summary.json');
  writeAtomic(summaryPath, summaryToJson(evaluated.summary));
  copyFileSync(join(trained.foldDir, 'progress.png'), join(out, 'progress.png'));
  await timed('export', () =>
    saveTorchCheckpoint(model, join(out, 'model-torch-v1', 'demo.model'), 'torch-v1'),
  );
  const meanDice = evaluated.summary.foreground_mean.Dice ?? null;
  writeAtomic(
    join(out, 'demo.json'),
    `${JSON.stringify(
      {
        settings: {
          ...DEMO_DEFAULTS,
          epochs: o.epochs ?? DEMO_DEFAULTS.epochs,
          iters: o.iters ?? DEMO_DEFAULTS.iters,
          seed,
        },
        meanDice,
        seconds,
        files: { dataset: datasetDir, model: modelDir, predictions: predDir, summary: summaryPath },
      },
      null,
      2,
    )}\n`,
  );
  return { out, dataset, modelDir, summaryPath, summary: evaluated.summary, meanDice, seconds };
}
