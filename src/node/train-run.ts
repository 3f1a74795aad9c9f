/**
 * `stunet train` end to end on disk: dataset → plans (planned here unless given) → preprocessed cache →
 * fold split → architecture and weights (fresh, pre-trained, or the latest checkpoint) → memory check →
 * worker loader → runTraining (src/training/trainer.ts) with checkpoints, JSON-lines log and curve →
 * checkpoint_final (our model folder, plans in its meta) → optional sliding-window validation with
 * summary.json. Layout of `outDir`:
 *   plans.json, splits_final.json, preprocessed/ (the cache),
 *   fold_N/ {checkpoint_latest, checkpoint_best, checkpoint_final}/ (model.json, weights.safetensors,
 *            optimizer.safetensors, trainer_state.json), log.jsonl, progress.png, validation/
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, freemem } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { defaultAugmentationParams } from '../augmentation/pipeline.js';
import { deriveSeed } from '../augmentation/rng.js';
import type { JsonValue } from '../checkpoint/py-json.js';
import type { Backend } from '../engine/backend.js';
import type { Tensor } from '../engine/tensor.js';
import { summarize, summaryToJson, type CaseResult } from '../evaluation/index.js';
import { writeNifti } from '../io/nifti.js';
import { volumeToNifti } from '../io/nifti-volume.js';
import { refBackend } from '../engine/backends/ref/index.js';
import { createWasmBackend } from '../engine/backends/wasm/index.js';
import type { Vec3 } from '../engine/ops.js';
import { fail } from '../errors.js';
import { failOnProblems, type DatasetDescription } from '../io/dataset.js';
import { divisibilityZYX, stunetPoolsFromPlans, type StunetArchitecture } from '../model/architecture.js';
import { initWeightsHe } from '../model/init.js';
import { defaultMeta, type LoadedModel } from '../model/loaded-model.js';
import { KERNEL_3, SCALES, type ScaleName } from '../model/scales.js';
import { StuNet } from '../model/stunet.js';
import { planExperiment } from '../planning/planner.js';
import { configurationTopology, parsePlans, serializePlans, type NnunetPlans } from '../planning/plans.js';
import { stunetPlansFromDataset } from '../planning/presets.js';
import {
  checkpointFiles,
  findCheckpointDir,
  initialTrainerState,
  writeCheckpointDir,
  type CheckpointFs,
  logLine,
  parseTrainerState,
  OPTIMIZER_FILE,
  TRAINER_STATE_FILE,
  type CheckpointName,
  type EpochLog,
  type TrainerState,
} from '../training/checkpointing.js';
import { renderCurve } from '../training/curve.js';
import { deepSupervisionScales } from '../training/deep-supervision.js';
import { FINETUNE_LR, transferPretrained } from '../training/finetune.js';
import {
  defaultLoaderConfig,
  InlineBatchLoader,
  makeBatch,
  type BatchLoader,
  type PreprocessedCase,
} from '../training/loader.js';
import { estimateTrainingMemory, formatBytes } from '../training/memory.js';
import { NNUNET_SGD, SgdOptimizer } from '../training/optimizer.js';
import { parseSgd } from '../training/optimizer-state.js';
import { createTrainingState } from '../training/train-step.js';
import {
  NNUNET_TRAINER_CONFIG,
  runTraining,
  type TrainerConfig,
  type TrainerHooks,
} from '../training/trainer.js';
import { crossValidationSplits, evalNetwork, validateCase } from '../training/validation.js';
import type { ProgressListener } from '../util/progress.js';
import { fingerprintDatasetDir, readDatasetDir } from './dataset-files.js';
import { exists, readBytes, readText, writeAtomic } from './fs.js';
import { loadModelFrom } from './model-source.js';
import {
  loadCachedCase,
  readCaseVolume,
  preprocessDatasetToCache,
  preprocessPlansFromNnunet,
} from './preprocessed-cache.js';
import { WorkerBatchLoader } from './loader-workers.js';
import { modelDefaults } from './predict-model.js';

export interface TrainRunOptions {
  readonly datasetDir: string;
  readonly outDir: string;
  readonly scale: ScaleName;
  readonly depth?: readonly number[];
  readonly dims?: readonly number[];
  readonly pools?: readonly Vec3[];
  /** A plans.json to use instead of planning. */
  readonly plansPath?: string;
  /** Foreground samples per case for the fingerprint (default nnU-Net's 10e7 / cases; 'all' for tiny sets). */
  readonly fingerprintSamples?: number | 'all';
  readonly epochs?: number;
  readonly iters?: number;
  readonly valBatches?: number;
  readonly fold: number | 'all';
  readonly patch?: Vec3;
  readonly batch?: number;
  readonly backend: 'wasm' | 'ref';
  readonly threads?: number;
  /** Loader worker threads; 0 = same thread. Default min(4, cores − 1). */
  readonly workers?: number;
  readonly continue?: boolean;
  readonly pretrained?: string;
  readonly lr?: number;
  readonly seed: number;
  /** Default os.freemem(). */
  readonly memoryLimitBytes?: number;
  /** Sliding-window validation of the fold's validation cases at the end (default true). */
  readonly finalValidation?: boolean;
  /** Mirror TTA in the final validation (default true, as nnU-Net). */
  readonly validationTta?: boolean;
  readonly onProgress?: ProgressListener;
  readonly log?: (line: string) => void;
  /** Stop after this many epochs of this call (tests: simulate an interruption). */
  readonly stopAfterEpochs?: number;
}

