import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fingerprintDatasetDir } from '../../src/node/dataset-files.js';
import { intensityStats, percentileSorted, samplesPerCase } from '../../src/planning/fingerprint.js';
import { tempDir } from '../cli/cli-helpers.js';
import { expectClose } from '../helpers.js';
import { syntheticCase, writeDataset } from './synthetic-dataset.js';

const cases = [
  syntheticCase('c0', 1, [20, 24, 16], 2),
  syntheticCase('c1', 2, [20, 24, 16], 2),
  syntheticCase('c2', 3, [20, 24, 16], 2),
];

/** Plain statistics over every labelled voxel of channel `ch`. */
function plainStats(ch: number): number[] {
  const v: number[] = [];
  for (const c of cases) c.label.forEach((l, i) => l > 0 && v.push(c.channels[ch]?.[i] ?? NaN));
  v.sort((a, b) => a - b);
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
  const pct = (q: number): number => {
    const pos = (q / 100) * (v.length - 1);
    const lo = Math.floor(pos);
    return (v[lo] ?? 0) + ((v[Math.min(lo + 1, v.length - 1)] ?? 0) - (v[lo] ?? 0)) * (pos - lo);
  };
  return [mean, pct(50), std, v[0] ?? NaN, v[v.length - 1] ?? NaN, pct(99.5), pct(0.5)];
}

const statsArray = (s: ReturnType<typeof intensityStats>): number[] => [
  s.mean,
  s.median,
  s.std,
  s.min,
  s.max,
  s.percentile_99_5,
  s.percentile_00_5,
];

test('fingerprint of a synthetic dataset: shapes after crop, spacings, exact foreground statistics', () => {
  const dir = tempDir();
  writeDataset(dir, cases);
  const { fingerprint: fp } = fingerprintDatasetDir(dir, { samplesPerCase: 'all' });
  // body: i 2..17, j (1+off)..22, k 1..14 → (Z, Y, X) = (14, 22 − off, 16), off = seed % 3
  assert.deepEqual(fp.shapes_after_crop, [
    [14, 21, 16],
    [14, 20, 16],
    [14, 22, 16],
  ]);
  assert.deepEqual(fp.spacings, [
    [1, 1, 1],
    [1, 1, 1],
    [1, 1, 1],
  ]);
  expectClose([fp.median_relative_size_after_cropping], [(14 * 21 * 16) / (20 * 24 * 16)], { atol: 1e-12 });
  for (const ch of [0, 1]) {
    const s = fp.foreground_intensity_properties_per_channel[String(ch)];
    assert.ok(s !== undefined);
    expectClose(statsArray(s), plainStats(ch), { atol: 1e-6, rtol: 1e-9 });
  }
});

test('sampled fingerprint (nnU-Net: with replacement, seeded) is reproducible and near the exact values', () => {
  const dir = tempDir();
  writeDataset(dir, cases);
  const a = fingerprintDatasetDir(dir, { samplesPerCase: 20000 }).fingerprint;
  const b = fingerprintDatasetDir(dir, { samplesPerCase: 20000 }).fingerprint;
  assert.deepEqual(a, b);
  const s = a.foreground_intensity_properties_per_channel['0'];
  assert.ok(s !== undefined);
  const exact = plainStats(0);
  assert.ok(Math.abs(s.mean - (exact[0] ?? 0)) < 1.5, `${s.mean} vs ${exact[0]}`);
  assert.ok(Math.abs(s.std - (exact[2] ?? 0)) < 1.5, `${s.std} vs ${exact[2]}`);
  assert.equal(samplesPerCase(3), 33333333);
});

test('percentileSorted is numpy linear interpolation', () => {
  const x = [1, 2, 3, 4, 10];
  assert.equal(percentileSorted(x, 50), 3);
  expectClose([percentileSorted(x, 99.5)], [4 + 6 * 0.98], { atol: 1e-12 });
  expectClose([percentileSorted(x, 10)], [1.4], { atol: 1e-12 });
});

test('an invalid dataset is refused with every problem listed before fingerprinting', () => {
  const dir = tempDir();
  writeDataset(dir, cases, { numTraining: 9, labels: { background: 0, organ: 1, tumor: 3 } });
  assert.throws(
    () => fingerprintDatasetDir(dir),
    (e: Error) => /numTraining is 9/.test(e.message) && /consecutive/.test(e.message),
  );
});
