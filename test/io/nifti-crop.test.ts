import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { cropNifti } from '../../src/io/nifti-crop.js';
import { readNifti } from '../../src/io/nifti.js';
import { fixturePath } from '../helpers.js';

const img = readNifti(readFileSync(fixturePath('nifti', 'example_ct_sm.nii.gz')));
const world = (a: readonly (readonly number[])[], i: number, j: number, k: number): number[] =>
  [0, 1, 2].map((r) => {
    const row = a[r] ?? [];
    return (row[0] ?? 0) * i + (row[1] ?? 0) * j + (row[2] ?? 0) * k + (row[3] ?? 0);
  });

test('cropNifti keeps the voxels of the box, the datatype, and every voxel where it was in space', () => {
  const [I = 0, J = 0] = img.dims;
  const c = cropNifti(img, [40, 30, 6], [7, 5, 3]);
  assert.deepEqual(c.dims, [7, 5, 3]);
  assert.equal(c.raw.constructor, img.raw.constructor);
  for (const [i, j, k] of [
    [0, 0, 0],
    [6, 4, 2],
    [3, 1, 1],
  ] as const) {
    assert.equal(c.raw[(k * 5 + j) * 7 + i], img.raw[((6 + k) * J + 30 + j) * I + 40 + i]);
    const a = world(c.affine, i, j, k);
    const b = world(img.affine, 40 + i, 30 + j, 6 + k);
    a.forEach((v, d) => {
      assert.ok(Math.abs(v - (b[d] ?? NaN)) < 1e-9);
    });
  }
});

test('cropNifti refuses a box that leaves the image or is empty', () => {
  const [I = 0] = img.dims;
  assert.throws(() => cropNifti(img, [I - 2, 0, 0], [3, 1, 1]), {
    code: 'BAD_INPUT',
    message: /leaves the image/,
  });
  assert.throws(() => cropNifti(img, [0, 0, 0], [0, 1, 1]), { code: 'BAD_INPUT', message: /not a box/ });
});
