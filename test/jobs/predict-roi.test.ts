/**
 * `--roi-subset` (issue 16, item 1) against the whole prediction on the real example CT: the coarse pass
 * (no TTA, step 1) finds the class's box, the full pass runs only the tiles of the whole image's grid that
 * overlap it, and inside that box the labels are the whole prediction's, voxel for voxel.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { cropNifti } from '../../src/io/nifti-crop.js';
import { readNifti } from '../../src/io/nifti.js';
import { niftiToVolume } from '../../src/io/nifti-volume.js';
import { Tensor } from '../../src/engine/tensor.js';
import { predictVolume, type PredictVolumeOptions } from '../../src/inference/predictor.js';
import type { NetworkFn } from '../../src/inference/tta.js';
import { roiLabelValues } from '../../src/jobs/predict-case.js';
import type { Vec3 } from '../../src/util/vec3.js';
import type { Volume } from '../../src/io/volume.js';
import { StunetError } from '../../src/util/errors.js';
import { fixturePath } from '../helpers.js';

/**
 * The example CT crop with a 3000 HU ball painted in (nothing else in a CT is that bright), and a network
 * that labels the ball: class 1 where the z-scored intensity (STU-Net's plans normalise per image) lies
 * above the midpoint between the CT's own maximum and the ball. The class is local, so the ROI skips tiles.
 */
function paintedCt(): {
  volume: Volume;
  spacingZYX: Vec3;
  threshold: number;
} {
  const image = cropNifti(
    readNifti(readFileSync(fixturePath('nifti', 'example_ct_sm.nii.gz'))),
    [10, 10, 4],
    [96, 80, 20],
  );
  const { volume, spacingZYX } = niftiToVolume(image);
  const data = Float32Array.from(volume.data);
  const [, Z, Y, X] = volume.shape as [number, number, number, number];
  const ctMax = data.reduce((m, v) => Math.max(m, v), -Infinity);
  const centre: Vec3 = [10, 30, 60];
  for (let z = 0; z < Z; z++)
    for (let y = 0; y < Y; y++)
      for (let x = 0; x < X; x++) {
        const d = [
          (z - centre[0]) * spacingZYX[0],
          (y - centre[1]) * spacingZYX[1],
          (x - centre[2]) * spacingZYX[2],
        ];
        if (Math.hypot(...d) < 8) data[(z * Y + y) * X + x] = 3000;
      }
  let mean = 0;
  for (const v of data) mean += v;
  mean /= data.length;
  let sq = 0;
  for (const v of data) sq += (v - mean) ** 2;
  const sd = Math.sqrt(sq / data.length);
  return { volume: { data, shape: volume.shape }, spacingZYX, threshold: ((ctMax + 3000) / 2 - mean) / sd };
}

function thresholdNetwork(threshold: number): NetworkFn {
  return (x: Tensor) => {
    const out = new Tensor([1, 2, ...x.shape.slice(2)]);
    const n = x.size;
    for (let i = 0; i < n; i++) out.data[n + i] = 20 * ((x.data[i] as number) - threshold);
    return Promise.resolve([out]);
  };
}

/** predictVolume's options for the painted ball: the threshold network, v1, mirror TTA. */
function ballOptions(threshold: number): PredictVolumeOptions {
  return {
    network: thresholdNetwork(threshold),
    inputChannels: 1,
    patchSizeZYX: [16, 32, 32],
    mode: 'v1',
    mirrorAxes: [0, 1, 2],
  };
}

