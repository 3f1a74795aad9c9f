/**
 * Gaussian importance maps against the official outputs (fixtures: sliding-window/manifest.json).
 * Measured: every map equal to the bit (v1 float32, v2 float16 and float32, both v2 copies).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeGaussianV2, gaussianKernel1d, getGaussianV1 } from '../../src/inference/gaussian.js';
import { expectClose } from '../helpers.js';
import { loadSwFloat32, results } from './fixtures.js';
import type { Vec3 } from '../../src/util/vec3.js';

test('v1 _get_gaussian 16×32×64 equals the official map (max 1, float32)', () => {
  const g = getGaussianV1([16, 32, 64]);
  expectClose(g, loadSwFloat32('v1_gaussian_16x32x64.npy'), { rtol: 1e-6, atol: 1e-9, label: 'v1 16x32x64' });
  assert.equal(Math.max(...g), 1);
  assert.equal(g[(8 * 32 + 16) * 64 + 32], 1, 'peak at patch // 2');
});

test('v1 _get_gaussian 128³ equals the official map (every 3rd voxel and the last index on each axis)', () => {
  const g = getGaussianV1([128, 128, 128]);
  const idx = [...Array(43).keys()].map((i) => 3 * i).concat([127]);
  const sub = new Float32Array(44 ** 3);
  let k = 0;
  for (const z of idx)
    for (const y of idx) for (const x of idx) sub[k++] = g[(z * 128 + y) * 128 + x] as number;
  expectClose(sub, loadSwFloat32('v1_gaussian_128x128x128_sub3.npy.gz'), {
    rtol: 1e-6,
    atol: 1e-9,
    label: 'v1 128³',
  });
});

const v2Cases: [string, 'stunet' | 'upstream', number, 'float16' | 'float32', Vec3][] = [
  ['v2stu_gaussian_16x32x64_vsf10_float16.npy', 'stunet', 10, 'float16', [16, 32, 64]],
  ['v2stu_gaussian_16x32x64_vsf1000_float16.npy', 'stunet', 1000, 'float16', [16, 32, 64]],
  ['v2stu_gaussian_16x32x64_vsf10_float32.npy', 'stunet', 10, 'float32', [16, 32, 64]],
  ['v2up_gaussian_16x32x64_vsf10_float16.npy', 'upstream', 10, 'float16', [16, 32, 64]],
  ['v2up_gaussian_16x32x64_vsf10_float32.npy', 'upstream', 10, 'float32', [16, 32, 64]],
  ['v2stu_gaussian_128x128x128_vsf10_float16.npy.gz', 'stunet', 10, 'float16', [128, 128, 128]],
  ['v2stu_gaussian_128x128x128_vsf1000_float16.npy.gz', 'stunet', 1000, 'float16', [128, 128, 128]],
  ['v2up_gaussian_128x128x128_vsf10_float16.npy.gz', 'upstream', 10, 'float16', [128, 128, 128]],
];

for (const [file, variant, vsf, dtype, patch] of v2Cases) {
  test(`v2 compute_gaussian ${file} is reproduced exactly`, () => {
    const g = computeGaussianV2(patch, { variant, valueScalingFactor: vsf, dtype });
    // Manifest: fp16 exact; fp32 atol 1e-7.
    expectClose(g, loadSwFloat32(file), { atol: dtype === 'float16' ? 0 : 1e-7, label: file });
    const stats = (variant === 'stunet' ? results.v2stu : results.v2up).gaussian_stats[
      file.replace('.gz', '')
    ];
    assert.ok(stats !== undefined, `stats for ${file}`);
    let min = Infinity;
    let max = -Infinity;
    for (const v of g) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    assert.equal(Math.fround(min), Math.fround(stats.min));
    assert.equal(max, vsf);
    assert.equal(g.filter((v) => v === min).length, stats.n_equal_min);
  });
}

test('the STU-Net copy casts to fp16 before normalising: a plateau the upstream map does not have', () => {
  const opts = { valueScalingFactor: 10, dtype: 'float16' } as const;
  const stu = computeGaussianV2([16, 32, 64], { ...opts, variant: 'stunet' });
  const up = computeGaussianV2([16, 32, 64], { ...opts, variant: 'upstream' });
  const minStu = Math.min(...stu);
  assert.ok(stu.filter((v) => v === minStu).length / stu.length > 0.35, 'plateau ≈ 36 % of the tile');
  assert.ok(Math.min(...up) === 2 ** -24, 'upstream tails reach the smallest fp16 subnormal');
});

test('gaussianKernel1d sums to 1 and is symmetric', () => {
  const k = gaussianKernel1d(8, 32);
  assert.equal(k.length, 65);
  expectClose([k.reduce((a, b) => a + b, 0)], [1], { atol: 1e-15 });
  for (let i = 0; i < 32; i++) assert.equal(k[i], k[64 - i]);
});
