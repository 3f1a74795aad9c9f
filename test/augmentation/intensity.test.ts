import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  brightnessMultiplicative,
  contrast,
  gamma,
  gaussianBlur,
  gaussianFilter3d,
  gaussianNoise,
  simulateLowResolution,
} from '../../src/augmentation/intensity.js';
import { Rng } from '../../src/util/random.js';
import { expectClose } from '../helpers.js';
import { constantSample, randomSample, smoothSample, withinFourSigma } from './synthetic.js';

function stats(x: ArrayLike<number>): { mean: number; std: number; min: number; max: number } {
  let s = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) {
    const v = x[i] as number;
    s += v;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const mean = s / x.length;
  let ss = 0;
  for (let i = 0; i < x.length; i++) ss += ((x[i] as number) - mean) ** 2;
  return { mean, std: Math.sqrt(ss / x.length), min, max };
}

test('multiplicative brightness: the factor inferred from a constant image lies in [0.75, 1.25], per channel', () => {
  const rng = new Rng(1);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < 300; i++) {
    const s = constantSample([2, 2, 2], 2, 2);
    const f = brightnessMultiplicative(s, rng);
    for (let c = 0; c < 2; c++) {
      const inferred = (s.data[c * 8] as number) / 2;
      assert.ok(inferred >= 0.75 && inferred <= 1.25, `factor ${inferred}`);
      assert.ok(Math.abs(inferred - (f[c] as number)) < 1e-6);
      lo = Math.min(lo, inferred);
      hi = Math.max(hi, inferred);
    }
  }
  assert.ok(lo < 0.77 && hi > 1.23, `factors span [${lo}, ${hi}]`);
});

test('gaussian noise: σ ~ U(0, 0.1) used as the standard deviation, one σ per sample', () => {
  const rng = new Rng(2);
  for (let i = 0; i < 20; i++) {
    const s = constantSample([16, 16, 16], 2, 0);
    const sd = gaussianNoise(s, rng);
    assert.ok(sd >= 0 && sd <= 0.1);
    for (let c = 0; c < 2; c++) {
      const st = stats(s.data.subarray(c * 4096, (c + 1) * 4096));
      assert.ok(Math.abs(st.std - sd) <= 0.05 * sd + 1e-9, `std ${st.std} vs σ ${sd}`);
    }
  }
});

test('gaussian_filter (reflect, truncate 4): a delta at the border gives the kernel folded back', () => {
  const x = new Float32Array(9);
  x[0] = 1;
  gaussianFilter3d(x, [1, 1, 9], 1);
  const k = [0, 1, 2, 3, 4].map((i) => Math.exp(-0.5 * i * i));
  const sum = (k[0] as number) + 2 * k.slice(1).reduce((a, b) => a + b, 0);
  const w = k.map((v) => v / sum);
  // reflect: sample −1 mirrors sample 0, so out[0] = w0 + w1, out[1] = w1 + w2, …
  const exp = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => (w[i] ?? 0) + (w[i + 1] ?? 0));
  expectClose(x, exp, { atol: 1e-7 });
  const c = constantSample([5, 6, 7], 1, 3);
  gaussianFilter3d(c.data, c.shapeZYX, 0.8);
  expectClose(c.data, new Float32Array(210).fill(3), { atol: 1e-6 });
});

test('gaussian blur: each channel with p 0.5, σ in [0.5, 1]; smoothing lowers the variance', () => {
  const rng = new Rng(3);
  let blurred = 0;
  const N = 600;
  for (let i = 0; i < N; i++) {
    const s = randomSample([4, 4, 4], 2, [0], i);
    const before = stats(s.data.subarray(0, 64)).std;
    const used = gaussianBlur(s, rng);
    for (const sg of used) if (sg !== null) assert.ok(sg >= 0.5 && sg <= 1);
    blurred += used.filter((v) => v !== null).length;
    if (used[0] !== null) assert.ok(stats(s.data.subarray(0, 64)).std < before);
  }
  assert.ok(withinFourSigma(blurred, 2 * N, 0.5), `blurred ${blurred}/${2 * N}`);
});

test('contrast: factor in [0.75, 1.25], range preserved, mean kept where nothing clips', () => {
  const rng = new Rng(4);
  for (let i = 0; i < 100; i++) {
    const s = smoothSample([6, 6, 6], 1);
    const before = stats(s.data);
    const [f] = contrast(s, rng);
    assert.ok(f !== undefined && f >= 0.75 && f <= 1.25);
    const after = stats(s.data);
    assert.ok(after.min >= before.min - 1e-6 && after.max <= before.max + 1e-6);
    if (f < 1) {
      assert.ok(Math.abs(after.mean - before.mean) < 1e-4);
      assert.ok(Math.abs(after.std - f * before.std) < 1e-4);
    }
  }
});

test('low-resolution simulation: shape kept, constant images unchanged, zoom in [0.5, 1], p 0.5 per channel', () => {
  const rng = new Rng(5);
  let applied = 0;
  const N = 300;
  for (let i = 0; i < N; i++) {
    const s = constantSample([7, 8, 9], 2, 1.5);
    const used = simulateLowResolution(s, rng);
    for (const z of used) if (z !== null) assert.ok(z >= 0.5 && z <= 1);
    applied += used.filter((v) => v !== null).length;
    expectClose(s.data, new Float32Array(2 * 504).fill(1.5), { atol: 1e-6 });
  }
  assert.ok(withinFourSigma(applied, 2 * N, 0.5), `applied ${applied}/${2 * N}`);
  const s = smoothSample([16, 16, 16], 1);
  const before = s.data.slice();
  const r = new Rng(8);
  let used: (number | null)[] = [];
  while (used[0] === null || used[0] === undefined || used[0] > 0.8) {
    s.data.set(before);
    used = simulateLowResolution(s, r, [0.5, 1], 1);
  }
  assert.notDeepEqual(s.data, before);
  const err = stats(s.data.map((v, i) => v - (before[i] as number)));
  assert.ok(err.std < 0.3 * stats(before).std, 'the low-resolution image still resembles the input');
});

test('gamma (plain and inverted): γ in [0.7, 1.5], mean and std retained', () => {
  const rng = new Rng(6);
  for (const invert of [false, true]) {
    for (let i = 0; i < 50; i++) {
      const s = smoothSample([6, 6, 6], 2);
      const before = [0, 1].map((c) => stats(s.data.subarray(c * 216, (c + 1) * 216)));
      const orig = s.data.slice();
      const gs = gamma(s, rng, invert);
      for (const g of gs) assert.ok(g >= 0.7 && g <= 1.5);
      for (let c = 0; c < 2; c++) {
        const after = stats(s.data.subarray(c * 216, (c + 1) * 216));
        const b = before[c];
        assert.ok(b !== undefined);
        assert.ok(Math.abs(after.mean - b.mean) < 1e-4, `mean ${after.mean} vs ${b.mean}`);
        assert.ok(Math.abs(after.std - b.std) < 1e-4, `std ${after.std} vs ${b.std}`);
      }
      if (Math.abs((gs[0] as number) - 1) > 0.05) assert.notDeepEqual(s.data, orig);
    }
  }
});
