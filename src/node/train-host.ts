/**
 * `stunet train` on disk: the train job (src/jobs/train.ts) with the Node host: the disk, os.freemem(),
 * positioned reads of the preprocessed cache and loader workers on worker_threads.
 */
import { availableParallelism, freemem } from 'node:os';
import { basename, resolve } from 'node:path';
import {
  trainRun as runTrainJob,
  type TrainHost,
  type TrainRunOptions,
  type TrainRunResult,
} from '../jobs/train.js';
import { nodeStore } from './file-store.js';
import { WorkerBatchLoader } from './loader-workers.js';
import { CachedCaseSource } from './preprocessed-cache-reader.js';
import { nodeRuntime } from './runtime.js';

export const nodeTrainHost: TrainHost = {
  store: nodeStore,
  runtime: nodeRuntime,
  freeMemoryBytes: freemem,
  defaultLoaderWorkers: () => Math.max(0, Math.min(4, availableParallelism() - 1)),
  openCachedCase: (info) => new CachedCaseSource(info),
  workerLoader: (r) => WorkerBatchLoader.create({ ...r, cases: [...r.cases] }),
};

/** trainRun on disk (the dataset's name is its folder's, also for a relative path such as '.'). */
export function trainRun(o: TrainRunOptions): Promise<TrainRunResult> {
  return runTrainJob(nodeTrainHost, { datasetName: basename(resolve(o.datasetDir)), ...o });
}

export type { TrainRunOptions, TrainRunResult };
