/**
 * `stunet train`'s batches: the fold's cases from the preprocessed cache — held in memory when they are
 * small (below IN_MEMORY_CASES_BYTES on disk), else read patch by patch from the cache files
 * (CachedCaseSource: only the rows a patch covers) — and the loaders over them: the training stream
 * (worker threads, or inline) and the validation batches of the pseudo-Dice. Either way batch b is
 * makeBatch(cases, cfg, seed, b): the same numbers from memory or from disk.
 */
import { defaultAugmentationParams, type TrainingBatch } from '../augmentation/pipeline.js';
import { deriveSeed } from '../augmentation/rng.js';
import { deepSupervisionScales } from '../model/deep-supervision.js';
import {
  defaultLoaderConfig,
  InlineBatchLoader,
  makeBatch,
  type BatchLoader,
  type LoaderCase,
  type PreprocessedCase,
} from '../training/loader.js';
import { cachedCaseInfo, loadCachedCase, type CachedCaseInfo } from './cache-files.js';
import type { TrainHost } from './train-host.js';
import type { RunSetup, TrainRunOptions } from './train-setup.js';

/** Below this many bytes of cached arrays (training + validation cases), cases are held in memory. */
export const IN_MEMORY_CASES_BYTES = 2 ** 30;

export interface TrainingData {
  /** Training batches from `startBatch` on (the run's batchesConsumed). */
  readonly trainLoader: BatchLoader;
  /** Validation batch i of epoch e (no augmentation). */
  readonly valBatch: (epoch: number, i: number) => TrainingBatch;
  /** Whether the cases are held in memory (else read from the cache per patch). */
  readonly inMemory: boolean;
  close(): Promise<void>;
}

type FoldCases =
  | { readonly inMemory: true; readonly train: PreprocessedCase[]; readonly val: PreprocessedCase[] }
  | { readonly inMemory: false; readonly train: CachedCaseInfo[]; readonly val: CachedCaseInfo[] };

/** The fold's cases, in memory or as cache entries (keys in both train and val are read once). */
function foldCases(host: TrainHost, o: TrainRunOptions, s: RunSetup): FoldCases {
  const keys = [...new Set([...s.split.train, ...s.split.val])];
  const infos = new Map(keys.map((k) => [k, cachedCaseInfo(host.store, s.cacheDir, k)]));
  const bytes = [...infos.values()].reduce((a, i) => a + i.bytes, 0);
  if (!(o.casesInMemory ?? bytes < IN_MEMORY_CASES_BYTES)) {
    const info = (k: string): CachedCaseInfo => infos.get(k) as CachedCaseInfo;
    return { inMemory: false, train: s.split.train.map(info), val: s.split.val.map(info) };
  }
  const loaded = new Map(keys.map((k) => [k, loadCachedCase(host.store, s.cacheDir, k)]));
  const get = (k: string): PreprocessedCase => loaded.get(k) as PreprocessedCase;
  return { inMemory: true, train: s.split.train.map(get), val: s.split.val.map(get) };
}

const sources = (host: TrainHost, c: FoldCases, which: 'train' | 'val'): LoaderCase[] =>
  c.inMemory ? c[which] : c[which].map((i) => host.openCachedCase(i));

/** The training stream (batch b = makeBatch(cases, cfg, deriveSeed(seed, 1), b)) and validation batches. */
export function openTrainingData(
  host: TrainHost,
  o: TrainRunOptions,
  s: RunSetup,
  startBatch: number,
): TrainingData {
  const cases = foldCases(host, o, s);
  const dsScales = deepSupervisionScales(s.arch.poolOpKernelSizes);
  const config = defaultLoaderConfig(s.patch, s.batch, defaultAugmentationParams(s.patch), dsScales);
  const seed = deriveSeed(o.seed, 1);
  const workers = o.workers ?? host.defaultLoaderWorkers();
  const trainLoader =
    workers === 0
      ? new InlineBatchLoader(sources(host, cases, 'train'), config, seed, startBatch)
      : host.workerLoader({ cases: cases.train, config, seed, workers, startBatch });
  const val = sources(host, cases, 'val');
  const valCfg = defaultLoaderConfig(s.patch, s.batch, null, []);
  const valSeed = deriveSeed(o.seed, 2);
  return {
    trainLoader,
    inMemory: cases.inMemory,
    valBatch: (epoch, i) => makeBatch(val, valCfg, valSeed, epoch * s.cfg.valBatches + i),
    close: () => trainLoader.close(),
  };
}