export interface TrainRunResult {
  readonly foldDir: string;
  /** checkpoint_final: the model folder for `stunet predict -m`. */
  readonly modelDir: string;
  readonly state: TrainerState;
  readonly summaryPath: string | null;
}

function loadOrPlan(o: TrainRunOptions, desc: DatasetDescription, plansOut: string): NnunetPlans {
  if (o.continue === true && exists(plansOut)) return parsePlans(readText(plansOut, 'plans'));
  if (o.plansPath !== undefined) return parsePlans(readText(o.plansPath, 'plans'));
  const { fingerprint } = fingerprintDatasetDir(
    o.datasetDir,
    o.fingerprintSamples === undefined ? {} : { samplesPerCase: o.fingerprintSamples },
  );
  const nnunet = planExperiment({
    fingerprint,
    channelNames: desc.json.channelNames,
    numLabels: Object.keys(desc.json.labels.declared).length,
    numTraining: desc.json.numTraining,
    datasetName: basename(resolve(o.datasetDir)),
  });
  return stunetPlansFromDataset(nnunet, {
    scale: o.scale,
    numClasses: desc.json.labels.allLabels.length,
    memoryBytes: o.memoryLimitBytes ?? freemem(),
  }).plans;
}

/** The network from scale + overrides, pools from the plans (or --pool), checked against the patch. */
function architectureFor(
  o: TrainRunOptions,
  plans: NnunetPlans,
  desc: DatasetDescription,
  patch: Vec3,
): StunetArchitecture {
  const preset = SCALES[o.scale];
  const dims = o.dims ?? preset.dims;
  const depth = o.depth ?? (o.dims === undefined ? preset.depth : dims.map(() => 1));
  const topo = configurationTopology(plans);
  const pools = o.pools ?? stunetPoolsFromPlans(topo.poolOpKernelSizes.slice(1), dims.length - 1);
  const arch: StunetArchitecture = {
    inputChannels: desc.json.channelNames.length,
    numClasses: desc.json.labels.allLabels.length,
    depth,
    dims,
    poolOpKernelSizes: pools,
    convKernelSizes: dims.map(() => KERNEL_3),
  };
  new StuNet(arch); // validates
  const div = divisibilityZYX(arch);
  if (patch.some((p, a) => p % (div[a] as number) !== 0))
    fail(
      'BAD_INPUT',
      `patch [${patch.join(', ')}] must be divisible by the pools' product [${div.join(', ')}] on every axis`,
    );
  return arch;
}

/** The plans with this run's patch, batch and network written in (what the model folder carries). */
function withRun(plans: NnunetPlans, arch: StunetArchitecture, patch: Vec3, batch: number): NnunetPlans {
  const c = plans.configurations['3d_fullres'];
  if (c === undefined) fail('NOT_FOUND', 'plans: no 3d_fullres configuration');
  const kw = c.architecture.arch_kwargs;
  const conf = {
    ...c,
    patch_size: [...patch],
    batch_size: batch,
    architecture: {
      ...c.architecture,
      arch_kwargs: {
        ...kw,
        n_stages: arch.dims.length,
        features_per_stage: [...arch.dims],
        kernel_sizes: arch.convKernelSizes.map((k) => [...k]),
        strides: [[1, 1, 1], ...arch.poolOpKernelSizes.map((p) => [...p])],
        n_conv_per_stage: [...arch.depth],
        n_conv_per_stage_decoder: arch.depth.slice(0, -1),
      },
    },
  };
  return { ...plans, configurations: { ...plans.configurations, '3d_fullres': conf } };
}

