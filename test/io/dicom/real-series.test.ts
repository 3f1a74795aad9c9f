/**
 * The two real series (JPEG 2000 CT, implicit-VR MR) against dcm2niix's NIfTI of the same files: same
 * dims, affine to 1e-4 mm, the same voxels (crc32), from a folder, a shuffled list and a zip.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { zipSync } from 'fflate';
import { readDicomSeries } from '../../../src/io/dicom/read.js';
import { dicomFilesFromZip } from '../../../src/io/dicom/zip.js';
import { readNifti, type NiftiImage } from '../../../src/io/nifti.js';
import { readDicomSeriesFromPaths } from '../../../src/node/dicom-files.js';
import { crc32 } from '../../../src/util/crc32.js';
import { fixturePath } from '../../helpers.js';
import { maxAffineDiff } from './make-dicom.js';

interface Reference {
  dims: number[];
  affine: number[][];
  sum: number;
  crc32ScaledInt16: number;
}
const REF = JSON.parse(
  readFileSync(fixturePath('dicom', 'DERIVED_dcm2niix_reference.json'), 'utf8'),
) as Record<string, Reference>;

function folder(name: string): { name: string; bytes: Uint8Array }[] {
  return readdirSync(fixturePath('dicom', name))
    .sort()
    .map((n) => ({ name: n, bytes: new Uint8Array(readFileSync(fixturePath('dicom', name, n))) }));
}

function checkAgainstDcm2niix(image: NiftiImage, ref: Reference): void {
  assert.deepEqual(image.dims, ref.dims);
  const d = maxAffineDiff(image.affine, ref.affine);
  assert.ok(d < 1e-4, `affine differs from dcm2niix's by ${d} mm`);
  let sum = 0;
  for (const v of image.data) sum += v;
  assert.equal(sum, ref.sum);
  assert.equal(crc32(new Uint8Array(Int16Array.from(image.data).buffer)), ref.crc32ScaledInt16);
}

test('the JPEG 2000 CT series equals dcm2niix (volume and affine) and TotalSegmentator’s output grid', async () => {
  const files = folder('example_ct_dicom');
  const r = await readDicomSeries(files);
  checkAgainstDcm2niix(r.image, REF.example_ct_dicom as Reference);
  assert.equal(r.image.datatype, 'int16');
  assert.equal(r.series.modality, 'CT');
  assert.equal(r.series.slices, 20);
  assert.deepEqual(r.series.transferSyntaxes, ['1.2.840.10008.1.2.4.90']);
  // the segmentation TotalSegmentator wrote for these files has the same grid
  const seg = readNifti(new Uint8Array(readFileSync(fixturePath('dicom', 'example_seg_dicom.nii.gz'))));
  assert.deepEqual(seg.dims, r.image.dims);
  assert.ok(maxAffineDiff(r.image.affine, seg.affine) < 1e-4);
  // HU: the intercept is applied (air ≈ −1024)
  assert.ok(r.image.data.subarray(0, 512 * 512).reduce((m, v) => Math.min(m, v), Infinity) <= -1000);
});

test('the 3D MR series equals dcm2niix, including its reorientation of 3D acquisitions', async () => {
  const files = folder('niivue_mr');
  const r = await readDicomSeries(files);
  checkAgainstDcm2niix(r.image, REF.niivue_mr as Reference);
  assert.equal(r.series.modality, 'MR');
});

test('file order does not matter; a zip and a folder on disk give the same volume', async () => {
  const files = folder('niivue_mr');
  const shuffled = [files[2], files[0], files[1]].filter((f) => f !== undefined);
  const a = await readDicomSeries(files);
  const b = await readDicomSeries(shuffled.map((f, i) => ({ name: `x${i}`, bytes: f.bytes })));
  assert.deepEqual(b.image.affine, a.image.affine);
  assert.deepEqual(b.image.data, a.image.data);
  const zip = zipSync(Object.fromEntries(files.map((f) => [`series/${f.name}`, f.bytes])));
  const c = await readDicomSeries(dicomFilesFromZip(zip));
  assert.deepEqual(c.image.data, a.image.data);
  const d = await readDicomSeriesFromPaths(fixturePath('dicom', 'niivue_mr'));
  assert.deepEqual(d.image.data, a.image.data);
  assert.deepEqual(d.image.affine, a.image.affine);
});
