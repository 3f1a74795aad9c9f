import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gunzipSync } from 'fflate';
import { expectClose } from '../helpers.js';
import { at, loadNifti, niftiBytes } from './nifti-helpers.js';
import { qformAffine, sformAffine } from '../../src/io/geometry.js';
import { assertFinite, findNonFinite, readNifti, require3d, writeNifti } from '../../src/io/nifti.js';
import { serializeNiftiHeader } from '../../src/io/nifti-header.js';
import type { NiftiRawData } from '../../src/io/nifti-data.js';
import { createNifti, niftiToVolume, volumeToNifti } from '../../src/io/nifti-volume.js';
import { mat4 } from '../../src/io/geometry.js';
import { StunetError } from '../../src/util/errors.js';

const sumRaw = (raw: NiftiRawData): number => {
  let s = 0;
  for (const v of raw) s += Number(v);
  return s;
};
const flat = (m: readonly (readonly number[])[]): number[] => m.flatMap((r) => [...r]);

// Reference numbers below come from an independent numpy reader (np.frombuffer + Fortran reshape).
test('example_ct_sm: int16 CT, sform_code 2, values and nnU-Net array order', () => {
  const img = loadNifti('example_ct_sm.nii.gz');
  assert.equal(img.datatype, 'int16');
  assert.deepEqual(img.dims, [122, 101, 30]);
  assert.equal(img.affineSource, 'sform');
  assert.equal(img.header.qform_code, 0);
  assert.equal(sumRaw(img.raw), -130894872);
  assert.equal(img.data[at(img, 5, 7, 3)], -489);
  assert.equal(img.data[at(img, 120, 98, 26)], -1009);
  const v = niftiToVolume(img);
  assert.deepEqual(v.volume.shape, [1, 30, 101, 122]);
  assert.equal(v.volume.data[(3 * 101 + 7) * 122 + 5], -489); // [z=3][y=7][x=5] = NIfTI (5, 7, 3)
  assert.deepEqual(v.spacingZYX, [3, 3, 3]);
  // SimpleITK: origin = (−x, −y, z) of the RAS sform translation, direction diag(−1, −1, 1)
  expectClose(v.originLPS, [177.956329345703, -11.319000244140625, 94.3017578125], { atol: 1e-9 });
  assert.deepEqual(
    v.directionLPS.map((d) => d + 0),
    [-1, 0, 0, 0, -1, 0, 0, 0, 1],
  );
});

test('shear.nii.gz: uint8 with scl_slope/scl_inter reads as HU; sheared sform survives write→read', () => {
  const img = loadNifti('shear.nii.gz');
  assert.equal(img.datatype, 'uint8');
  expectClose([img.header.scl_slope, img.header.scl_inter], [7.109804153442383, -1024], { atol: 0 });
  assert.equal(img.raw[at(img, 150, 200, 27)], 157);
  expectClose([img.data[at(img, 150, 200, 27)] ?? NaN], [92.2392520904541], { atol: 1e-4 });
  assert.equal(Math.min(...img.data.subarray(0, 1000)), -1024);
  expectClose([img.data.reduce((a, b) => a + b, 0)], [-5577896244.733097], { rtol: 1e-6 });
  assert.equal(img.affineSource, 'sform');
  assert.ok(Math.abs(img.affine[2][1]) > 0.15, 'z depends on j: the gantry-tilt shear');
  for (const datatype of [undefined, 'float32'] as const) {
    const back = readNifti(writeNifti(img, datatype === undefined ? {} : { datatype }));
    assert.deepEqual(flat(back.affine), flat(img.affine), `affine (${datatype ?? 'default'})`);
    assert.equal(back.datatype, datatype ?? 'uint8');
    assert.deepEqual(back.dims, img.dims);
    expectClose(back.data, img.data, { atol: 0, label: 'HU' });
  }
  // the default keeps uint8 + the original scaling, so the stored bytes are unchanged
  assert.deepEqual(readNifti(writeNifti(img)).raw, img.raw);
  // HU are not integers: int16 needs an explicit scale (here 0.5 HU steps)
  assert.throws(() => writeNifti(img, { datatype: 'int16' }), /is not an integer for int16/);
  const halves = readNifti(writeNifti(img, { datatype: 'int16', scale: { slope: 0.5, inter: 0 } }));
  expectClose(halves.data, img.data, { atol: 0.25 + 1e-4, label: 'HU at 0.5 steps' });
});

test('hippo.nii.gz: qfac −1 quaternion gives the same affine as its sform', () => {
  const img = loadNifti('hippo.nii.gz');
  assert.equal(img.header.pixdim[0], -1);
  assert.equal(img.datatype, 'float32');
  expectClose(flat(qformAffine(img.header)), flat(sformAffine(img.header)), { atol: 1e-5 });
  assert.equal(
    img.data.reduce((a, b) => a + b, 0),
    4698,
  );
});

