/**
 * `stunet train`, before the weights: the options, dataset → plans (planned here unless given, or the
 * run's own on --continue) → architecture (scale + overrides, pools from the plans) → memory check →
 * preprocessed cache → nnU-Net's 5-fold split. See train.ts for the whole run.
 */
import { fail } from '../util/errors.js';
import { failOnProblems, type DatasetDescription } from '../io/dataset.js';
import { divisibilityZYX, stunetPoolsFromPlans, type StunetArchitecture } from '../model/architecture.js';
import { KERNEL_3, SCALES, type ScaleName } from '../model/scales.js';
import { StuNet } from '../model/stunet.js';
import { planExperiment } from '../planning/planner.js';
import { configurationTopology, parsePlans, serializePlans, type NnunetPlans } from '../planning/plans.js';
import { stunetPlansFromDataset } from '../planning/presets.js';
import { estimateTrainingMemory, formatBytes } from '../model/memory.js';
import { FINETUNE_LR } from '../training/finetune.js';
import { NNUNET_SGD } from '../training/optimizer.js';
import { NNUNET_TRAINER_CONFIG, type TrainerConfig } from '../training/trainer.js';
import { crossValidationSplits } from '../training/validation.js';
import type { ProgressListener } from '../util/progress.js';
import { fingerprintDatasetDir, readDatasetDir } from './datasets.js';
import { preprocessDatasetToCache, preprocessPlansFromNnunet } from './preprocessed-cache.js';
import { MODEL_JSON, parseModelArchitecture } from '../checkpoint/model-folder.js';
import type { LoadedModel } from '../model/loaded-model.js';
import { loadModelFromStore } from './model-files.js';
import { readText, type FileStore } from './store.js';
import { checkpointDir } from './train-checkpoints.js';
import type { TrainHost } from './train-host.js';
import { vec3, type Vec3 } from '../util/vec3.js';

export interface TrainRunOptions {
  readonly datasetDir: string;
  /** The dataset's name in the plans (default: the last part of datasetDir). */
  readonly datasetName?: string;
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
  /** Default: the host's free memory (os.freemem() in Node). */
  readonly memoryLimitBytes?: number;
  /** Sliding-window validation of the fold's validation cases at the end (default true). */
  readonly finalValidation?: boolean;
  /** Mirror TTA in the final validation (default true, as nnU-Net). */
  readonly validationTta?: boolean;
  readonly onProgress?: ProgressListener;
  /** Stops the run between iterations with an AbortError (the last checkpoint stays; resume with continue). */
  readonly signal?: AbortSignal;
  readonly log?: (line: string) => void;
  /** Stop after this many epochs of this call (tests: simulate an interruption). */
  readonly stopAfterEpochs?: number;
  /**
   * Hold the preprocessed cases in memory (true) or read each patch from the cache on disk (false).
   * Default: in memory when the fold's cases take less than IN_MEMORY_CASES_BYTES (1 GiB) on disk.
   */
  readonly casesInMemory?: boolean;
}

function loadOrPlan(
  host: TrainHost,
  o: TrainRunOptions,
  desc: DatasetDescription,
  plansOut: string,
): NnunetPlans {
  const { store } = host;
  if (o.continue === true && store.exists(plansOut)) return parsePlans(readText(store, plansOut, 'plans'));
  if (o.plansPath !== undefined) return parsePlans(readText(store, o.plansPath, 'plans'));
  const { fingerprint } = fingerprintDatasetDir(
    store,
    o.datasetDir,
    o.fingerprintSamples === undefined ? {} : { samplesPerCase: o.fingerprintSamples },
  );
  const nnunet = planExperiment({
    fingerprint,
    channelNames: desc.json.channelNames,
    numLabels: Object.keys(desc.json.labels.declared).length,
    numTraining: desc.json.numTraining,
    datasetName: o.datasetName ?? store.basename(o.datasetDir),
  });
  return stunetPlansFromDataset(nnunet, {
    scale: o.scale,
    numClasses: desc.json.labels.allLabels.length,
    memoryBytes: o.memoryLimitBytes ?? host.freeMemoryBytes(),
  }).plans;
}

/** The network a run starts from: the checkpoint it continues, or the pre-trained model (loaded once). */
interface BaseNetwork {
  readonly arch: StunetArchitecture;
  readonly source: string;
  readonly pretrained: LoadedModel | null;
}

function baseNetwork(store: FileStore, o: TrainRunOptions, foldDir: string): BaseNetwork | null {
  if (o.continue === true) {
    const dir = checkpointDir(store, foldDir, 'checkpoint_latest');
    const json = readText(store, store.join(dir, MODEL_JSON), MODEL_JSON);
    return { arch: parseModelArchitecture(json), source: dir, pretrained: null };
  }
  if (o.pretrained === undefined) return null;
  const model = loadModelFromStore(store, o.pretrained);
  return { arch: model.arch, source: o.pretrained, pretrained: model };
}

