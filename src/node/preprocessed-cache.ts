/**
 * The preprocessed cache on disk: `<dir>/<case>.f32` (C, Z, Y, X) float32 LE, `<case>.i8|.i16` (Z, Y, X)
 * and `<case>.json` (CachedCaseProperties), plus `cache.json` naming the plans. Writing is idempotent: a
 * case whose JSON carries the same plans identifier (and whose arrays exist) is skipped. Reading is by
 * box: CachedCaseReader reads only the z-slabs a patch needs with positioned reads.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Sample, Vec3 } from '../augmentation/sample.js';
import { fail } from '../errors.js';
import type { DatasetDescription } from '../io/dataset.js';
import type { NiftiImage } from '../io/nifti.js';
import { niftiToVolume } from '../io/nifti-volume.js';
import type { Volume } from '../io/volume.js';
import { defaultMeta } from '../model/loaded-model.js';
import type { NnunetPlans } from '../planning/plans.js';
import {
  parseCachedProperties,
  plansIdentifier,
  preprocessTrainingCase,
  type CachedCaseProperties,
} from '../preprocessing/cache.js';
import type { PreprocessPlans } from '../preprocessing/pipeline.js';
import type { PreprocessedCase } from '../training/loader.js';
import { deriveSeed } from '../augmentation/rng.js';
import { isLittleEndian } from '../util/endian.js';
import type { ProgressListener } from '../util/progress.js';
import { readCase } from './dataset-files.js';
import { exists, readBytes, readText, writeAllAtomic, writeAtomic } from './fs.js';
import { modelDefaults } from './predict-model.js';

/** Seed of the class-location sampling (nnU-Net uses 1234); case i gets deriveSeed(seed, i). */
export const CLASS_LOCATION_SEED = 1234;

/**
 * The preprocessing a v2 plans object asks for, read exactly as `stunet predict` reads the plans in a
 * model folder's meta (modelDefaults), so training and prediction preprocess the same way.
 */