test('ras.hdr/ras.img pair reads; the .hdr alone is refused with advice', () => {
  const img = loadNifti('ras.hdr');
  assert.equal(img.header.singleFile, false);
  assert.deepEqual(img.dims, [62, 41, 34]);
  assert.equal(sumRaw(img.raw), 15024169);
  assert.equal(img.data[at(img, 5, 7, 3)], 255);
  expectClose(flat(qformAffine(img.header)), flat(sformAffine(img.header)), { atol: 1e-5 });
  assert.throws(() => readNifti(niftiBytes('ras.hdr')), /\.hdr header.*\.img/);
});

test('errors: truncated, not NIfTI, bad magic, corrupt gzip, colour, 2D and 4D', () => {
  const nii = gunzipSync(niftiBytes('nifti_space', 'RAS.nii.gz'));
  assert.throws(() => readNifti(nii.subarray(0, nii.length - 10)), /truncated.*need 338752 bytes/);
  assert.throws(() => readNifti(nii.subarray(0, 200)), /header is truncated/);
  assert.throws(() => readNifti(new TextEncoder().encode('hello world, not a nifti')), /sizeof_hdr/);
  const badMagic = nii.slice();
  badMagic[344] = 0x41;
  assert.throws(() => readNifti(badMagic), /bad magic/);
  const gz = niftiBytes('nifti_space', 'RAS.nii.gz');
  assert.throws(() => readNifti(gz.subarray(0, gz.length >> 1)), /not valid gzip|truncated/);
  const rgb = nii.slice();
  new DataView(rgb.buffer).setInt16(70, 128, true);
  assert.throws(
    () => readNifti(rgb),
    (e: unknown) => e instanceof StunetError && /rgb24/.test(e.message),
  );
  const affine = mat4([
    [1, 0, 0, 0],
    [0, 1, 0, 0],
    [0, 0, 1, 0],
  ]);
  const flat2d = createNifti({ raw: new Uint8Array(12), dims: [3, 4], affine });
  assert.throws(() => require3d(flat2d), /2D \(3×4\); a 3D volume is needed/);
  const series = createNifti({ raw: new Uint8Array(24), dims: [3, 4, 1, 2], affine });
  assert.throws(() => require3d(series), /4D \(3×4×1×2, 2 volumes\)/);
});

test('a 4th dimension of 1 reads as 3D (dim[0] = 4, dim[4] = 1)', () => {
  const nii = gunzipSync(niftiBytes('nifti_space', 'RAS.nii.gz')).slice();
  const v = new DataView(nii.buffer);
  v.setInt16(40, 4, true);
  v.setInt16(48, 1, true);
  const img = readNifti(nii);
  assert.deepEqual(img.dims, [64, 79, 67]);
  assert.deepEqual(require3d(img), [64, 79, 67]);
});

test('NaN/Inf detection', () => {
  assert.deepEqual(findNonFinite(Float32Array.of(1, NaN, 2, Infinity, -Infinity)), {
    nan: 1,
    inf: 2,
    firstIndex: 1,
  });
  assert.deepEqual(findNonFinite(Float32Array.of(1, 2)), { nan: 0, inf: 0, firstIndex: -1 });
  assert.throws(() => {
    assertFinite(Float32Array.of(0, NaN), 'input');
  }, /input has 1 NaN and 0 infinite/);
});

test('volume → NIfTI keeps the reference geometry; a segmentation writes as uint8', () => {
  const ct = loadNifti('example_ct_sm.nii.gz');
  const { volume } = niftiToVolume(ct);
  const seg = Uint8Array.from(volume.data, (v) => (v > 0 ? 1 : 0));
  const out = volumeToNifti({ data: seg, shape: volume.shape }, ct);
  const back = readNifti(writeNifti(out));
  assert.equal(back.datatype, 'uint8');
  assert.deepEqual(flat(back.affine), flat(ct.affine));
  assert.equal(back.header.sform_code, 2);
  assert.deepEqual(back.raw, seg);
  assert.throws(
    () => volumeToNifti({ data: seg, shape: [1, 30, 122, 101] }, ct),
    /expected \(30, 101, 122\)/,
  );
  assert.throws(() => writeNifti(ct, { datatype: 'uint8' }), /out of range for uint8/);
  assert.throws(
    () =>
      writeNifti(createNifti({ raw: Float32Array.of(0.5), dims: [1, 1, 1], affine: ct.affine }), {
        datatype: 'int16',
      }),
    /not an integer/,
  );
});

test('extensions and descrip survive write→read', () => {
  const ras = loadNifti('nifti_space', 'RAS.nii.gz');
  const ext = { code: 6, data: new TextEncoder().encode('a comment, padded by the writer') };
  const img = { ...ras, header: { ...ras.header, descrip: 'x'.repeat(80), extensions: [ext] } };
  const back = readNifti(writeNifti(img, { gzip: false }));
  assert.equal(back.header.descrip, 'x'.repeat(80));
  const [got, ...more] = back.header.extensions;
  assert.equal(more.length, 0);
  assert.ok(got !== undefined);
  assert.equal(got.code, 6);
  assert.equal(new TextDecoder().decode(got.data).replace(/\0+$/, ''), 'a comment, padded by the writer');
  assert.equal(back.header.vox_offset % 16, 0);
  assert.deepEqual(back.raw, ras.raw);
  assert.equal(serializeNiftiHeader(back.header).length, back.header.vox_offset);
});
