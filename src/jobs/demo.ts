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
import { PHANTOM_LABELS } from '../demo/phantom.js';
import type { Summary } from '../evaluation/index.js';
import { summaryToJson } from '../evaluation/index.js';
import type { ProgressListener } from '../util/progress.js';
import type { LoadedModel } from '../model/loaded-model.js';
import type { Vec3 } from '../util/vec3.js';
import { writePhantomDataset, type PhantomDatasetFiles } from './demo-data.js';
import { evaluateFolders } from './evaluate.js';
import { loadModelFromStore, saveTorchCheckpointTo } from './model-files.js';
import { createPredictorNetwork } from './network.js';
import { predictCaseFile, type PredictFileOptions, type PredictHost } from './predict-files.js';
import type { Runtime } from './runtime.js';

/** The training run the demo asks of its host (Node: trainRun over the preprocessed cache on disk). */
export interface DemoTrainRequest {
  readonly datasetDir: string;
  readonly outDir: string;
  readonly dims: readonly number[];
  readonly depth: readonly number[];
  readonly pools: readonly Vec3[];
  readonly patch: Vec3;
  readonly batch: number;
  readonly epochs: number;
  readonly iters: number;
  readonly valBatches: number;
  readonly seed: number;
  readonly threads?: number;
  readonly onProgress?: ProgressListener;
  readonly signal?: AbortSignal;
  readonly log: (line: string) => void;
}

export interface DemoHost extends PredictHost {
  readonly runtime: Runtime;
  /** Trains fold 'all' and returns the model folder and the fold folder (with progress.png). */
  train(request: DemoTrainRequest): Promise<{ readonly modelDir: string; readonly foldDir: string }>;
  /** Extra options of every predicted case (Node: where the stitching ring lives). */
  readonly predictOptions?: Omit<PredictFileOptions, 'preview' | 'statistics'>;
}

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
  /** Stops training or prediction at the next check with an AbortError. */
  readonly signal?: AbortSignal;
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

export async function runDemo(host: DemoHost, o: DemoOptions): Promise<DemoResult> {
  const { store } = host;
  const out = o.out;
  const join = (...parts: string[]): string => store.join(...parts);
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
    writePhantomDataset(store, datasetDir, {
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
    host.train({
      datasetDir,
      outDir: trainDir,
      dims: DEMO_DEFAULTS.dims,
      depth: DEMO_DEFAULTS.dims.map(() => 1),
      pools: DEMO_DEFAULTS.pools,
      patch: DEMO_DEFAULTS.patch,
      batch: DEMO_DEFAULTS.batch,
      epochs: o.epochs ?? DEMO_DEFAULTS.epochs,
      iters: o.iters ?? DEMO_DEFAULTS.iters,
      valBatches: DEMO_DEFAULTS.valBatches,
      seed,
      ...(o.threads === undefined ? {} : { threads: o.threads }),
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      log,
    }),
  );
  const modelDir = trained.modelDir;
  log(`trained model: ${modelDir}`);

  const predDir = join(out, 'predictions');
  const model = loadModelFromStore(store, modelDir);
  await timed('predict', () => predictHeldOut(host, model, datasetDir, predDir, dataset.testIds, o));

  const evaluated = await timed('evaluate', () =>
    evaluateFolders(store, predDir, join(datasetDir, 'labelsTs'), {
      labelsOrRegions: PHANTOM_LABELS.slice(1).map((_, i) => i + 1),
      nsdToleranceMm: DEMO_DEFAULTS.nsdToleranceMm,
    }),
  );
  const summaryPath = join(out, 'summary.json');
  store.writeAll([
    { path: summaryPath, data: summaryToJson(evaluated.summary) },
    {
      path: join(out, 'progress.png'),
      data: store.read(join(trained.foldDir, 'progress.png'), 'training curve'),
    },
  ]);
  await timed('export', () =>
    saveTorchCheckpointTo(store, model, join(out, 'model-torch-v1', 'demo.model'), 'torch-v1'),
  );
  const meanDice = evaluated.summary.foreground_mean.Dice ?? null;
  const settings = {
    ...DEMO_DEFAULTS,
    epochs: o.epochs ?? DEMO_DEFAULTS.epochs,
    iters: o.iters ?? DEMO_DEFAULTS.iters,
    seed,
  };
  const files = { dataset: datasetDir, model: modelDir, predictions: predDir, summary: summaryPath };
  store.writeAll([
    {
      path: join(out, 'demo.json'),
      data: `${JSON.stringify({ settings, meanDice, seconds, files }, null, 2)}\n`,
    },
  ]);
  return { out, dataset, modelDir, summaryPath, summary: evaluated.summary, meanDice, seconds };
}

/** `stunet predict` on the held-out phantoms, with previews and statistics. */
async function predictHeldOut(
  host: DemoHost,
  model: LoadedModel,
  datasetDir: string,
  predDir: string,
  testIds: readonly string[],
  o: DemoOptions,
): Promise<void> {
  const join = (...parts: string[]): string => host.store.join(...parts);
  const predictor = await createPredictorNetwork(
    model,
    'ort',
    host.runtime,
    o.threads === undefined ? {} : { threads: o.threads },
  );
  try {
    for (const [i, id] of testIds.entries()) {
      o.onProgress?.({ stage: 'predict', done: i, total: testIds.length, message: id });
      await predictCaseFile(
        host,
        join(datasetDir, 'imagesTs', `${id}_0000.nii.gz`),
        join(predDir, `${id}.nii.gz`),
        model,
        predictor.network,
        {
          ...host.predictOptions,
          preview: true,
          statistics: true,
          ...(o.signal ? { signal: o.signal } : {}),
        },
      );
    }
    o.onProgress?.({ stage: 'predict', done: testIds.length, total: testIds.length });
  } finally {
    await predictor.close();
  }
}
