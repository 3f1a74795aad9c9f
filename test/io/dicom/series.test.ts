/**
 * Series the tests make: grouping and choice, sorting, spacing from positions, the dcm2niix affine for
 * every slice orientation, rescaling, and the stack checks (gap, duplicate, mixed orientations, tilt).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listDicomSeries, readDicomSeries } from '../../../src/io/dicom/read.js';
import { makeDicom, makeSeries, maxAffineDiff, syntheticPixels } from './make-dicom.js';

const rejectsWith = (p: Promise<unknown>, re: RegExp): Promise<void> =>
  assert.rejects(p, (e: Error) => re.test(e.message) || assert.fail(e.message));

test('slices are sorted along the normal whatever the file order; spacing from positions', async () => {
  const files = makeSeries(5, { step: 2.5, sliceThickness: 5 });
  const shuffled = [files[3], files[0], files[4], files[2], files[1]].filter((f) => f !== undefined);
  const r = await readDicomSeries(shuffled);
  assert.deepEqual(r.image.dims, [5, 6, 5]);
  assert.equal(r.image.affine[2][2], 2.5);
  // voxel (i, j, k) is slice k's pixel (row 5 − j, column i): rows flipped as dcm2niix does
  const expect = syntheticPixels(6, 5, 3);
  assert.equal(r.image.data[3 * 30 + (6 - 1 - 2) * 5 + 4], expect[2 * 5 + 4]);
});

/** Affines dcm2niix v1.0.20220720 wrote for these synthetic series (makeSeries(4, …), run once by hand). */
const DCM2NIIX: [string, Parameters<typeof makeSeries>[1], number[][]][] = [
  [
    'axial ascending',
    {},
    [
      [-0.75, 0, 0, 10],
      [0, 0.5, 0, 17.5],
      [0, 0, 2, 30],
    ],
  ],
  [
    'axial descending',
    { step: -2 },
    [
      [-0.75, 0, 0, 10],
      [0, 0.5, 0, 17.5],
      [0, 0, 2, 24],
    ],
  ],
  [
    'sagittal',
    { orientation: [0, 1, 0, 0, 0, -1], normal: [1, 0, 0] },
    [
      [0, 0, 2, 4],
      [-0.75, 0, 0, 20],
      [0, 0.5, 0, 27.5],
    ],
  ],
  [
    'sagittal reversed',
    { orientation: [0, 1, 0, 0, 0, -1], normal: [1, 0, 0], step: -2 },
    [
      [0, 0, 2, 10],
      [-0.75, 0, 0, 20],
      [0, 0.5, 0, 27.5],
    ],
  ],
  [
    'coronal',
    { orientation: [1, 0, 0, 0, 0, -1], normal: [0, -1, 0] },
    [
      [-0.75, 0, 0, 10],
      [0, 0, -2, 26],
      [0, 0.5, 0, 27.5],
    ],
  ],
  [
    'coronal reversed',
    { orientation: [1, 0, 0, 0, 0, -1], normal: [0, -1, 0], step: -2 },
    [
      [-0.75, 0, 0, 10],
      [0, 0, -2, 20],
      [0, 0.5, 0, 27.5],
    ],
  ],
  [
    'oblique in plane',
    { orientation: [0.8, 0.6, 0, -0.6, 0.8, 0], step: -2.5 },
    [
      [-0.6, -0.3, 0, 11.5],
      [-0.45, 0.4, 0, 18],
      [0, 0, 2.5, 22.5],
    ],
  ],
  [
    'double oblique',
    { orientation: [1, 0, 0, 0, 0.8, -0.6], normal: [0, -0.6, -0.8], step: 2.5 },
    [
      [-0.75, 0, 0, 10],
      [0, 0.4, -1.5, 22.5],
      [0, 0.3, 2, 22.5],
    ],
  ],
];

for (const [name, opts, affine] of DCM2NIIX) {
  test(`the affine is dcm2niix's: ${name}`, async () => {
    const r = await readDicomSeries(makeSeries(4, opts));
    const d = maxAffineDiff(r.image.affine, affine);
    assert.ok(d < 1e-4, `off by ${d}: ${JSON.stringify(r.image.affine)}`);
  });
}

