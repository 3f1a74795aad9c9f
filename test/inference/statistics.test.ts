import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeLabelStatistics, totalsegStatistics } from '../../src/inference/statistics.js';

/** (Z, Y, X) = (10, 12, 14) with a 4×5×6 cube of `label` at z 2..5, y 3..7, x 4..9. */
function cubeVolume(label: number): { labels: Uint16Array; image: Float32Array } {
  const labels = new Uint16Array(10 * 12 * 14);
  const image = new Float32Array(labels.length).fill(-1000);
  for (let z = 2; z < 6; z++)
    for (let y = 3; y < 8; y++)
      for (let x = 4; x < 10; x++) {
        const i = (z * 12 + y) * 14 + x;
        labels[i] = label;
        image[i] = 40 + x; // mean over x 4..9 = 46.5
      }
  return { labels, image };
}

test('a 4×5×6 cube at spacing 2×0.5×1.5 mm is 120 voxels × 1.5 mm³ = 0.18 mL, mean intensity exact', () => {
  const { labels, image } = cubeVolume(2);
  const s = computeLabelStatistics(labels, image, [2, 0.5, 1.5], ['background', 'liver', 'spleen', 'kidney']);
  assert.equal(s.voxelVolumeMl, 0.0015);
  assert.deepEqual(s.labels.spleen, { label: 2, voxels: 120, volumeMl: 120 * 0.0015, meanIntensity: 46.5 });
  assert.deepEqual(s.labels.liver, { label: 1, voxels: 0, volumeMl: 0, meanIntensity: null });
  assert.deepEqual(Object.keys(s.labels), ['liver', 'spleen', 'kidney']);
  assert.equal(s.labels.background, undefined);
  assert.doesNotThrow(() => JSON.parse(JSON.stringify(s)));
});

test('without intensities the means are null; a present label beyond the names is label_<n>', () => {
  const { labels } = cubeVolume(7);
  const s = computeLabelStatistics(Uint8Array.from(labels), null, [1, 1, 1], ['background', 'a']);
  assert.deepEqual(s.labels.label_7, { label: 7, voxels: 120, volumeMl: 0.12, meanIntensity: null });
  assert.equal(s.labels.a?.voxels, 0);
});

test('mismatched sizes and bad spacing are refused', () => {
  assert.throws(
    () => computeLabelStatistics(new Uint8Array(8), new Float32Array(7), [1, 1, 1], ['background']),
    /8 voxels but the image has 7/,
  );
  assert.throws(() => computeLabelStatistics(new Uint8Array(8), null, [1, 0, 1], ['background']), /spacing/);
});

test("totalsegStatistics writes TotalSegmentator's layout: every class, volume in mm³, intensity 0 when absent, rounded", () => {
  const labels = new Uint8Array([0, 1, 1, 2, 0, 0]);
  const image = new Float32Array([5, 10.123456789, 20, -7, 0, 0]);
  const s = totalsegStatistics(
    computeLabelStatistics(labels, image, [1.5, 0.7, 0.7], ['background', 'liver', 'spleen', 'kidney']),
  );
  assert.deepEqual(s, {
    liver: { volume: 1.47, intensity: 15.06173 },
    spleen: { volume: 0.735, intensity: -7 },
    kidney: { volume: 0, intensity: 0 },
  });
  assert.deepEqual(Object.keys(s), ['liver', 'spleen', 'kidney']);
});
