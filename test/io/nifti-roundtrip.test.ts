import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { mat4 } from '../../src/io/geometry.js';
import { readNifti, writeNifti, type NiftiDatatype, type NiftiImage } from '../../src/io/nifti.js';
import { serializeNiftiHeader } from '../../src/io/nifti-header.js';
import { createNifti } from '../../src/io/nifti-volume.js';
import type { NiftiRawData } from '../../src/io/nifti-data.js';

const RANGES: Record<string, readonly [number, number]> = {
  uint8: [0, 255],
  int8: [-128, 127],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-(2 ** 24), 2 ** 24], // exact in the float32 `data` as well
  uint32: [0, 2 ** 24],
};

function makeRaw(datatype: NiftiDatatype, values: readonly number[]): NiftiRawData {
  switch (datatype) {
    case 'uint8':
      return Uint8Array.from(values);
    case 'int8':
      return Int8Array.from(values);
    case 'int16':
      return Int16Array.from(values);
    case 'uint16':
      return Uint16Array.from(values);
    case 'int32':
      return Int32Array.from(values);
    case 'uint32':
      return Uint32Array.from(values);
    case 'int64':
      return BigInt64Array.from(values, (v) => BigInt(v));
    case 'uint64':
      return BigUint64Array.from(values, (v) => BigInt(v));
    case 'float32':
      return Float32Array.from(values);
    case 'float64':
      return Float64Array.from(values);
  }
}

const f32 = fc.double({ min: -1000, max: 1000, noNaN: true }).map(Math.fround);
/** Any non-singular affine with float32 entries (what a NIfTI-1 sform can hold exactly). */
const affineArb = fc
  .tuple(...Array.from({ length: 12 }, () => f32))
  .map((v) => mat4([v.slice(0, 4), v.slice(4, 8), v.slice(8, 12)]))
  .filter((a) => {
    const d =
      a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) -
      a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) +
      a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
    return Math.abs(d) > 1e-3;
  });

const imageArb = fc
  .record({
    datatype: fc.constantFrom<NiftiDatatype>(
      'uint8',
      'int8',
      'int16',
      'uint16',
      'int32',
      'uint32',
      'float32',
      'float64',
      'int64',
      'uint64',
    ),
    dims: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 3, maxLength: 5 }),
    affine: affineArb,
    descrip: fc.string({ maxLength: 80 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')),
    xyzt: fc.integer({ min: 0, max: 63 }),
  })
  .chain((r) => {
    const n = r.dims.reduce((a, b) => a * b, 1);
    const range = RANGES[r.datatype] ?? [-(2 ** 24), 2 ** 24];
    const value = r.datatype.startsWith('float')
      ? f32
      : fc.integer({ min: Math.max(range[0], r.datatype === 'uint64' ? 0 : range[0]), max: range[1] });
    return fc.tuple(fc.constant(r), fc.array(value, { minLength: n, maxLength: n }));
  })
  .map(([r, values]) => {
    const img = createNifti({ raw: makeRaw(r.datatype, values), dims: r.dims, affine: r.affine });
    return { ...img, header: { ...img.header, descrip: r.descrip, xyzt_units: r.xyzt } };
  });

function assertSameImage(back: NiftiImage, img: NiftiImage, datatype: NiftiDatatype): void {
  assert.deepEqual(back.dims, img.dims);
  assert.equal(back.datatype, datatype);
  assert.deepEqual(back.data, img.data);
  assert.deepEqual(back.affine, img.affine);
  assert.equal(back.header.descrip, img.header.descrip);
  assert.equal(back.header.xyzt_units, img.header.xyzt_units);
}

/** The same file in big-endian byte order (header fields and voxels swapped). */
function toBigEndian(le: Uint8Array, img: NiftiImage): Uint8Array {
  const parsed = readNifti(le);
  const header = serializeNiftiHeader({ ...parsed.header, littleEndian: false });
  const width = img.raw.BYTES_PER_ELEMENT;
  const voxels = le.slice(header.length);
  for (let p = 0; p < voxels.length; p += width) voxels.subarray(p, p + width).reverse();
  const out = new Uint8Array(header.length + voxels.length);
  out.set(header);
  out.set(voxels, header.length);
  return out;
}

test('read(write(x)) is identity: every datatype, NIfTI-1 and -2, gzip or not, either byte order', () => {
  fc.assert(
    fc.property(imageArb, fc.constantFrom<1 | 2>(1, 2), fc.boolean(), (img, version, gzip) => {
      const writable = img.datatype !== 'int64' && img.datatype !== 'uint64';
      const datatype = writable ? img.datatype : 'float64';
      const bytes = writeNifti(img, { version, gzip, datatype });
      const back = readNifti(bytes);
      assert.equal(back.header.version, version);
      assertSameImage(back, img, datatype);
      if (writable) assert.deepEqual(back.raw, img.raw);
      if (!gzip) {
        const be = readNifti(toBigEndian(bytes, back));
        assert.equal(be.header.littleEndian, false);
        assertSameImage(be, img, datatype);
      }
    }),
    { numRuns: 150 },
  );
});

test('int64/uint64 files read (stored values kept as BigInt, data as float32)', () => {
  const img = createNifti({
    raw: BigInt64Array.of(-5n, 7n, 2n ** 40n),
    dims: [3, 1, 1],
    affine: mat4([
      [1, 0, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 1, 0],
    ]),
  });
  // our writer does not emit 64-bit integers; build the file by hand from a float64 one
  const bytes = writeNifti(img, { datatype: 'float64', gzip: false });
  const v = new DataView(bytes.buffer);
  v.setInt16(70, 1024, true);
  for (let i = 0; i < 3; i++) v.setBigInt64(352 + 8 * i, img.raw[i] as bigint, true);
  const back = readNifti(bytes);
  assert.equal(back.datatype, 'int64');
  assert.deepEqual(back.raw, img.raw);
  assert.deepEqual(Array.from(back.data), [-5, 7, 2 ** 40]);
});
