/**
 * Every transfer syntax: series that DCMTK/GDCM encoded once (test/fixtures/dicom/syntaxes, see its
 * README) decode to the values of their explicit-VR source; series our test writer makes round-trip.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { readDicomSeries } from '../../../src/io/dicom/read.js';
import { fixturePath } from '../../helpers.js';
import { makeSeries, type Syntax } from './make-dicom.js';

function folder(name: string): { name: string; bytes: Uint8Array }[] {
  const dir = fixturePath('dicom', 'syntaxes', name);
  return readdirSync(dir)
    .sort()
    .map((n) => ({ name: n, bytes: new Uint8Array(readFileSync(`${dir}/${n}`)) }));
}

const LOSSLESS: [string, string][] = [
  ['implicit', '1.2.840.10008.1.2'],
  ['deflate', '1.2.840.10008.1.2.1.99'],
  ['rle', '1.2.840.10008.1.2.5'],
  ['jpeg-lossless-sv1', '1.2.840.10008.1.2.4.70'],
  ['jpeg-lossless', '1.2.840.10008.1.2.4.57'],
  ['jpeg-lossless-sv2', '1.2.840.10008.1.2.4.57'],
  ['jpeg-lossless-sv3', '1.2.840.10008.1.2.4.57'],
  ['jpeg-lossless-sv4', '1.2.840.10008.1.2.4.57'],
  ['jpeg-lossless-sv5', '1.2.840.10008.1.2.4.57'],
  ['jpeg-lossless-sv7', '1.2.840.10008.1.2.4.57'],
  ['jpeg-ls', '1.2.840.10008.1.2.4.80'],
  ['jpeg2000', '1.2.840.10008.1.2.4.90'],
];

for (const [name, uid] of LOSSLESS) {
  test(`${name} (${uid}) decodes to the source's values`, async () => {
    const source = await readDicomSeries(folder('source-12bit'));
    const r = await readDicomSeries(folder(name));
    assert.deepEqual(r.series.transferSyntaxes, [uid]);
    assert.deepEqual(r.image.dims, [16, 12, 3]);
    assert.deepEqual(r.image.affine, source.image.affine);
    assert.deepEqual(r.image.data, source.image.data);
    assert.ok(
      r.image.data.some((v) => v > 2000) && r.image.data.some((v) => v < -1000),
      'the rescale was applied',
    );
  });
}

test('JPEG lossless 8-bit, and with a point transform of 2 (the 2 low bits dropped)', async () => {
  const source8 = await readDicomSeries(folder('source-8bit'));
  const r8 = await readDicomSeries(folder('jpeg-lossless-8bit'));
  assert.deepEqual(r8.image.data, source8.image.data);
  const source = await readDicomSeries(folder('source-12bit'));
  const pt = await readDicomSeries(folder('jpeg-lossless-pt2'));
  assert.deepEqual(
    [...pt.image.data],
    [...source.image.data].map((v) => (((v + 1024) >> 2) << 2) - 1024),
  );
});

test('JPEG baseline (1.2.840.10008.1.2.4.50, lossy at quality 100) decodes close to the source', async () => {
  const source = await readDicomSeries(folder('source-8bit'));
  const r = await readDicomSeries(folder('jpeg-baseline'));
  assert.deepEqual(r.series.transferSyntaxes, ['1.2.840.10008.1.2.4.50']);
  assert.deepEqual(r.image.dims, [16, 12, 3]);
  let err = 0;
  for (let i = 0; i < r.image.data.length; i++)
    err += Math.abs((r.image.data[i] ?? 0) - (source.image.data[i] ?? 0));
  const mean = err / r.image.data.length;
  assert.ok(mean < 4, `mean absolute error ${mean} of 255`);
});

for (const syntax of ['implicit', 'explicit', 'deflate', 'rle'] as Syntax[]) {
  for (const bits of [8, 16] as const) {
    test(`our writer's ${syntax} ${bits}-bit series reads back exactly`, async () => {
      const reference = await readDicomSeries(makeSeries(3, { bitsAllocated: bits }));
      const r = await readDicomSeries(makeSeries(3, { bitsAllocated: bits, syntax }));
      assert.deepEqual(r.image.data, reference.image.data);
      assert.ok(r.image.data.some((v) => v !== 0));
    });
  }
}

test('undefined-length sequences and items are stepped over, explicit and implicit', async () => {
  for (const syntax of ['explicit', 'implicit', 'deflate'] as Syntax[]) {
    const reference = await readDicomSeries(makeSeries(2));
    const r = await readDicomSeries(makeSeries(2, { syntax, sequence: true }));
    assert.deepEqual(r.image.data, reference.image.data);
  }
});
