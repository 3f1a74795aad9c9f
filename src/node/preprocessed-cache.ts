/** The preprocessed cache on disk: the cache jobs over the Node FileStore, and the positioned box reader. */
import type { DatasetDescription } from '../io/dataset.js';
import * as files from '../jobs/cache-files.js';
import * as cache from '../jobs/preprocessed-cache.js';
import type { PreprocessPlans } from '../preprocessing/pipeline.js';
import type { PreprocessedCase } from '../training/loader.js';
import type { ProgressListener } from '../util/progress.js';
import { nodeStore } from './file-store.js';

export { CachedCaseReader, CachedCaseSource } from './preprocessed-cache-reader.js';
export { preprocessPlansFromNnunet, type CacheReport } from '../jobs/preprocessed-cache.js';
export type { CachedCaseInfo } from '../jobs/cache-files.js';

export const cachedCaseInfo = (dir: string, key: string): files.CachedCaseInfo =>
  files.cachedCaseInfo(nodeStore, dir, key);
export const loadCachedCase = (dir: string, key: string): PreprocessedCase =>
  files.loadCachedCase(nodeStore, dir, key);

export const preprocessDatasetToCache = (
  datasetDir: string,
  desc: DatasetDescription,
  plans: PreprocessPlans,
  cacheDir: string,
  opts: { onProgress?: ProgressListener; seed?: number } = {},
): cache.CacheReport => cache.preprocessDatasetToCache(nodeStore, datasetDir, desc, plans, cacheDir, opts);
