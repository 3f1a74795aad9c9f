/**
 * What `stunet train` asks of its host beyond files (FileStore) and the engine (Runtime): free memory,
 * the patch reader of the preprocessed cache, and background batch loaders. Node: src/node/train-host.ts.
 */
import type { BatchLoader, CaseSource, LoaderConfig, PreprocessedCase } from '../training/loader.js';
import type { CachedCaseInfo } from './cache-files.js';
import type { Runtime } from './runtime.js';
import type { FileStore } from './store.js';

export interface WorkerLoaderRequest {
  readonly cases: readonly (PreprocessedCase | CachedCaseInfo)[];
  readonly config: LoaderConfig;
  readonly seed: number;
  readonly workers: number;
  readonly startBatch: number;
}

export interface TrainHost {
  readonly store: FileStore;
  readonly runtime: Runtime;
  /** Bytes of memory free now (the default training memory limit). */
  freeMemoryBytes(): number;
  /** Loader workers when the options name none (0: batches are made inline). */
  defaultLoaderWorkers(): number;
  /** A cached case read patch by patch, without loading it whole. */
  openCachedCase(info: CachedCaseInfo): CaseSource;
  /** Batch b = makeBatch(cases, config, seed, b), made ahead in background workers. */
  workerLoader(request: WorkerLoaderRequest): BatchLoader;
}
