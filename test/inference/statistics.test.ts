import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeLabelStatistics, totalsegStatistics } from '../../src/inference/statistics.js';
import type { Vec3 } from '../../src/util/vec3.js';

/** (Z, Y, X) = (10, 12, 14) with a 4×5×6 cube of `label` at z 3..6, y 3..7, x 4..9 (inside the border). */
function cubeVolume(label: number): { labels: Uint16Array; image: Float32Array } {
  const labels = new Uint16Array(10 * 12 * 14);
  const image = new Float32Array(labels.length).fill(-1000);
  for (let z = 3; z < 7; z++)
    for (let y = 3; y < 8; y++)
      for (let x = 4; x < 10; x++) {
        const i = (z * 12 + y) * 14 + x;
        labels[i] = label;
        image[i] = 40 + x; // mean over x 4..9 = 46.5, median 46.5
      }
  return { labels, image };
}
const CUBE: Vec3 = [10, 12, 14];

test('a 4×5×6 cube at spacing 2×0.5×1.5 mm is 120 voxels × 1.5 mm³ = 0.18 mL, mean and median exact', () => {
  const { labels, image } = cubeVolume(2);
  const names = ['background', 'liver', 'spleen', 'kidney'];
  const s = computeLabelStatistics(labels, image, CUBE, [2, 0.5, 1.5], names);
  assert.equal(s.voxelVolumeMm3, 1.5);
  assert.deepEqual(s.labels.spleen, {
    label: 2,
    voxels: 120,
    volumeMm3: 180,
    volumeMl: 0.18,
    meanIntensity: 46.5,
    medianIntensity: 46.5,
    touchesBorder: false,
  });
  assert.deepEqual([s.labels.liver?.voxels, s.labels.liver?.meanIntensity], [0, null]);
  assert.deepEqual(Object.keys(s.labels), ['liver', 'spleen', 'kidney']);
  assert.equal(s.labels.background, undefined);
});

test('without intensities the means are null; a present label beyond the names is label_<n>', () => {
  const { labels } = cubeVolume(7);
  const s = computeLabelStatistics(Uint8Array.from(labels), null, CUBE, [1, 1, 1], ['background', 'a']);
  assert.deepEqual([s.labels.label_7?.voxels, s.labels.label_7?.medianIntensity], [120, null]);
  assert.equal(s.labels.a?.voxels, 0);
});

test('mismatched sizes and bad spacing are refused', () => {
  const one: Vec3 = [2, 2, 2];
  assert.throws(
    () => computeLabelStatistics(new Uint8Array(8), new Float32Array(7), one, [1, 1, 1], ['background']),
    /8 voxels but the image has 7/,
  );
  assert.throws(
    () => computeLabelStatistics(new Uint8Array(9), null, one, [1, 1, 1], ['background']),
    /2×2×2/,
  );
  assert.throws(
    () => computeLabelStatistics(new Uint8Array(8), null, one, [1, 0, 1], ['background']),
    /spacing/,
  );
});

/**
 * Expected figures from TotalSegmentator's own expressions (statistics.py get_basic_statistics and
 * touches_border, wasserth/TotalSegmentator @ 001a243) evaluated with numpy 2 on this very case:
 * ct = float32 image → astype(int16); vox_vol = product of float32 zooms (0.8, 0.7, 2.5);
 * volume = (seg == k).sum() * vox_vol; intensity = np.average(ct, weights=mask).round(5) /
 * np.median(ct[mask > 0]).round(5).
 */
function totalsegCase(): { labels: Uint8Array; image: Float32Array; shape: Vec3 } {
  const [Z, Y, X] = [12, 10, 9];
  const labels = new Uint8Array(Z * Y * X);
  const image = new Float32Array(Z * Y * X);
  for (let z = 0; z < Z; z++)
    for (let y = 0; y < Y; y++)
      for (let x = 0; x < X; x++) {
        const i = (z * Y + y) * X + x;
        image[i] = Math.fround(((z * 31 + y * 17 + x * 7) % 200) - 100.37);
        if (z >= 3 && z < 8 && y >= 3 && y < 7 && x >= 3 && x < 6) labels[i] = 1;
        if (z >= 5 && y >= 4 && y < 6 && x >= 3 && x < 5) labels[i] = 2; // reaches the last z slice
        if (z === 6 && y === 3 && x === 0) labels[i] = 3; // one voxel on the x border
        if (z >= 4 && z < 6 && y === 7 && x >= 4 && x < 6) labels[i] = 4; // y = 7 is among the last 3 of 10
      }
  return { labels, image, shape: [Z, Y, X] };
}
const TS_NAMES = ['background', 'a', 'b', 'c', 'd', 'e'];

test("TotalSegmentator's layout and numbers: volume in mm³ with float32 spacing, int16 mean/median, border masks zeroed", () => {
  const { labels, image, shape } = totalsegCase();
  const stats = computeLabelStatistics(labels, image, shape, [2.5, 0.7, 0.8], TS_NAMES);
  const s = totalsegStatistics(stats);
  assert.deepEqual(s.a, {
    volume: 67.19999885559082,
    intensity: -14.41667,
    volume_ml: 0.06719999885559082,
    intensity_mean: -14.41667,
    intensity_median: -23.5,
    touches_border: false,
  });
  for (const name of ['b', 'c', 'd']) {
    const e = s[name];
    assert.deepEqual([e?.touches_border, e?.volume, e?.intensity], [true, 0, 0], name);
  }
  assert.deepEqual(s.e, {
    volume: 0,
    intensity: 0,
    volume_ml: 0,
    intensity_mean: 0,
    intensity_median: 0,
    touches_border: false,
  });
  assert.deepEqual(Object.keys(s), ['a', 'b', 'c', 'd', 'e']);
});

test('--stats-include-incomplete measures border masks; --stats-aggregation median; a class subset', () => {
  const { labels, image, shape } = totalsegCase();
  const stats = computeLabelStatistics(labels, image, shape, [2.5, 0.7, 0.8], TS_NAMES);
  const s = totalsegStatistics(stats, { includeIncomplete: true, aggregation: 'median' });
  assert.deepEqual(
    Object.fromEntries(
      ['a', 'b', 'c', 'd'].map((n) => [n, [s[n]?.volume, s[n]?.intensity, s[n]?.intensity_mean]]),
    ),
    {
      a: [67.19999885559082, -23.5, -14.41667],
      b: [39.19999933242798, -4.5, -1.46429],
      c: [1.399999976158142, -63, -63],
      d: [5.599999904632568, -10.5, -10.5],
    },
  );
  assert.deepEqual(Object.keys(totalsegStatistics(stats, { classes: ['d', 'a'] })), ['a', 'd']);
});

test('an image thinner than 6 slices on an axis: every mask touches the border', () => {
  const labels = new Uint8Array(5 * 8 * 8).fill(0);
  labels[2 * 64 + 4 * 8 + 4] = 1; // the middle slice of 5
  const s = computeLabelStatistics(labels, null, [5, 8, 8], [1, 1, 1], ['background', 'x']);
  assert.equal(s.labels.x?.touchesBorder, true);
});