function checkMemory(arch: StunetArchitecture, shape: readonly number[], limit: number): void {
  const need = estimateTrainingMemory(arch, shape).peakBytes;
  if (need > limit)
    fail(
      'RUNTIME',
      `training needs ${formatBytes(need)} (${need} bytes) per step for batch (${shape.join(', ')}) but only ` +
        `${formatBytes(limit)} (${limit} bytes) are available; use a smaller --patch or --batch, or a smaller model`,
    );
}

async function openBackend(o: TrainRunOptions): Promise<{ backend: Backend; close: () => Promise<void> }> {
  if (o.backend === 'ref') return { backend: refBackend, close: () => Promise.resolve() };
  const be = await createWasmBackend(o.threads === undefined ? {} : { threads: o.threads });
  return { backend: be, close: () => be.close() };
}

interface RunSetup {
  readonly desc: DatasetDescription;
  readonly plans: NnunetPlans;
  readonly arch: StunetArchitecture;
  readonly patch: Vec3;
  readonly batch: number;
  readonly cacheDir: string;
  readonly split: { readonly train: readonly string[]; readonly val: readonly string[] };
  readonly foldDir: string;
  readonly cfg: TrainerConfig;
}

/** Dataset → plans → architecture → memory check → cache → split (everything before the weights). */
function setUpRun(o: TrainRunOptions, log: (line: string) => void): RunSetup {
  const { desc, problems } = readDatasetDir(o.datasetDir);
  failOnProblems(problems, `dataset '${o.datasetDir}'`);
  if (desc === null) fail('BAD_INPUT', `dataset '${o.datasetDir}' could not be read`);
  const plansOut = join(o.outDir, 'plans.json');
  const planned = loadOrPlan(o, desc, plansOut);
  const topo = configurationTopology(planned);
  const patch = o.patch ?? (topo.patchSize as unknown as Vec3);
  const batch = o.batch ?? topo.batchSize;
  const arch = architectureFor(o, planned, desc, patch);
  const plans = withRun(planned, arch, patch, batch);
  checkMemory(arch, [batch, arch.inputChannels, ...patch], o.memoryLimitBytes ?? freemem());
  writeAtomic(plansOut, serializePlans(plans));

  const cacheDir = join(o.outDir, 'preprocessed');
  const cache = preprocessDatasetToCache(
    o.datasetDir,
    desc,
    preprocessPlansFromNnunet(plans),
    cacheDir,
    o.onProgress ? { onProgress: o.onProgress } : {},
  );
  log(`preprocessed ${cache.made} case(s), ${cache.skipped} already done, in ${cacheDir}`);
  const all = [...cache.keys].sort();
  const splits = crossValidationSplits(all);
  writeAtomic(join(o.outDir, 'splits_final.json'), `${JSON.stringify(splits, null, 1)}\n`);
  // fold 'all': nnU-Net trains on every case and validates on the same ones.
  const split = o.fold === 'all' ? { train: all, val: all } : splits[o.fold];
  if (split === undefined) fail('BAD_INPUT', `--fold must be 0…4 or all, got ${o.fold}`);
  return {
    desc,
    plans,
    arch,
    patch,
    batch,
    cacheDir,
    split,
    foldDir: join(o.outDir, o.fold === 'all' ? 'fold_all' : `fold_${o.fold}`),
    cfg: {
      epochs: o.epochs ?? NNUNET_TRAINER_CONFIG.epochs,
      itersPerEpoch: o.iters ?? NNUNET_TRAINER_CONFIG.itersPerEpoch,
      valBatches: o.valBatches ?? NNUNET_TRAINER_CONFIG.valBatches,
      initialLr: o.lr ?? (o.pretrained !== undefined ? FINETUNE_LR : NNUNET_SGD.lr),
    },
  };
}

