/**
 * Boxes of a preprocessed cache's case read from disk with positioned reads of just the rows they cover
 * (CachedCaseReader, CachedCaseSource): the Node host's patch reader (files: src/jobs/cache-files.ts).
 * Kept apart from the writer so loader workers load only this.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { Sample } from '../augmentation/sample.js';
import {
  cachedCasePaths,
  cachedInfoOf,
  readCachedProperties,
  segBytesOf,
  type CachedCaseInfo,
} from '../jobs/cache-files.js';
import type { CachedCaseProperties } from '../preprocessing/cache.js';
import type { CaseSource } from '../training/loader.js';
import { fail } from '../util/errors.js';
import { isLittleEndian } from '../util/endian.js';
import type { Vec3 } from '../util/vec3.js';
import { nodeStore } from './file-store.js';

function readFully(fd: number, into: Uint8Array, position: number): void {
  let done = 0;
  while (done < into.length) {
    const n = readSync(fd, into, done, into.length - done, position + done);
    if (n === 0) fail('BAD_INPUT', 'preprocessed cache: file shorter than its properties say');
    done += n;
  }
}

/** Voxels of a row a box may skip and still be read with its rows in one block (see readBoxFrom). */
export const ROW_SKIP_LIMIT = 4096;

/**
 * The box [lower, lower + size) of a cached case from its open files; outside the case data 0 and seg
 * −1 (what cropPadded gives for the loaded case). Per z-plane (and channel) one read of the whole rows
 * y0…y1, or — when the box skips more than ROW_SKIP_LIMIT voxels of each row — one read per row; never
 * more than the planes the box covers.
 */
function readBoxFrom(
  dataFd: number,
  segFd: number,
  info: Pick<CachedCaseInfo, 'channels' | 'shapeZYX' | 'segDtype'>,
  lower: Vec3,
  size: Vec3,
  rowSkipLimit = ROW_SKIP_LIMIT,
): Sample {
  const { channels } = info;
  const [n0, n1, n2] = info.shapeZYX;
  const [s0, s1, s2] = size;
  const nOut = s0 * s1 * s2;
  const data = new Float32Array(channels * nOut);
  const seg = new Int16Array(nOut).fill(-1);
  const out: Sample = { channels, shapeZYX: size, data, seg };
  const [z0, z1] = [Math.max(0, lower[0]), Math.min(n0, lower[0] + s0)];
  const [y0, y1] = [Math.max(0, lower[1]), Math.min(n1, lower[1] + s1)];
  const [x0, x1] = [Math.max(0, lower[2]), Math.min(n2, lower[2] + s2)];
  if (z1 <= z0 || y1 <= y0 || x1 <= x0) return out;
  const rows = y1 - y0;
  const w = x1 - x0;
  // a read costs about as much as copying ~16 KiB: skipping less than that per row is not worth a read
  const block = n2 - w <= rowSkipLimit;
  const rowLen = block ? n2 : w;
  const xOff = block ? x0 : 0;
  const scratch = new ArrayBuffer(rows * rowLen * 4);
  const bytes = new Uint8Array(scratch);
  const f32 = new Float32Array(scratch);
  const segBytes = segBytesOf(info.segDtype);
  const segView = segBytes === 1 ? new Int8Array(scratch) : new Int16Array(scratch);
  /** Rows y0…y1 (x0…x1 at least) of plane `plane` (= channel·n0 + z) into the scratch. */
  const readRows = (fd: number, elem: number, plane: number): void => {
    const base = (plane * n1 + y0) * n2;
    if (block) readFully(fd, bytes.subarray(0, rows * n2 * elem), base * elem);
    else
      for (let r = 0; r < rows; r++)
        readFully(fd, bytes.subarray(r * w * elem, (r + 1) * w * elem), (base + r * n2 + x0) * elem);
  };
  for (let z = z0; z < z1; z++) {
    const toPlane = (z - lower[0]) * s1;
    for (let ch = 0; ch < channels; ch++) {
      readRows(dataFd, 4, ch * n0 + z);
      for (let r = 0; r < rows; r++) {
        const from = r * rowLen + xOff;
        data.set(
          f32.subarray(from, from + w),
          ch * nOut + (toPlane + y0 + r - lower[1]) * s2 + x0 - lower[2],
        );
      }
    }
    readRows(segFd, segBytes, z);
    for (let r = 0; r < rows; r++) {
      const from = r * rowLen + xOff;
      const to = (toPlane + y0 + r - lower[1]) * s2 + x0 - lower[2];
      for (let x = 0; x < w; x++) seg[to + x] = segView[from + x] as number;
    }
  }
  return out;
}

