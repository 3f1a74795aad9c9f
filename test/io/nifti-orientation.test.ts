import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { expectClose, fixturePath } from '../helpers.js';
import { loadNifti } from './nifti-helpers.js';
import { orientationCode, toClosestCanonical, fromCanonical } from '../../src/io/orientation.js';
import { readNifti, writeNifti } from '../../src/io/nifti.js';

const flat = (m: readonly (readonly number[])[]): number[] => m.flatMap((r) => [...r]);
const FILES = readdirSync(fixturePath('nifti', 'nifti_space'))
  .filter((f) => f.endsWith('.nii.gz'))
  .sort();

test('nifti_space: 48 orientations, codes match file names, all map to the same RAS array', () => {
  assert.equal(FILES.length, 48);
  const ref = toClosestCanonical(loadNifti('nifti_space', 'RAS.nii.gz')).image;
  assert.deepEqual(ref.dims, [64, 79, 67]);
  for (const file of FILES) {
    const name = file.replace('.nii.gz', '');
    const img = loadNifti('nifti_space', file);
    assert.equal(orientationCode(img.affine), name, `${file}: orientation code`);
    const { image: canon, transform } = toClosestCanonical(img);
    assert.equal(orientationCode(canon.affine), 'RAS', `${file}: canonical code`);
    assert.deepEqual(canon.dims, ref.dims, `${file}: canonical dims`);
    assert.deepEqual(canon.raw, ref.raw, `${file}: canonical voxels`);
    assert.deepEqual(canon.data, ref.data, `${file}: canonical scaled voxels`);
    // the files' origins are stored as float32, so the canonical affines agree to ~1e-5 mm
    expectClose(flat(canon.affine), flat(ref.affine), { atol: 1e-4, label: `${file}: canonical affine` });
    // and back, exactly
    const back = fromCanonical(canon, transform);
    assert.deepEqual(back.dims, img.dims);
    assert.deepEqual(back.raw, img.raw, `${file}: back to original order`);
    assert.deepEqual(back.affine, img.affine);
    assert.deepEqual(back.header, img.header);
  }
});

test('canonical image writes and reads back as RAS with the same world geometry', () => {
  const img = loadNifti('nifti_space', 'PIR.nii.gz');
  const { image: canon } = toClosestCanonical(img);
  const back = readNifti(writeNifti(canon));
  assert.equal(orientationCode(back.affine), 'RAS');
  assert.deepEqual(back.raw, canon.raw);
  expectClose(flat(back.affine), flat(canon.affine), { atol: 1e-5 });
});

test('sheared CT: closest canonical picks the nearest axes and the way back is exact', () => {
  const img = loadNifti('shear.nii.gz');
  assert.equal(orientationCode(img.affine), 'RAS');
  const { image: canon, transform } = toClosestCanonical(img);
  assert.equal(canon, img, 'already RAS: returned as is');
  const hippo = loadNifti('hippo.nii.gz');
  assert.equal(orientationCode(hippo.affine), 'LAS');
  const c = toClosestCanonical(hippo);
  assert.equal(orientationCode(c.image.affine), 'RAS');
  assert.deepEqual(fromCanonical(c.image, c.transform).data, hippo.data);
  assert.deepEqual(fromCanonical(canon, transform).raw, img.raw);
});