/** Weights, optimizer and trainer state: from checkpoint_latest (--continue), pre-trained, or fresh. */
function startingPoint(
  o: TrainRunOptions,
  s: RunSetup,
  log: (line: string) => void,
): { weights: Map<string, Tensor>; optimizer: SgdOptimizer; state: TrainerState } {
  if (o.continue === true) {
    const dir = checkpointDir(s.foldDir, 'checkpoint_latest');
    const state = parseTrainerState(readText(join(dir, TRAINER_STATE_FILE)));
    if (state.seed !== o.seed)
      fail('BAD_INPUT', `cannot continue: the run used --seed ${state.seed}, not ${o.seed}`);
    log(`continuing from epoch ${state.epoch} (${dir})`);
    return {
      weights: loadModelFrom(dir).weights,
      optimizer: parseSgd(readBytes(join(dir, OPTIMIZER_FILE), 'optimizer state')),
      state: { ...state, totalEpochs: s.cfg.epochs },
    };
  }
  let weights: Map<string, Tensor>;
  if (o.pretrained !== undefined) {
    const t = transferPretrained(loadModelFrom(o.pretrained).weights, s.arch, deriveSeed(o.seed, 0));
    weights = t.weights;
    log(
      `pre-trained: ${t.loaded.length} tensors loaded, ${t.repeated.length} stem tensors repeated, ` +
        `${t.skipped.length} re-initialised`,
    );
  } else weights = initWeightsHe(new StuNet(s.arch), deriveSeed(o.seed, 0));
  return {
    weights,
    optimizer: new SgdOptimizer({ ...NNUNET_SGD, lr: s.cfg.initialLr }),
    state: initialTrainerState(s.cfg.epochs, s.cfg.itersPerEpoch, o.seed),
  };
}

/** The training stream: batch b = makeBatch(cases, cfg, seed, b), started where the run stands. */
function openLoader(o: TrainRunOptions, s: RunSetup, cases: PreprocessedCase[], start: number): BatchLoader {
  const dsScales = deepSupervisionScales(s.arch.poolOpKernelSizes);
  const config = defaultLoaderConfig(s.patch, s.batch, defaultAugmentationParams(s.patch), dsScales);
  const seed = deriveSeed(o.seed, 1);
  const workers = o.workers ?? Math.max(0, Math.min(4, availableParallelism() - 1));
  return workers === 0
    ? new InlineBatchLoader(cases, config, seed, start)
    : WorkerBatchLoader.create({ cases, config, seed, workers, startBatch: start });
}

export async function trainRun(o: TrainRunOptions): Promise<TrainRunResult> {
  const log = o.log ?? ((): void => undefined);
  const s = setUpRun(o, log);
  const { arch, foldDir, cfg } = s;
  const start = startingPoint(o, s, log);
  const { optimizer } = start;
  const meta = {
    ...defaultMeta('stunet'),
    trainerName: o.pretrained !== undefined ? 'stunet finetune' : 'stunet train',
    plans: s.plans as unknown as JsonValue,
    configuration: '3d_fullres',
    datasetJson: s.desc.json.raw as unknown as JsonValue,
    patchSizeZYX: [...s.patch],
    mirrorAxes: [0, 1, 2],
  };
  const valCases = s.split.val.map((k) => loadCachedCase(s.cacheDir, k));
  const valCfg = defaultLoaderConfig(s.patch, s.batch, null, []);
  const valSeed = deriveSeed(o.seed, 2);
  const { backend, close } = await openBackend(o);
  let loader: BatchLoader | null = null;
  try {
    const training = createTrainingState(arch, start.weights, backend, optimizer, {
      loss: { batchDice: false },
      clipNorm: 12,
    });
    const model = (): LoadedModel => ({ arch, weights: training.params, meta });
    const cases = s.split.train.map((k) => loadCachedCase(s.cacheDir, k));
    loader = openLoader(o, s, cases, start.state.batchesConsumed);
    const hooks: TrainerHooks = {
      trainLoader: loader,
      valBatch: (epoch, i) => makeBatch(valCases, valCfg, valSeed, epoch * cfg.valBatches + i),
      onEpochEnd: (state, improved) => {
        saveCheckpoint(foldDir, 'checkpoint_latest', model(), optimizer, state);
        if (improved) saveCheckpoint(foldDir, 'checkpoint_best', model(), optimizer, state);
        saveEpochOutputs(foldDir, state);
        const e = state.log[state.log.length - 1];
        if (e !== undefined) log(describeEpoch(e));
      },
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    };
    const until = o.stopAfterEpochs === undefined ? cfg.epochs : start.state.epoch + o.stopAfterEpochs;
    const state = await runTraining(training, start.state, cfg, hooks, until);
    const modelDir = join(foldDir, 'checkpoint_final');
    if (state.epoch < cfg.epochs) return { foldDir, modelDir, state, summaryPath: null };
    saveCheckpoint(foldDir, 'checkpoint_final', model(), optimizer, state);
    let summaryPath: string | null = null;
    if (o.finalValidation !== false) {
      summaryPath = await validateFold(
        o.datasetDir,
        s.desc,
        s.split.val,
        model(),
        backend,
        join(foldDir, 'validation'),
        {
          tta: o.validationTta !== false,
          ...(o.onProgress ? { onProgress: o.onProgress } : {}),
        },
      );
      log(`validation summary: ${summaryPath}`);
    }
    return { foldDir, modelDir, state, summaryPath };
  } finally {
    await loader?.close();
    await close();
  }
}