function openCase(info: CachedCaseInfo): { dataFd: number; segFd: number } {
  if (!isLittleEndian()) fail('UNSUPPORTED', 'the preprocessed cache needs a little-endian host');
  const f = cachedCasePaths(nodeStore, info.dir, info.key, info.segDtype);
  const dataFd = openSync(f.data, 'r');
  try {
    return { dataFd, segFd: openSync(f.seg, 'r') };
  } catch (e) {
    closeSync(dataFd);
    throw e;
  }
}

/**
 * Reads boxes of one cached case without loading it whole, files held open. Close it when done.
 * `rowSkipLimit` (tests) switches between block and per-row reads (see readBoxFrom).
 */
export class CachedCaseReader {
  readonly properties: CachedCaseProperties;
  private fds: { dataFd: number; segFd: number } | null;

  constructor(
    dir: string,
    key: string,
    private readonly rowSkipLimit = ROW_SKIP_LIMIT,
  ) {
    this.properties = readCachedProperties(nodeStore, dir, key);
    this.fds = openCase(cachedInfoOf(dir, key, this.properties));
  }

  /** The box [lower, lower + size) as a Sample (see readBoxFrom). */
  readBox(lower: Vec3, size: Vec3): Sample {
    if (this.fds === null) fail('RUNTIME', 'cached case reader is closed');
    return readBoxFrom(this.fds.dataFd, this.fds.segFd, this.properties, lower, size, this.rowSkipLimit);
  }

  close(): void {
    if (this.fds !== null) {
      closeSync(this.fds.dataFd);
      closeSync(this.fds.segFd);
    }
    this.fds = null;
  }
}

/** Class locations of the last few cases asked for (they can be large: up to 10000 voxels per class). */
const LOCATION_CACHE_SIZE = 8;
const locationCache = new Map<string, ReadonlyMap<number, Int32Array>>();

function classLocationsOf(dir: string, key: string): ReadonlyMap<number, Int32Array> {
  const id = join(dir, key);
  const hit = locationCache.get(id);
  if (hit !== undefined) {
    locationCache.delete(id);
    locationCache.set(id, hit);
    return hit;
  }
  const p = readCachedProperties(nodeStore, dir, key);
  const m = new Map<number, Int32Array>();
  for (const [k, v] of Object.entries(p.classLocations)) m.set(Number(k), Int32Array.from(v));
  locationCache.set(id, m);
  for (const old of locationCache.keys()) {
    if (locationCache.size <= LOCATION_CACHE_SIZE) break;
    locationCache.delete(old);
  }
  return m;
}

/**
 * A cached case as the loader's CaseSource, read from disk on demand: each box opens the two files,
 * reads the rows it covers and closes them (no descriptors held across a large data set); class
 * locations are read from the JSON when a forced-foreground patch needs them (a few cases memoised).
 */
export class CachedCaseSource implements CaseSource {
  readonly key: string;
  readonly channels: number;
  readonly shapeZYX: Vec3;
  constructor(readonly info: CachedCaseInfo) {
    this.key = info.key;
    this.channels = info.channels;
    this.shapeZYX = info.shapeZYX;
  }

  classLocations(): ReadonlyMap<number, ArrayLike<number>> {
    return classLocationsOf(this.info.dir, this.info.key);
  }

  readBox(lower: Vec3, size: Vec3): Sample {
    const { dataFd, segFd } = openCase(this.info);
    try {
      return readBoxFrom(dataFd, segFd, this.info, lower, size);
    } finally {
      closeSync(dataFd);
      closeSync(segFd);
    }
  }
}
