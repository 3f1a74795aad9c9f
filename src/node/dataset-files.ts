/** nnU-Net raw datasets on disk: the dataset jobs (src/jobs/datasets.ts) over the Node FileStore. */
import * as datasets from '../jobs/datasets.js';
import type { ConvertOptions } from '../jobs/datasets.js';
import type { DatasetDescription } from '../io/dataset.js';
import type { LabelSystem } from '../io/labels/index.js';
import { nodeStore } from './file-store.js';

type Case = DatasetDescription['cases'][number];

export const readDatasetDir = (dir: string): ReturnType<typeof datasets.readDatasetDir> =>
  datasets.readDatasetDir(nodeStore, dir);
export const validateDatasetDir = (dir: string): ReturnType<typeof datasets.validateDatasetDir> =>
  datasets.validateDatasetDir(nodeStore, dir);
export const readCase = (dir: string, c: Case): ReturnType<typeof datasets.readCase> =>
  datasets.readCase(nodeStore, dir, c);
export const convertMsd = (
  src: string,
  outRoot: string,
  opts: ConvertOptions = {},
): ReturnType<typeof datasets.convertMsd> => datasets.convertMsd(nodeStore, src, outRoot, opts);
export const convertTotalseg = (
  src: string,
  outRoot: string,
  opts: ConvertOptions & { system?: LabelSystem } = {},
): ReturnType<typeof datasets.convertTotalseg> => datasets.convertTotalseg(nodeStore, src, outRoot, opts);
export const fingerprintDatasetDir = (
  dir: string,
  opts: { samplesPerCase?: number | 'all' } = {},
): ReturnType<typeof datasets.fingerprintDatasetDir> => datasets.fingerprintDatasetDir(nodeStore, dir, opts);
