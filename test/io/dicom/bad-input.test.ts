/**
 * Bad input gets one clear error (and nothing is returned): no image series, a non-image DICOM, lengths
 * past the end of the file, corrupt pixel data in each encoding, a folder with only other files.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseDicom } from '../../../src/io/dicom/parse.js';
import { readDicomSeries } from '../../../src/io/dicom/read.js';
import { dicomFilesFromZip } from '../../../src/io/dicom/zip.js';
import { fixturePath } from '../../helpers.js';
import { makeDicom, makeSeries, syntheticPixels } from './make-dicom.js';

const rejectsWith = (p: Promise<unknown>, re: RegExp): Promise<void> =>
  assert.rejects(p, (e: Error) => re.test(e.message) || assert.fail(e.message));

function fixture(name: string): { name: string; bytes: Uint8Array }[] {
  const dir = fixturePath('dicom', 'syntaxes', name);
  return readdirSync(dir)
    .sort()
    .map((n) => ({ name: n, bytes: new Uint8Array(readFileSync(`${dir}/${n}`)) }));
}

test('no image series: only non-image DICOM, only other files, nothing', async () => {
  const nonImage = makeDicom({ rows: 1, columns: 1, pixels: [], position: [0, 0, 0], noPixels: true });
  await rejectsWith(
    readDicomSeries([{ name: 'report.dcm', bytes: nonImage }]),
    /no image series among 1 file\(s\): 1 DICOM file\(s\) without pixel data \(e\.g\. report\.dcm/,
  );
  const text = new TextEncoder().encode('not dicom');
  await rejectsWith(
    readDicomSeries([{ name: 'notes.txt', bytes: text }]),
    /no image series among 1 file\(s\): no DICOM files/,
  );
  await rejectsWith(readDicomSeries([]), /no image series among 0 file\(s\)/);
});

test('non-image and non-DICOM files beside a series are passed over and reported', async () => {
  const nonImage = makeDicom({ rows: 1, columns: 1, pixels: [], position: [0, 0, 0], noPixels: true });
  const files = [
    ...makeSeries(3),
    { name: 'DICOMDIR', bytes: nonImage },
    { name: 'readme.txt', bytes: new Uint8Array(10) },
  ];
  const r = await readDicomSeries(files);
  assert.equal(r.image.dims[2], 3);
  assert.deepEqual([...r.skipped].sort(), ['DICOMDIR', 'readme.txt']);
});

test('a length past the end of the file is one error before anything is allocated', () => {
  const bytes = makeDicom({ rows: 4, columns: 4, pixels: syntheticPixels(4, 4, 0), position: [0, 0, 0] });
  // the pixel data element is last: claim 1 GiB
  const lie = bytes.slice();
  const view = new DataView(lie.buffer);
  const at = lie.length - 32 - 4; // OW: tag(4) VR(2) reserved(2) length(4), then 32 bytes of pixels
  assert.equal(view.getUint32(at, true), 32);
  view.setUint32(at, 2 ** 30, true);
  assert.throws(
    () => parseDicom(lie, 'lie.dcm'),
    /lie\.dcm: element \(7FE0,0010\) at byte \d+ says 1073741824 bytes but only 32 are left/,
  );
  assert.throws(() => parseDicom(bytes.subarray(0, 200), 'cut.dcm'), /cut\.dcm: .*(truncated or corrupt)/);
  assert.throws(() => parseDicom(new Uint8Array(200), 'zeros.dcm'), /zeros\.dcm: not a DICOM file/);
});

test('corrupt pixel data: native too short, RLE, JPEG 2000, JPEG lossless, JPEG-LS', async () => {
  // a valid file whose header promises more pixels than its pixel data holds
  const wide = makeDicom({ rows: 4, columns: 4, pixels: syntheticPixels(4, 4, 0), position: [0, 0, 0] });
  const view = new DataView(wide.buffer);
  for (let p = 132; p < wide.length - 8; p++) {
    if (view.getUint32(p, true) === 0x00100028 && wide[p + 4] === 0x55) {
      view.setUint16(p + 8, 40, true); // Rows 4 → 40
      break;
    }
  }
  await rejectsWith(
    readDicomSeries([{ name: 'wide.dcm', bytes: wide }]),
    /wide\.dcm: pixel data has 32 bytes, 4×40 at 16 bits needs 320 \(corrupt pixel data\)/,
  );
  // a garbled tail (the header stays readable) or a garbled start of the compressed stream
  for (const [name, tail, re] of [
    ['rle', true, /s001\.dcm: RLE pixel data segment 0 overruns at byte \d+ \(corrupt pixel data\)/],
    [
      'rle',
      false,
      /s001\.dcm: RLE pixel data has 0 segments, 16-bit greyscale needs 2 \(corrupt pixel data\)/,
    ],
    ['jpeg2000', true, /s001\.dcm: the jpeg2000 pixel data does not decode .*corrupt pixel data/],
    ['jpeg2000', false, /s001\.dcm: the jpeg2000 pixel data does not decode .*corrupt pixel data/],
    ['jpeg-ls', true, /s001\.dcm: the jpeg-ls pixel data does not decode .*corrupt pixel data/],
    [
      'jpeg-lossless',
      true,
      /s001\.dcm: the JPEG lossless stream a Huffman code matches no table entry \(corrupt pixel data\)/,
    ],
    [
      'jpeg-lossless',
      false,
      /s001\.dcm: the JPEG lossless stream does not start with SOI \(corrupt pixel data\)/,
    ],
  ] as const) {
    const files = fixture(name);
    const f = files[1];
    assert.ok(f !== undefined);
    const bad = f.bytes.slice();
    // the fragment is a view of `bad`, so this writes into the file
    const fragment = parseDicom(bad, f.name).fragments?.[0] ?? new Uint8Array();
    if (tail)
      for (let i = Math.floor(fragment.length / 3); i < fragment.length; i++) fragment[i] = (i * 131) & 255;
    else fragment.fill(0, 0, 8);
    files[1] = { name: f.name, bytes: bad };
    await rejectsWith(readDicomSeries(files), re);
  }
});

test('a corrupt zip or deflated data set is one clear error', () => {
  assert.throws(
    () => dicomFilesFromZip(new Uint8Array([0x50, 0x4b, 3, 4, 1, 2, 3]), 'x.zip'),
    /x\.zip is not a readable zip/,
  );
  const deflated = fixture('deflate')[0]?.bytes.slice() ?? new Uint8Array();
  for (let i = deflated.length - 40; i < deflated.length; i++) deflated[i] = 0xff;
  assert.throws(() => parseDicom(deflated, 'd.dcm'), /d\.dcm: /);
});

test('colour and multi-frame images are refused with what is missing', async () => {
  const colour = makeSeries(2, { samplesPerPixel: 3 });
  await rejectsWith(
    readDicomSeries(colour),
    /s000\.dcm: colour images \(RGB, 3 samples per pixel\) are not supported/,
  );
  const multi = makeSeries(1, { frames: 4 });
  await rejectsWith(
    readDicomSeries(multi),
    /s000\.dcm: multi-frame images \(4 frames\) are not supported yet/,
  );
  // beside a readable series, they are passed over
  const r = await readDicomSeries([
    ...makeSeries(3, { seriesUid: '2.1' }),
    ...makeSeries(2, { seriesUid: '2.2', frames: 4 }),
  ]);
  assert.equal(r.series.uid, '2.1');
});