/** A --dims/--depth flag that contradicts the checkpoint is an error naming both shapes. */
function checkAgainstBase(
  flag: string,
  given: readonly number[] | undefined,
  own: readonly number[],
  base: BaseNetwork,
): void {
  if (given === undefined || (given.length === own.length && given.every((v, i) => v === own[i]))) return;
  fail(
    'BAD_INPUT',
    `${flag} ${given.join(',')} does not match the network of '${base.source}' (${flag.slice(2)} ${own.join(',')}); ` +
      `drop ${flag}: the architecture is taken from the checkpoint`,
  );
}

/**
 * The network: dims and depth from the checkpoint a run continues or fine-tunes (flags may only repeat
 * them), else from the scale and its overrides; pools from the plans (or --pool), checked against the patch.
 */
function architectureFor(
  o: TrainRunOptions,
  plans: NnunetPlans,
  desc: DatasetDescription,
  patch: Vec3,
  base: BaseNetwork | null,
): StunetArchitecture {
  const preset = SCALES[o.scale];
  if (base !== null) {
    checkAgainstBase('--dims', o.dims, base.arch.dims, base);
    checkAgainstBase('--depth', o.depth, base.arch.depth, base);
  }
  const dims = o.dims ?? base?.arch.dims ?? preset.dims;
  const depth = o.depth ?? base?.arch.depth ?? (o.dims === undefined ? preset.depth : dims.map(() => 1));
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

export interface RunSetup {
  readonly desc: DatasetDescription;
  readonly plans: NnunetPlans;
  readonly arch: StunetArchitecture;
  readonly patch: Vec3;
  readonly batch: number;
  readonly cacheDir: string;
  readonly split: { readonly train: readonly string[]; readonly val: readonly string[] };
  readonly foldDir: string;
  readonly cfg: TrainerConfig;
  /** The pre-trained model (fine-tuning), loaded once. */
  readonly pretrained: LoadedModel | null;
}

/** Dataset → plans → architecture → memory check → cache → split (everything before the weights). */
export function setUpRun(host: TrainHost, o: TrainRunOptions, log: (line: string) => void): RunSetup {
  const { store } = host;
  const join = (...parts: string[]): string => store.join(...parts);
  const { desc, problems } = readDatasetDir(store, o.datasetDir);
  failOnProblems(problems, `dataset '${o.datasetDir}'`);
  if (desc === null) fail('BAD_INPUT', `dataset '${o.datasetDir}' could not be read`);
  const plansOut = join(o.outDir, 'plans.json');
  const planned = loadOrPlan(host, o, desc, plansOut);
  const topo = configurationTopology(planned);
  const patch = o.patch ?? vec3(topo.patchSize, 'plans: patch_size');
  const batch = o.batch ?? topo.batchSize;
  const foldDir = join(o.outDir, o.fold === 'all' ? 'fold_all' : `fold_${o.fold}`);
  const base = baseNetwork(store, o, foldDir);
  const arch = architectureFor(o, planned, desc, patch, base);
  const plans = withRun(planned, arch, patch, batch);
  checkMemory(arch, [batch, arch.inputChannels, ...patch], o.memoryLimitBytes ?? host.freeMemoryBytes());
  store.writeAll([{ path: plansOut, data: serializePlans(plans) }]);

  const cacheDir = join(o.outDir, 'preprocessed');
  const cache = preprocessDatasetToCache(
    store,
    o.datasetDir,
    desc,
    preprocessPlansFromNnunet(plans),
    cacheDir,
    o.onProgress ? { onProgress: o.onProgress } : {},
  );
  log(`preprocessed ${cache.made} case(s), ${cache.skipped} already done, in ${cacheDir}`);
  const all = [...cache.keys].sort();
  // fold 'all' needs no split (and works with fewer than 5 cases); the file is written when it exists.
  const splits = o.fold === 'all' && all.length < 5 ? [] : crossValidationSplits(all);
  if (splits.length > 0)
    store.writeAll([
      { path: join(o.outDir, 'splits_final.json'), data: `${JSON.stringify(splits, null, 1)}\n` },
    ]);
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
    foldDir,
    pretrained: base?.pretrained ?? null,
    cfg: {
      epochs: o.epochs ?? NNUNET_TRAINER_CONFIG.epochs,
      itersPerEpoch: o.iters ?? NNUNET_TRAINER_CONFIG.itersPerEpoch,
      valBatches: o.valBatches ?? NNUNET_TRAINER_CONFIG.valBatches,
      initialLr: o.lr ?? (o.pretrained !== undefined ? FINETUNE_LR : NNUNET_SGD.lr),
    },
  };
}
