/**
 * The preprocessed cache's files (jobs/preprocessed-cache.ts writes them): `<key>.json` (properties and
 * class locations), `<key>.f32` (data, (C, Z, Y, X) float32) and `<key>.i8|.i16` (seg). Naming, checked
 * sizes and whole-case reads over a FileStore; box reads with positioned I/O are the host's
 * (src/node/preprocessed-cache-reader.ts).
 */
import { parseCachedProperties, type CachedCaseProperties, type SegDtype } from '../preprocessing/cache.js';
import type { PreprocessedCase } from '../training/loader.js';
import { fail } from '../util/errors.js';
import type { Vec3 } from '../util/vec3.js';
import { readText, type FileStore } from './store.js';

export const segExtOf = (dtype: SegDtype): string => (dtype === 'int8' ? 'i8' : 'i16');
export const segBytesOf = (dtype: SegDtype): number => (dtype === 'int8' ? 1 : 2);

/** The files of case `key` in cache `dir` (seg extension from its dtype). */
export function cachedCasePaths(
  store: FileStore,
  dir: string,
  key: string,
  segDtype: SegDtype = 'int16',
): { json: string; data: string; seg: string } {
  return {
    json: store.join(dir, `${key}.json`),
    data: store.join(dir, `${key}.f32`),
    seg: store.join(dir, `${key}.${segExtOf(segDtype)}`),
  };
}

/**
 * What opening a cached case needs, without its class locations (structured-cloneable: the training
 * thread reads it once and hands it to the loader workers).
 */
export interface CachedCaseInfo {
  readonly dir: string;
  readonly key: string;
  readonly channels: number;
  readonly shapeZYX: Vec3;
  readonly segDtype: SegDtype;
  /** Bytes of data + seg on disk. */
  readonly bytes: number;
}

export function readCachedProperties(store: FileStore, dir: string, key: string): CachedCaseProperties {
  const json = cachedCasePaths(store, dir, key).json;
  return parseCachedProperties(readText(store, json, 'cached case'), json);
}

export function cachedInfoOf(dir: string, key: string, p: CachedCaseProperties): CachedCaseInfo {
  const [n0, n1, n2] = p.shapeZYX;
  const n = n0 * n1 * n2;
  return {
    dir,
    key,
    channels: p.channels,
    shapeZYX: [n0, n1, n2],
    segDtype: p.segDtype,
    bytes: n * (4 * p.channels + segBytesOf(p.segDtype)),
  };
}

/** Reads `<key>.json` and checks that the arrays on disk have the sizes it states. */
export function cachedCaseInfo(store: FileStore, dir: string, key: string): CachedCaseInfo {
  const p = readCachedProperties(store, dir, key);
  const info = cachedInfoOf(dir, key, p);
  const f = cachedCasePaths(store, dir, key, p.segDtype);
  const [n0, n1, n2] = info.shapeZYX;
  const n = n0 * n1 * n2;
  const size = (path: string): number => store.size(path);
  if (size(f.data) !== 4 * n * info.channels || size(f.seg) !== n * segBytesOf(info.segDtype))
    fail('BAD_INPUT', `cached case ${key}: array sizes do not match its properties`);
  return info;
}

/** A whole cached case as the in-memory loader takes it. */
export function loadCachedCase(store: FileStore, dir: string, key: string): PreprocessedCase {
  const p = readCachedProperties(store, dir, key);
  const f = cachedCasePaths(store, dir, key, p.segDtype);
  const raw = store.read(f.data, 'cached data');
  const segRaw = store.read(f.seg, 'cached seg');
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
