import assert from 'node:assert/strict';
import { test } from 'node:test';
import { axisTaps, splineWeights, zoomAxis } from '../../src/preprocessing/spline.js';
import { expectClose } from '../helpers.js';

test('cubic prefilter + interpolation at the knots reproduces the samples (both code paths)', () => {
  // Same length along the zoomed axis: scipy's zoom is the identity up to rounding. Axis 2 takes the
  // one-line path, axes 0/1 the blocked multi-column path.
  const dims: [number, number, number] = [7, 5, 9];
  const src = Float64Array.from({ length: 7 * 5 * 9 }, (_, i) => Math.sin(i * 0.7) * 100 + (i % 5));
  for (const axis of [0, 1, 2] as const) {
    expectClose(zoomAxis(src, dims, axis, dims[axis], 3), src, { atol: 1e-9, label: `axis ${axis}` });
  }
});

test('a zoom along axis 0 equals the same zoom along axis 2 of the transposed array', () => {
  const [a, b] = [6, 70];
  const src = Float64Array.from({ length: a * b }, (_, i) => Math.cos(i * 0.37) * 50);
  const srcT = new Float64Array(a * b);
  for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) srcT[j * a + i] = src[i * b + j] as number;
  const z0 = zoomAxis(src, [a, 1, b], 0, 13, 3); // (13, 1, b)
  const z2 = zoomAxis(srcT, [b, 1, a], 2, 13, 3); // (b, 1, 13)
  const back = new Float64Array(13 * b);
  for (let i = 0; i < 13; i++) for (let j = 0; j < b; j++) back[i * b + j] = z2[j * 13 + i] as number;
  expectClose(z0, back, { atol: 1e-12 });
});

test('spline weights sum to 1 and grid-mode taps clamp at the edges', () => {
  const w = new Float64Array(4);
  for (const x of [0, 0.25, 0.5, 0.999]) {
    splineWeights(10 + x, 3, w, 0);
    expectClose([w.reduce((p, q) => p + q, 0)], [1], { atol: 1e-15 });
  }
  // 4 → 8 samples, linear: output 0 reads input −0.25 → taps (−1 → 0, 0), weights (0.25, 0.75).
  const t = axisTaps(4, 8, 1, 0);
  assert.deepEqual(Array.from(t.index.subarray(0, 2)), [0, 0]);
  assert.deepEqual(Array.from(t.weight.subarray(0, 2)), [0.25, 0.75]);
  assert.deepEqual(Array.from(t.index.subarray(14, 16)), [3, 3]);
});