function describeEpoch(e: EpochLog): string {
  const f = (v: number | null): string => (v === null ? 'nan' : v.toFixed(4));
  return (
    `epoch ${e.epoch}: train loss ${f(e.trainLoss)}, pseudo-Dice ${f(e.meanPseudoDice)} ` +
    `(EMA ${f(e.emaPseudoDice)}), lr ${e.lr.toExponential(3)}, ${e.seconds.toFixed(1)} s`
  );
}

const nodeFs: CheckpointFs = {
  exists,
  makeDir: (path) => mkdirSync(path, { recursive: true }),
  remove: (path) => {
    rmSync(path, { recursive: true, force: true });
  },
  rename: renameSync,
  write: writeFileSync,
};

export const checkpointDir = (foldDir: string, name: CheckpointName): string =>
  findCheckpointDir(nodeFs, foldDir, name);

export function saveCheckpoint(
  foldDir: string,
  name: CheckpointName,
  model: LoadedModel,
  optimizer: SgdOptimizer,
  state: TrainerState,
): string {
  return writeCheckpointDir(nodeFs, join(foldDir, name), checkpointFiles(model, optimizer, state));
}

/** log.jsonl (rewritten from the state, so it always matches checkpoint_latest) and progress.png. */
export function saveEpochOutputs(foldDir: string, state: TrainerState): void {
  writeAtomic(join(foldDir, 'log.jsonl'), state.log.map(logLine).join(''));
  writeAtomic(join(foldDir, 'progress.png'), renderCurve(state.log));
}

/** Sliding-window prediction of the validation cases, their NIfTIs and summary.json; returns its path. */
async function validateFold(
  datasetDir: string,
  desc: DatasetDescription,
  keys: readonly string[],
  model: LoadedModel,
  backend: Backend,
  outDir: string,
  opts: { tta: boolean; onProgress?: ProgressListener },
): Promise<string> {
  const network = evalNetwork(model.arch, model.weights, backend);
  const d = modelDefaults(model);
  const labels = desc.json.labels.allLabels.filter((v) => v > 0);
  const cases: CaseResult[] = [];
  for (const [i, key] of keys.entries()) {
    opts.onProgress?.({ stage: 'validation', done: i, total: keys.length, message: key });
    const c = desc.cases.find((x) => x.id === key);
    if (c === undefined) fail('NOT_FOUND', `validation case ${key} is not in the dataset`);
    const { volume, spacingZYX, label } = readCaseVolume(datasetDir, c);
    const [, z, y, x] = volume.shape;
    const r = await validateCase(volume, spacingZYX, label.data, labels, {
      network,
      inputChannels: model.arch.inputChannels,
      patchSizeZYX: d.patchSizeZYX,
      plans: d.plans,
      mode: d.mode,
      mirrorAxes: opts.tta ? d.mirrorAxes : [],
    });
    const predPath = join(outDir, `${key}${desc.json.fileEnding}`);
    writeAtomic(
      predPath,
      writeNifti(volumeToNifti({ data: r.labels as Uint8Array, shape: [1, z, y, x] }, label)),
    );
    cases.push({
      reference_file: join(datasetDir, c.label ?? ''),
      prediction_file: predPath,
      metrics: r.metrics,
    });
  }
  opts.onProgress?.({ stage: 'validation', done: keys.length, total: keys.length });
  const path = join(outDir, 'summary.json');
  writeAtomic(path, summaryToJson(summarize(cases)));
  return path;
}