test('roi subset, exact: inside the box the class is labelled as by the whole prediction; fewer tiles run', async () => {
  const { volume, spacingZYX, threshold } = paintedCt();
  const opts = ballOptions(threshold);
  const full = await predictVolume(volume, spacingZYX, opts);
  assert.ok(
    full.labels.some((v) => v === 1),
    'the ball is found',
  );
  const roi = await predictVolume(volume, spacingZYX, {
    ...opts,
    roiSubset: { labels: [1], marginMm: 0, exact: true },
  });
  const r = roi.roi;
  assert.ok(r !== undefined && r.regionZYX !== null && r.boxZYX !== null);
  assert.ok(r.tiles < r.gridTiles / 4, `${r.tiles} of ${r.gridTiles} tiles`);
  assert.equal(r.coarseTiles < r.gridTiles, true);
  // Inside the region, 2 network voxels in from its faces (resampling back reads neighbours), the labels
  // are the whole prediction's. Network ↔ input voxel: the crop box is the whole image here, then the zoom.
  assert.deepEqual(roi.properties.crop_bbox, full.properties.crop_bbox);
  const zoom = roi.properties.size_after_resampling.map(
    (n, a) => n / (roi.properties.size_after_cropping[a] ?? 1),
  );
  const [Z, Y, X] = roi.shapeZYX;
  let compared = 0;
  let ones = 0;
  for (let i = 0; i < roi.labels.length; i++) {
    const at = [Math.floor(i / (Y * X)), Math.floor(i / X) % Y, i % X];
    const inside = at.every((v, a) => {
      const n = (v + 0.5) * (zoom[a] ?? 1);
      return n >= (r.regionZYX?.lowZYX[a] ?? 0) + 2 && n < (r.regionZYX?.highZYX[a] ?? 0) - 2;
    });
    if (!inside) continue;
    compared++;
    if (full.labels[i] === 1) ones++;
    assert.equal(roi.labels[i], full.labels[i], `voxel ${at.join(',')}`);
  }
  assert.ok(compared > 0 && ones > 0 && Z > 0);
  // And with TotalSegmentator's 20 mm margin the whole ball is inside: the labels equal everywhere.
  const wide = await predictVolume(volume, spacingZYX, { ...opts, roiSubset: { labels: [1], exact: true } });
  assert.deepEqual(wide.labels, full.labels);
  assert.ok((wide.roi?.tiles ?? Infinity) < (wide.roi?.gridTiles ?? 0));
});

test("roi subset, TotalSegmentator's crop (the default): the box alone, fewer tiles still, the same ball", async () => {
  const { volume, spacingZYX, threshold } = paintedCt();
  const opts = ballOptions(threshold);
  const full = await predictVolume(volume, spacingZYX, opts);
  const exact = await predictVolume(volume, spacingZYX, { ...opts, roiSubset: { labels: [1], exact: true } });
  const crop = await predictVolume(volume, spacingZYX, { ...opts, roiSubset: { labels: [1] } });
  const [c, e] = [crop.roi, exact.roi];
  assert.ok(c !== undefined && e !== undefined);
  assert.equal(c.exact, false);
  assert.ok(c.tiles < e.tiles, `${c.tiles} vs ${e.tiles} tiles`);
  assert.equal(c.gridTiles, e.gridTiles);
  // A voxel-wise network gives every tile the same value at a voxel: only rounding can tell the crop apart.
  let differ = 0;
  let ones = 0;
  crop.labels.forEach((v, i) => {
    if (v !== full.labels[i]) differ++;
    if (v === 1) ones++;
  });
  assert.ok(ones > 50 && differ <= ones / 1000, `${differ} of ${ones} voxels differ`);
});

test('roi subset: none of the classes found → all background, no full pass', async () => {
  const { volume, spacingZYX } = paintedCt();
  const r = await predictVolume(volume, spacingZYX, {
    network: thresholdNetwork(1e9),
    inputChannels: 1,
    patchSizeZYX: [16, 32, 32],
    mode: 'v1',
    roiSubset: { labels: [1] },
  });
  assert.ok(r.labels.every((v) => v === 0));
  assert.equal(r.tiles, 0);
  assert.equal(r.roi?.regionZYX, null);
});

test('roi subset: an unknown class name is one error naming it and where to look', () => {
  assert.throws(
    () => roiLabelValues(['livr'], ['background', 'liver', 'spleen']),
    (e: unknown) =>
      e instanceof StunetError && /'livr' is not a class of this model.*--list-classes/.test(e.message),
  );
  assert.throws(() => roiLabelValues(['iver'], ['background', 'liver']), /did you mean liver/);
  assert.deepEqual(roiLabelValues(['spleen', 'liver'], ['background', 'liver', 'spleen']), [2, 1]);
});
