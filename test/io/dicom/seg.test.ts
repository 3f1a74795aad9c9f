/**
 * DICOM-SEG (issue 12 item 2/3): the real CT's TotalSegmentator segmentation written as a SEG reads back
 * to the same label voxels, and dciodvfy reports no error; edge cases built here.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDicom } from '../../../src/io/dicom/parse.js';
import { writeRtStruct } from '../../../src/io/dicom/rtstruct.js';
import type { DicomSource, LabelVolume } from '../../../src/io/dicom/source.js';
import { readDicomSeg } from '../../../src/io/dicom/seg-read.js';
import { writeDicomSeg } from '../../../src/io/dicom/seg.js';
import { parseDicomTree, treeItems, treeString } from '../../../src/io/dicom/tree.js';
import {
  dcmconv,
  labelMap,
  realCt,
  realMr,
  syntheticCt,
  TOTALSEG_V2_NAMES,
  validate,
} from './derived-helpers.js';

test('the real CT segmentation: SEG → read back gives the same label voxels; dciodvfy reports no error', async () => {
  const { ct, seg } = await realCt();
  assert.deepEqual(seg.dims, ct.image.dims); // on the series' grid: nothing to resample
  const bytes = writeDicomSeg({
    labels: seg,
    names: TOTALSEG_V2_NAMES,
    source: ct.source,
    algorithm: { name: 'STU-Net', version: '0.1.0' },
  });
  const back = readDicomSeg(bytes, ct.source, TOTALSEG_V2_NAMES);
  assert.equal(back.labels.length, seg.data.length);
  let diff = 0;
  for (let i = 0; i < back.labels.length; i++) if (back.labels[i] !== seg.data[i]) diff++;
  assert.equal(diff, 0, `${diff} voxels differ`);
  const present = new Set(Array.from(seg.data).filter((v) => v > 0));
  assert.equal(back.segments.length, present.size);
  const report = validate(bytes, 'seg.dcm');
  assert.match(report, /Segmentation/);
  // the segments: labels from the class names, SNOMED CT codes, AUTOMATIC, the algorithm
  const t = parseDicomTree(bytes, 'seg');
  const liver = treeItems(t, 0x00620002).find((s) => treeString(s, 0x00620005) === 'liver');
  assert.ok(liver !== undefined, 'a liver segment');
  assert.equal(treeString(liver, 0x00620008), 'AUTOMATIC');
  assert.equal(treeString(liver, 0x00620009), 'STU-Net');
  const type = treeItems(liver, 0x0062000f)[0];
  assert.ok(type !== undefined);
  assert.equal(treeString(type, 0x00080100), '10200004');
  assert.equal(treeString(type, 0x00080102), 'SCT');
  assert.equal(treeString(t, 0x00181020), '0.1.0');
  assert.equal(treeString(t, 0x00200052), '1.3.12.2.1107.5.1.4.60064.30000022120807274275100000041');
});

test('synthetic cases: a ring, two blobs, a class on one slice, a class with no code, >255 classes', async () => {
  const ct = await syntheticCt(24, 20, 5);
  const dims = ct.image.dims;
  const names = ['background', 'liver', 'kidney_left', 'made_up_class'];
  const data = labelMap(dims, (x, y, z) => {
    const r = Math.hypot(x - 10, y - 12);
    if (z === 1 && r >= 3 && r <= 7) return 1; // ring with a hole
    if (z === 2 && (Math.hypot(x - 4, y - 4) < 2.5 || Math.hypot(x - 15, y - 18) < 3)) return 2; // two blobs
    if (z === 4 && x === 0 && y === 0) return 3; // one voxel on one slice, no SNOMED code
    return 0;
  });
  const bytes = writeDicomSeg({ labels: { data, dims }, names, source: ct.source });
  validate(bytes, 'synthetic-seg.dcm');
  assert.deepEqual(Array.from(readDicomSeg(bytes, ct.source, names).labels), Array.from(data));
  const t = parseDicomTree(bytes, 'seg');
  assert.equal(treeString(t, 0x00280008), '3'); // one frame per (segment, slice) present
  const madeUp = treeItems(t, 0x00620002)[2];
  assert.ok(madeUp !== undefined);
  assert.equal(treeString(treeItems(madeUp, 0x0062000f)[0] ?? madeUp, 0x00080104), 'Tissue');
  assert.match(treeString(madeUp, 0x00620006) ?? '', /no SNOMED CT code/);
  // 300 classes: segment numbers are 16-bit, so they are written
  const many = labelMap(dims, (x, y, z) => ((z * 480 + y * 20 + x) % 300) + 1);
  const manyNames = ['background', ...Array.from({ length: 300 }, (_, i) => `class_${i + 1}`)];
  const big = writeDicomSeg({ labels: { data: many, dims }, names: manyNames, source: ct.source });
  assert.deepEqual(Array.from(readDicomSeg(big, ct.source, manyNames).labels), Array.from(many));
  assert.equal(readDicomSeg(big, ct.source).segments.length, 300);
});

test('bad input (SEG and RTSTRUCT): an empty label map, labels off the grid, a value without a name: one clear error', async () => {
  const ct = await syntheticCt(8, 6, 3);
  const dims = ct.image.dims;
  const names = ['background', 'liver'];
  for (const write of [writeDicomSeg, writeRtStruct]) {
    const labels = (
      data: ArrayLike<number>,
      d = dims,
    ): { labels: LabelVolume; names: string[]; source: DicomSource } => ({
      labels: { data, dims: d },
      names,
      source: ct.source,
    });
    assert.throws(() => write(labels(new Uint8Array(8 * 6 * 3))), /no foreground voxel/);
    assert.throws(
      () => write(labels(new Uint8Array(8 * 6 * 4).fill(1), [6, 8, 4])),
      /not on the grid of the series \(6×8×3\)/,
    );
    assert.throws(
      () => write(labels(new Uint8Array(8 * 6 * 3).fill(2))),
      /label value\(s\) 2 have no class name/,
    );
    for (const v of [1.5, -1, 70000]) {
      const data = new Float32Array(8 * 6 * 3).fill(v);
      assert.throws(() => write(labels(data)), /label values are whole numbers from 0 to 65535/);
    }
  }
});

test('a 3D MR reoriented to RAS: labels on the image grid go to the right slices and come back on that grid', async () => {
  const mr = await realMr();
  const dims = mr.image.dims;
  const names = ['background', 'brain', 'skull'];
  const data = labelMap(dims, (x, y, z) => (x < 40 && y > 100 ? 1 : (x + 2 * y + 3 * z) % 97 === 0 ? 2 : 0));
  const bytes = writeDicomSeg({ labels: { data, dims, affine: mr.image.affine }, names, source: mr.source });
  validate(bytes, 'mr-seg.dcm');
  assert.deepEqual(Array.from(readDicomSeg(bytes, mr.source, names).labels), Array.from(data));
  // without its affine the same voxels are not on the series' (stack) grid
  assert.throws(
    () =>
      writeDicomSeg({
        labels: { data, dims: [dims[2] ?? 0, dims[0] ?? 0, dims[1] ?? 0] },
        names,
        source: mr.source,
      }),
    /not on the grid/,
  );
});

test('another encoding of a SEG (implicit VR, converted by DCMTK) decodes the same', async () => {
  const ct = await syntheticCt(12, 10, 4);
  const dims = ct.image.dims;
  const names = ['background', 'liver', 'spleen'];
  const data = labelMap(dims, (x, y, z) => (z > 0 && x > y ? 1 : x === 0 ? 2 : 0));
  const implicit = dcmconv(writeDicomSeg({ labels: { data, dims }, names, source: ct.source }), '+ti');
  assert.equal(parseDicom(implicit, 'seg').transferSyntax, '1.2.840.10008.1.2');
  assert.deepEqual(Array.from(readDicomSeg(implicit, ct.source, names).labels), Array.from(data));
});