test('several series in one folder: CT/MR first, then ORIGINAL\\PRIMARY, then the most slices; `series` picks one', async () => {
  const files = [
    ...makeSeries(6, { seriesUid: '1.1', modality: 'OT' }),
    ...makeSeries(3, { seriesUid: '1.2', imageType: 'DERIVED\\SECONDARY' }),
    ...makeSeries(2, { seriesUid: '1.3' }),
    ...makeSeries(4, { seriesUid: '1.4', position: [0, 0, 100] }),
  ].map((f, i) => ({ ...f, name: `f${i}` }));
  const r = await readDicomSeries(files.reverse());
  assert.equal(r.series.uid, '1.4');
  assert.equal(r.image.dims[2], 4);
  assert.deepEqual(r.otherSeries.map((s) => s.uid).sort(), ['1.1', '1.2', '1.3']);
  assert.deepEqual(
    listDicomSeries(files).map((s) => s.uid),
    ['1.4', '1.3', '1.2', '1.1'],
  );
  const chosen = await readDicomSeries(files, { series: '1.2' });
  assert.equal(chosen.image.dims[2], 3);
  await rejectsWith(readDicomSeries(files, { series: '9.9' }), /no series '9\.9'.*'1\.4' \(CT/);
});

test('RescaleSlope/Intercept: integers stay int16, fractions give float32, signed pixels are sign-extended', async () => {
  const pixels = [-5, 0, 7, 2047, -2048, 1];
  const spec = { rows: 2, columns: 3, pixels, signed: true };
  const int = await readDicomSeries(makeSeries(2, { ...spec, slope: 2, intercept: -10 }));
  assert.equal(int.image.datatype, 'int16');
  // row 1 of the file is NIfTI row 0
  assert.deepEqual([...int.image.data.subarray(0, 6)], [4084, -4106, -8, -20, -10, 4]);
  const frac = await readDicomSeries(
    makeSeries(2, { ...spec, slope: 0.5, intercept: 0.25, syntax: 'implicit' }),
  );
  assert.equal(frac.image.datatype, 'float32');
  assert.deepEqual([...frac.image.data.subarray(0, 6)], [1023.75, -1023.75, 0.75, -2.25, 0.25, 3.75]);
});

test('a gap, a duplicate position or uneven spacing is one clear error naming the files', async () => {
  const files = makeSeries(6);
  await rejectsWith(
    readDicomSeries(files.filter((_, i) => i !== 3)),
    /gap of 4 mm between s002\.dcm \(34 mm\) and s004\.dcm \(38 mm\) where the others are 2 mm apart/,
  );
  const dup = [...files, { name: 'copy.dcm', bytes: files[2]?.bytes ?? new Uint8Array() }];
  await rejectsWith(
    readDicomSeries(dup),
    /duplicate slice position: copy\.dcm and s002\.dcm are both at 34 mm/,
  );
  const uneven = [
    ...makeSeries(3),
    ...makeSeries(1, { position: [-10, -20, 35] }).map((f) => ({ ...f, name: 'odd.dcm' })),
  ];
  await rejectsWith(
    readDicomSeries(uneven),
    /uneven slice spacing: slices only 1 mm apart between s002\.dcm \(34 mm\) and odd\.dcm \(35 mm\)/,
  );
});

test('mixed orientations in one series are refused', async () => {
  const files = [
    ...makeSeries(3),
    {
      name: 'sag.dcm',
      bytes: makeDicom({
        rows: 6,
        columns: 5,
        pixels: syntheticPixels(6, 5, 0),
        position: [0, 0, 0],
        orientation: [0, 1, 0, 0, 0, -1],
      }),
    },
  ];
  await rejectsWith(
    readDicomSeries(files),
    /mixed orientations in one series: s000\.dcm has ImageOrientationPatient 1\\0\\0\\0\\1\\0, sag\.dcm has 0\\1\\0\\0\\0\\-1/,
  );
});

test('gantry tilt: refused by default; allowTilt resamples onto a regular grid', async () => {
  // slice k is moved k·0.25 mm along the column direction (0.5 pixel at 0.5 mm rows): a 7.1° tilt
  const rows = 8;
  const columns = 6;
  const files = [];
  for (let k = 0; k < 4; k++) {
    // a linear ramp in world y: value = 100 + 10·(world y in rows of slice 0)
    const pixels = Array.from(
      { length: rows * columns },
      (_, p) => 100 + 10 * (Math.floor(p / columns) + 0.5 * k),
    );
    files.push({
      name: `t${k}`,
      bytes: makeDicom({ rows, columns, pixels, position: [0, 0.25 * k, 2 * k], intercept: 0, slope: 1 }),
    });
  }
  await rejectsWith(readDicomSeries(files), /gantry tilt of 7\.13°.*pass allowTilt \(--allow-tilt\)/);
  const r = await readDicomSeries(files, { allowTilt: true });
  assert.ok(Math.abs((r.tiltDegrees ?? 0) - 7.125) < 0.01);
  assert.equal(r.image.affine[1][2], 0); // k is along the normal now, not sheared
  assert.equal(r.image.affine[2][2], 2);
  // on the regular grid, every slice shows the same ramp where the source covers it
  for (let k = 0; k < 4; k++) {
    const row = 3; // DICOM row 3 → NIfTI j = 4
    const v = r.image.data[k * rows * columns + (rows - 1 - row) * columns + 2];
    assert.equal(v, 100 + 10 * row);
  }
});

test('the positions must lie on a line', async () => {
  const files = makeSeries(4).concat(
    makeSeries(1, { position: [-9, -20, 38] }).map((f) => ({ ...f, name: 'off.dcm' })),
  );
  await rejectsWith(readDicomSeries(files), /slice positions do not lie on a line/);
});

test('a drift of the positions under a tenth of a pixel is rounding, not a tilt (kept in the affine as dcm2niix does)', async () => {
  const r = await readDicomSeries(makeSeries(4, { shift: [0, 0.005, 0] }));
  assert.equal(r.tiltDegrees, undefined);
  assert.ok(Math.abs(r.image.affine[1][2] + 0.005) < 1e-12);
});
