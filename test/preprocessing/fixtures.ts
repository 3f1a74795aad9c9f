/** Loads the preprocessing fixtures (official nnU-Net v1 outputs, see test/fixtures/preprocessing/README.md). */
import { readFileSync } from 'node:fs';
import type { Volume } from '../../src/io/volume.js';
import type { PreprocessPlans } from '../../src/preprocessing/pipeline.js';
import { fixturePath, loadNpyFixture } from '../helpers.js';

type Shape4 = [number, number, number, number];

function shape4(shape: readonly number[], name: string): Shape4 {
  const s = shape.length === 3 ? [1, ...shape] : [...shape];
  const [c, z, y, x] = s;
  if (s.length !== 4 || c === undefined || z === undefined || y === undefined || x === undefined) {
    throw new Error(`${name}: expected a 3-D or 4-D array, got [${shape.join(', ')}]`);
  }
  return [c, z, y, x];
}

export function loadData(name: string): Volume {
  const a = loadNpyFixture('preprocessing', name);
  const data = a.data instanceof Float32Array ? a.data : Float32Array.from(a.data as ArrayLike<number>);
  return { data, shape: shape4(a.shape, name) };
}

export function loadSeg(name: string): Volume<Int16Array> {
  const a = loadNpyFixture('preprocessing', name);
  return { data: Int16Array.from(a.data as ArrayLike<number>), shape: shape4(a.shape, name) };
}

export function loadJson(name: string): unknown {
  return JSON.parse(readFileSync(fixturePath('preprocessing', name), 'utf8'));
}

/** max |a − b| and max |b| — for diagnostics. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): { maxDiff: number; maxRef: number } {
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < b.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs((a[i] as number) - (b[i] as number)));
    maxRef = Math.max(maxRef, Math.abs(b[i] as number));
  }
  return { maxDiff, maxRef };
}

export function countMismatches(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

/** Plans for the 2-channel synthetic cache datasets: per-image z-score, 1 mm, no transpose. */
export const TWO_CHANNEL_PLANS: PreprocessPlans = {
  normalizationSchemes: ['nonCT', 'nonCT'],
  useMaskForNorm: [false, false],
  transposeForward: [0, 1, 2],
  targetSpacing: [1, 1, 1],
  intensityProperties: null,
};