export function preprocessPlansFromNnunet(plans: NnunetPlans, configuration = '3d_fullres'): PreprocessPlans {
  const meta = {
    ...defaultMeta('stunet'),
    plans: plans as unknown as NonNullable<ReturnType<typeof defaultMeta>['plans']>,
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

const segExt = (p: CachedCaseProperties): string => (p.segDtype === 'int8' ? 'i8' : 'i16');
const paths = (dir: string, key: string, ext = 'i16'): { json: string; data: string; seg: string } => ({
  json: join(dir, `${key}.json`),
  data: join(dir, `${key}.f32`),
  seg: join(dir, `${key}.${ext}`),
});

function bytesOf(a: Float32Array | Int8Array | Int16Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** The case's properties when it is done with these plans; null when it must be (re)made. */
export function cachedCaseIfCurrent(dir: string, key: string, plansId: string): CachedCaseProperties | null {
  const jsonPath = join(dir, `${key}.json`);
  if (!exists(jsonPath)) return null;
  let p: CachedCaseProperties;
  try {
    p = parseCachedProperties(readText(jsonPath), jsonPath);
  } catch {
    return null;
  }
  if (p.plansId !== plansId) return null;
  const f = paths(dir, key, segExt(p));
  const n = p.shapeZYX[0] * p.shapeZYX[1] * p.shapeZYX[2];
  const bytes = (path: string): number => (exists(path) ? statSync(path).size : -1);
  if (bytes(f.data) !== 4 * n * p.channels || bytes(f.seg) !== n * (p.segDtype === 'int8' ? 1 : 2))
    return null;
  return p;
}

export interface CacheReport {
  readonly keys: string[];
  readonly made: number;
  readonly skipped: number;
}

/** A case's channels stacked into nnU-Net's (C, Z, Y, X), its spacing, and its label image. */
export function readCaseVolume(
  datasetDir: string,
  c: DatasetDescription['cases'][number],
): { volume: Volume; spacingZYX: Vec3; label: NiftiImage } {
  const { images, label } = readCase(datasetDir, c);
  const views = images.map((im) => niftiToVolume(im));
  const first = views[0];
  if (first === undefined) fail('NOT_FOUND', `${c.id}: no image files`);
  const [, z, y, x] = first.volume.shape;
  const vox = z * y * x;
  const data = new Float32Array(views.length * vox);
  views.forEach((v, ch) => {
    if (v.volume.data.length !== vox) fail('SHAPE_MISMATCH', `${c.id}: channel ${ch} differs in shape`);
    data.set(v.volume.data, ch * vox);
  });
  return { volume: { data, shape: [views.length, z, y, x] }, spacingZYX: first.spacingZYX, label };
}

/** Preprocesses every case of the dataset into `cacheDir` (idempotent). */
export function preprocessDatasetToCache(
  datasetDir: string,
  desc: DatasetDescription,
  plans: PreprocessPlans,
  cacheDir: string,
  opts: { onProgress?: ProgressListener; seed?: number } = {},
): CacheReport {
  if (!isLittleEndian()) fail('UNSUPPORTED', 'the preprocessed cache needs a little-endian host');
  const plansId = plansIdentifier(plans);
  const classes = desc.json.labels.allLabels.filter((v) => v > 0);
  let made = 0;
  let skipped = 0;
  const keys: string[] = [];
  desc.cases.forEach((c, i) => {
    keys.push(c.id);
    opts.onProgress?.({ stage: 'preprocess', done: i, total: desc.cases.length, message: c.id });
    if (cachedCaseIfCurrent(cacheDir, c.id, plansId) !== null) {
      skipped++;
      return;
    }
    const { volume, spacingZYX, label } = readCaseVolume(datasetDir, c);
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
    const f = paths(cacheDir, c.id, segExt(r.properties));
    // Arrays first, then the JSON that marks the case done.
    writeAllAtomic([
      { path: f.data, data: bytesOf(r.data) },
      { path: f.seg, data: bytesOf(r.seg) },
    ]);
    writeAtomic(f.json, `${JSON.stringify(r.properties)}\n`);
    made++;
  });
  writeAtomic(join(cacheDir, 'cache.json'), `${JSON.stringify({ plansId, plans, cases: keys }, null, 1)}\n`);
  opts.onProgress?.({ stage: 'preprocess', done: desc.cases.length, total: desc.cases.length });
  return { keys, made, skipped };
}

/** Reads boxes of one cached case without loading it whole. Close it when done. */
export class CachedCaseReader {
  readonly properties: CachedCaseProperties;
  private dataFd: number | null;
  private segFd: number | null;

  constructor(dir: string, key: string) {
    const f0 = paths(dir, key);
    this.properties = parseCachedProperties(readText(f0.json, 'cached case'), f0.json);
    const f = paths(dir, key, segExt(this.properties));
    this.dataFd = openSync(f.data, 'r');
    this.segFd = openSync(f.seg, 'r');
  }

  /**
   * The box [lower, lower + size) as a Sample; outside the case data 0 and seg −1 (what cropPadded
   * gives for the loaded case). Reads the needed z-range once per channel.
   */
  readBox(lower: Vec3, size: Vec3): Sample {
    if (this.dataFd === null || this.segFd === null) fail('RUNTIME', 'cached case reader is closed');
    const p = this.properties;
    const [n0, n1, n2] = p.shapeZYX;
    const [s0, s1, s2] = size;
    const out = new Float32Array(p.channels * s0 * s1 * s2);
    const seg = new Int16Array(s0 * s1 * s2).fill(-1);
    const z0 = Math.max(0, lower[0]);
    const z1 = Math.min(n0, lower[0] + s0);
    if (z1 <= z0) return { channels: p.channels, shapeZYX: size, data: out, seg };
    const plane = n1 * n2;
    const segBytes = p.segDtype === 'int8' ? 1 : 2;
    const slabData = new Float32Array((z1 - z0) * plane);
    const slabSegBytes = new Uint8Array((z1 - z0) * plane * segBytes);
    const slabSeg = segBytes === 1 ? new Int8Array(slabSegBytes.buffer) : new Int16Array(slabSegBytes.buffer);
    readFully(this.segFd, slabSegBytes, z0 * plane * segBytes);
    const y0 = Math.max(0, lower[1]);
    const y1 = Math.min(n1, lower[1] + s1);
    const x0 = Math.max(0, lower[2]);
    const x1 = Math.min(n2, lower[2] + s2);
    for (let ch = 0; ch < p.channels; ch++) {
      readFully(this.dataFd, bytesOf(slabData), 4 * (ch * n0 + z0) * plane);
      for (let z = z0; z < z1; z++)
        for (let y = y0; y < y1; y++) {
          const from = (z - z0) * plane + y * n2;
          const to = ((z - lower[0]) * s1 + (y - lower[1])) * s2 - lower[2] + ch * s0 * s1 * s2;
          out.set(slabData.subarray(from + x0, from + x1), to + x0);
          if (ch === 0) for (let x = x0; x < x1; x++) seg[to + x] = slabSeg[from + x] as number;
        }
    }
    return { channels: p.channels, shapeZYX: size, data: out, seg };
  }

  close(): void {
    if (this.dataFd !== null) closeSync(this.dataFd);
    if (this.segFd !== null) closeSync(this.segFd);
    this.dataFd = null;
    this.segFd = null;
  }
}

function readFully(fd: number, into: Uint8Array, position: number): void {
  let done = 0;
  while (done < into.length) {
    const n = readSync(fd, into, done, into.length - done, position + done);
    if (n === 0) fail('BAD_INPUT', 'preprocessed cache: file shorter than its properties say');
    done += n;
  }
}

/** A whole cached case as the in-memory loader takes it. */
export function loadCachedCase(dir: string, key: string): PreprocessedCase {
  const f0 = paths(dir, key);
  const p = parseCachedProperties(readText(f0.json, 'cached case'), f0.json);
  const f = paths(dir, key, segExt(p));
  const raw = readBytes(f.data, 'cached data');
  const segRaw = readBytes(f.seg, 'cached seg');
  const data = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const segBuf = segRaw.buffer.slice(segRaw.byteOffset, segRaw.byteOffset + segRaw.byteLength);
  const seg = p.segDtype === 'int8' ? new Int8Array(segBuf) : new Int16Array(segBuf);
  const n = p.shapeZYX[0] * p.shapeZYX[1] * p.shapeZYX[2];
  if (data.length !== n * p.channels || seg.length !== n)
    fail('BAD_INPUT', `cached case ${key}: array sizes do not match its properties`);
  const classLocations = new Map<number, number[]>();
  for (const [k, v] of Object.entries(p.classLocations)) classLocations.set(Number(k), v);
  return { key, channels: p.channels, shapeZYX: p.shapeZYX, data, seg, classLocations };
}
