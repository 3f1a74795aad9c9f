import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  binaryFillHoles,
  cropToNonzero,
  imageCropperCrop,
  type BBox3,
} from '../../src/preprocessing/crop.js';
import { StunetError } from '../../src/util/errors.js';
import { loadData, loadJson, loadSeg } from './fixtures.js';

interface CResults {
  bbox: BBox3;
  'ImageCropper.crop_properties': { crop_bbox: BBox3; classes: number[]; size_after_cropping: number[] };
}
const results = loadJson('c_results.json') as CResults;

test('(c) crop_to_nonzero with a seg: bbox, data, seg (−1 where seg is 0 outside the filled mask)', () => {
  const r = cropToNonzero(loadData('c_input_data.npy'), loadSeg('c_input_seg.npy'));
  assert.deepEqual(r.bbox, results.bbox);
  const expData = loadData('c_cropped_data.npy');
  const expSeg = loadSeg('c_cropped_seg.npy');
  assert.deepEqual(r.data.shape, expData.shape);
  assert.deepEqual(Array.from(r.data.data), Array.from(expData.data));
  assert.deepEqual(r.seg.shape, expSeg.shape);
  assert.deepEqual(Array.from(r.seg.data), Array.from(expSeg.data));
});

test('(c) crop_to_nonzero without a seg returns the −1/0 nonzero marker', () => {
  const r = cropToNonzero(loadData('c_input_data.npy'), null);
  const exp = loadSeg('c_cropped_seg_when_seg_is_None.npy');
  assert.deepEqual(r.seg.shape, exp.shape);
  assert.deepEqual(Array.from(r.seg.data), Array.from(exp.data));
});

test('(c) ImageCropper.crop properties', () => {
  const r = imageCropperCrop(loadData('c_input_data.npy'), loadSeg('c_input_seg.npy'));
  const exp = results['ImageCropper.crop_properties'];
  assert.deepEqual(r.properties.crop_bbox, exp.crop_bbox);
  assert.deepEqual(r.properties.classes, exp.classes);
  assert.deepEqual(r.properties.size_after_cropping, exp.size_after_cropping);
});

test('an all-zero image is a BAD_INPUT error', () => {
  assert.throws(
    () => cropToNonzero({ data: new Float32Array(8), shape: [1, 2, 2, 2] }),
    (e: unknown) => e instanceof StunetError && e.code === 'BAD_INPUT',
  );
});

test('binaryFillHoles: 6-connected enclosed background is filled, border-connected is not', () => {
  // A solid 3³ cube inside a 5³ array, with one enclosed background voxel at its centre.
  const d = 5;
  const m = new Uint8Array(d * d * d);
  const at = (z: number, y: number, x: number): number => (z * d + y) * d + x;
  for (let z = 1; z < 4; z++) for (let y = 1; y < 4; y++) for (let x = 1; x < 4; x++) m[at(z, y, x)] = 1;
  m[at(2, 2, 2)] = 0; // enclosed hole
  const filled = binaryFillHoles(m, [d, d, d]);
  assert.equal(filled[at(2, 2, 2)], 1);
  m[at(2, 2, 1)] = 0; // open a 6-connected path from the hole to the outside
  const open = binaryFillHoles(m, [d, d, d]);
  assert.equal(open[at(2, 2, 2)], 0);
  assert.equal(open[at(2, 2, 1)], 0);
});

test('binaryFillHoles is idempotent and only adds voxels (property)', () => {
  fc.assert(
    fc.property(
      fc.tuple(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 6 }),
      ),
      fc.infiniteStream(fc.boolean()),
      (dims, bits) => {
        const n = dims[0] * dims[1] * dims[2];
        const it = bits[Symbol.iterator]();
        const m = Uint8Array.from({ length: n }, () => (it.next().value === true ? 1 : 0));
        const f1 = binaryFillHoles(m, dims);
        for (let i = 0; i < n; i++) if (m[i] === 1) assert.equal(f1[i], 1);
        assert.deepEqual(binaryFillHoles(f1, dims), f1);
      },
    ),
  );
});
