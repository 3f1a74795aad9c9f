/**
 * The preprocessed cache in a FileStore: `<dir>/<case>.f32` (C, Z, Y, X) float32 LE, `<case>.i8|.i16` (Z, Y, X)
 * and `<case>.json` (CachedCaseProperties), plus `cache.json` naming the plans. Writing is idempotent: a
 * case whose JSON carries the same plans identifier (and whose arrays exist) is skipped. Reading (by box,
 * or whole cases) is cache-files.ts and the host's box reader (src/node/preprocessed-cache-reader.ts).
 */
import { fail } from '../util/errors.js';
import type { DatasetDescription } from '../io/dataset.js';
import { niftiToVolume } from '../io/nifti-volume.js';
import { defaultMeta } from '../model/loaded-model.js';
import { toJsonValue } from '../util/json.js';
import type { NnunetPlans } from '../planning/plans.js';
import {
  parseCachedProperties,
  plansIdentifier,
  preprocessTrainingCase,
  type CachedCaseProperties,
} from '../preprocessing/cache.js';
import type { PreprocessPlans } from '../preprocessing/pipeline.js';
import { deriveSeed } from '../augmentation/rng.js';
import { isLittleEndian } from '../util/endian.js';
import type { ProgressListener } from '../util/progress.js';
import { cachedCasePaths } from './cache-files.js';
import { readCaseVolume } from './datasets.js';
import { readText, type FileStore } from './store.js';
import { modelDefaults } from '../inference/model-defaults.js';

/** Seed of the class-location sampling (nnU-Net uses 1234); case i gets deriveSeed(seed, i). */
export const CLASS_LOCATION_SEED = 1234;

/**
 * The preprocessing a v2 plans object asks for, read exactly as `stunet predict` reads the plans in a
 * model folder's meta (modelDefaults), so training and prediction preprocess the same way.
 */
export function preprocessPlansFromNnunet(plans: NnunetPlans, configuration = '3d_fullres'): PreprocessPlans {
  const meta = {
    ...defaultMeta('stunet'),
    plans: toJsonValue(plans),
    configuration,
  };
  const arch = {
    inputChannels: 1,
    numClasses: 2,
    depth: [],
    dims: [],
    poolOpKernelSizes: [],
    convKernelSizes: [],
  };
  return modelDefaults({ arch, weights: new Map(), meta }).plans;
}

function bytesOf(a: Float32Array | Int8Array | Int16Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** The case's properties when it is done with these plans; null when it must be (re)made. */
export function cachedCaseIfCurrent(
  store: FileStore,
  dir: string,
  key: string,
  plansId: string,
): CachedCaseProperties | null {
  const jsonPath = store.join(dir, `${key}.json`);
  if (!store.exists(jsonPath)) return null;
  let p: CachedCaseProperties;
  try {
    p = parseCachedProperties(readText(store, jsonPath), jsonPath);
  } catch {
    return null;
  }
  if (p.plansId !== plansId) return null;
  const f = cachedCasePaths(store, dir, key, p.segDtype);
  const n = p.shapeZYX[0] * p.shapeZYX[1] * p.shapeZYX[2];
  const bytes = (path: string): number => store.size(path);
  if (bytes(f.data) !== 4 * n * p.channels || bytes(f.seg) !== n * (p.segDtype === 'int8' ? 1 : 2))
    return null;
  return p;
}

export interface CacheReport {
  readonly keys: string[];
  readonly made: number;
  readonly skipped: number;
}

/** Preprocesses every case of the dataset into `cacheDir` (idempotent). */
export function preprocessDatasetToCache(
  store: FileStore,
  datasetDir: string,
  desc: DatasetDescription,
  plans: PreprocessPlans,
  cacheDir: string,
  opts: { onProgress?: ProgressListener; seed?: number } = {},
): CacheReport {
  if (!isLittleEndian()) fail('UNSUPPORTED', 'the preprocessed cache needs a little-endian host');
  const plansId = plansIdentifier(plans);
  store.cleanFolder?.(cacheDir); // leftovers of a run killed mid-write; other live runs' files are kept
  const classes = desc.json.labels.allLabels.filter((v) => v > 0);
  let made = 0;
  let skipped = 0;
  const keys: string[] = [];
  desc.cases.forEach((c, i) => {
    keys.push(c.id);
    opts.onProgress?.({ stage: 'preprocess', done: i, total: desc.cases.length, message: c.id });
    if (cachedCaseIfCurrent(store, cacheDir, c.id, plansId) !== null) {
      skipped++;
      return;
    }
    const { volume, spacingZYX, label } = readCaseVolume(store, datasetDir, c);
    const seg = niftiToVolume(label).volume;
    const [, z, y, x] = volume.shape;
    if (seg.data.length !== z * y * x) fail('SHAPE_MISMATCH', `${c.id}: label shape differs from the image`);
    const r = preprocessTrainingCase(
      c.id,
      volume,
      { data: Int16Array.from(seg.data), shape: [1, z, y, x] },
      spacingZYX,
      plans,
      classes,
      deriveSeed(opts.seed ?? CLASS_LOCATION_SEED, i),
    );
    const f = cachedCasePaths(store, cacheDir, c.id, r.properties.segDtype);
    // Arrays first, then the JSON that marks the case done.
    store.writeAll([
      { path: f.data, data: bytesOf(r.data) },
      { path: f.seg, data: bytesOf(r.seg) },
    ]);
    store.writeAll([{ path: f.json, data: `${JSON.stringify(r.properties)}\n` }]);
    made++;
  });
  store.writeAll([
    {
      path: store.join(cacheDir, 'cache.json'),
      data: `${JSON.stringify({ plansId, plans, cases: keys }, null, 1)}\n`,
    },
  ]);
  opts.onProgress?.({ stage: 'preprocess', done: desc.cases.length, total: desc.cases.length });
  return { keys, made, skipped };
}
