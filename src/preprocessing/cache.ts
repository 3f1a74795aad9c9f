/**
 * The preprocessed training cache, format side (browser-safe): one case = data (C, Z, Y, X) float32,
 * seg (Z, Y, X) int8/int16 with −1 outside the nonzero crop, and JSON properties with nnU-Net's
 * class_locations (nnU-Net v1 GenericPreprocessor._run_internal: up to 10000 voxels per class, at least
 * 1 % of the class, sampled without replacement, seeded). Raw little-endian arrays so a loader can read
 * a box with positioned reads of the z-range it needs (src/node/preprocessed-cache.ts).
 */
import { fail } from '../util/errors.js';
import type { Volume } from '../io/volume.js';
import { Rng } from '../util/random.js';
import { preprocessTestCase, type PreprocessPlans, type PreprocessProperties } from './pipeline.js';
import type { Vec3 } from '../util/vec3.js';

export const CACHE_FORMAT = 'stunet-preprocessed';
export const CACHE_VERSION = 1;
/** nnU-Net's num_samples and min_percent_coverage for class_locations. */
export const CLASS_LOCATION_SAMPLES = 10000;
export const CLASS_LOCATION_MIN_COVERAGE = 0.01;

export type SegDtype = 'int8' | 'int16';

/** `<case>.json` beside `<case>.f32` and `<case>.i8|.i16`. */
export interface CachedCaseProperties {
  readonly format: typeof CACHE_FORMAT;
  readonly version: number;
  /** plansIdentifier(plans): a case made with other plans is redone. */
  readonly plansId: string;
  readonly key: string;
  readonly channels: number;
  /** After cropping and resampling (transposed order). */
  readonly shapeZYX: [number, number, number];
  readonly segDtype: SegDtype;
  readonly preprocess: PreprocessProperties;
  /** Class → flat (z, y, x) triplets. */
  readonly classLocations: Record<string, number[]>;
}

export interface PreprocessedTrainingCase {
  readonly properties: CachedCaseProperties;
  /** (C, Z, Y, X). */
  readonly data: Float32Array;
  /** (Z, Y, X). */
  readonly seg: Int8Array | Int16Array;
}

/** cyrb53: a 53-bit string hash (not cryptographic; it only tells plans apart). */
export function hashString(s: string, seed = 0): string {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, '0');
}

/** Identifies what preprocessing produced a case: the plans entries it reads and the cache version. */
export function plansIdentifier(plans: PreprocessPlans): string {
  return hashString(JSON.stringify({ v: CACHE_VERSION, plans }));
}

/**
 * class_locations of nnU-Net v1: for each class c > 0, min(10000, n_c) voxels — but at least
 * ceil(1 % of n_c) — drawn without replacement (partial Fisher–Yates on our Rng, not numpy's).
 */
export function sampleClassLocations(
  seg: ArrayLike<number>,
  shapeZYX: Vec3,
  classes: readonly number[],
  rng: Rng,
  numSamples = CLASS_LOCATION_SAMPLES,
): Record<string, number[]> {
  const [, Y, X] = shapeZYX;
  const out: Record<string, number[]> = {};
  for (const c of classes) {
    if (c <= 0) continue;
    const idx: number[] = [];
    for (let i = 0; i < seg.length; i++) if (seg[i] === c) idx.push(i);
    const target = Math.min(
      idx.length,
      Math.max(Math.min(numSamples, idx.length), Math.ceil(idx.length * CLASS_LOCATION_MIN_COVERAGE)),
    );
    for (let i = 0; i < target; i++) {
      const j = i + Math.floor(rng.next() * (idx.length - i));
      const t = idx[i] as number;
      idx[i] = idx[j] as number;
      idx[j] = t;
    }
    const locs: number[] = [];
    for (const v of idx.slice(0, target).sort((a, b) => a - b))
      locs.push(Math.floor(v / (Y * X)), Math.floor(v / X) % Y, v % X);
    out[String(c)] = locs;
  }
  return out;
}

/**
 * One training case: preprocessTestCase with the label carried along (crop → transpose → resample, seg
 * order 1 → normalise), then class locations. `volume` (C, Z, Y, X), `label` (1, Z, Y, X).
 */
export function preprocessTrainingCase(
  key: string,
  volume: Volume,
  label: Volume<Int16Array>,
  spacingZYX: Vec3,
  plans: PreprocessPlans,
  classes: readonly number[],
  seed: number,
): PreprocessedTrainingCase {
  const r = preprocessTestCase(volume, spacingZYX, plans, { seg: label });
  if (r.seg === null) fail('RUNTIME', `${key}: preprocessing returned no segmentation`);
  const [C, Z, Y, X] = r.data.shape;
  const shapeZYX: [number, number, number] = [Z, Y, X];
  const max = classes.reduce((a, b) => Math.max(a, b), 0);
  const segDtype: SegDtype = max < 128 ? 'int8' : 'int16';
  const seg = segDtype === 'int8' ? Int8Array.from(r.seg.data) : Int16Array.from(r.seg.data);
  const classLocations = sampleClassLocations(seg, shapeZYX, classes, new Rng(seed));
  return {
    properties: {
      format: CACHE_FORMAT,
      version: CACHE_VERSION,
      plansId: plansIdentifier(plans),
      key,
      channels: C,
      shapeZYX,
      segDtype,
      preprocess: r.properties,
      classLocations,
    },
    data: r.data.data,
    seg,
  };
}

/** Checks a parsed `<case>.json`; throws naming the file. */
export function parseCachedProperties(text: string, what: string): CachedCaseProperties {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    fail('BAD_INPUT', `${what}: not valid JSON (${(e as Error).message})`);
  }
  const p = v as Record<string, unknown> | null;
  if (p === null || typeof p !== 'object' || p['format'] !== CACHE_FORMAT)
    fail('BAD_INPUT', `${what}: not a stunet preprocessed case`);
  if (!hasCaseFields(p))
    fail('BAD_INPUT', `${what}: missing key, channels, shapeZYX, segDtype or classLocations`);
  return p;
}

/** The fields a cached case must have (their contents are checked where they are used). */
function hasCaseFields(p: Record<string, unknown>): p is Record<string, unknown> & CachedCaseProperties {
  const shape = p['shapeZYX'];
  return (
    typeof p['key'] === 'string' &&
    typeof p['channels'] === 'number' &&
    Array.isArray(shape) &&
    shape.length === 3 &&
    (p['segDtype'] === 'int8' || p['segDtype'] === 'int16') &&
    typeof p['classLocations'] === 'object'
  );
}
