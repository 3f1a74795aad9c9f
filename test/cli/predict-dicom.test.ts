/**
 * Issue 12, item 4: `stunet predict -i <DICOM folder | zip>` with `--output-type nifti,dicom-seg,rtstruct`,
 * `--series`, and the bad inputs. The labels of a DICOM series equal those of the same volume given as a
 * NIfTI; the SEG decodes to them voxel for voxel, the RTSTRUCT re-rasterises close to them, and dciodvfy
 * finds no error in either.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { zipSync } from 'fflate';
import { readDicomSeries } from '../../src/io/dicom/read.js';
import { rasteriseRtStruct } from '../../src/io/dicom/rtstruct.js';
import { readDicomSeg } from '../../src/io/dicom/seg-read.js';
import { readNifti, writeNifti } from '../../src/io/nifti.js';
import { fixturePath } from '../helpers.js';
import { dice, validate } from '../io/dicom/derived-helpers.js';
import { makeSeries } from '../io/dicom/make-dicom.js';
import { runCli, tempDir } from './cli-helpers.js';

const MODEL = fixturePath('stunet-forward', 'T1.model');
const CT_UID = '1.2.826.0.1.3680043.10.1234.1';
const SCOUT_UID = '1.2.826.0.1.3680043.10.1234.2';

/** A 40×48×24 CT series, 1.5 × 1.25 × 2.5 mm. */
const ctSeries = (): ReturnType<typeof makeSeries> =>
  makeSeries(24, {
    rows: 40,
    columns: 48,
    step: 2.5,
    pixelSpacing: [1.5, 1.25],
    seriesUid: CT_UID,
    sopPrefix: `${CT_UID}.7`,
    modality: 'CT',
    intercept: -1024,
  });

/** A folder with a 40×48×24 CT series and a 3-slice second series (shuffled names), and the CT as NIfTI. */
async function inputs(): Promise<{ dir: string; series: string; nifti: string }> {
  const dir = tempDir();
  const series = join(dir, 'patient_ct');
  mkdirSync(join(series, 'sub'), { recursive: true });
  const ct = ctSeries();
  const scout = makeSeries(3, { rows: 12, columns: 10, seriesUid: SCOUT_UID, modality: 'CT' });
  // Files in a subfolder too, names that do not sort in slice order.
  ct.forEach((f, i) => {
    writeFileSync(join(series, i % 2 === 0 ? 'sub' : '', `x${(i * 7) % 24}_${f.name}`), f.bytes);
  });
  scout.forEach((f) => {
    writeFileSync(join(series, `scout_${f.name}`), f.bytes);
  });
  const read = await readDicomSeries(ct);
  const nifti = join(dir, 'ct.nii.gz');
  writeFileSync(nifti, writeNifti(read.image));
  return { dir, series, nifti };
}

/** `<dir>/<name>.zip` of the folder's .dcm files whose names start with `prefix`, under DICOM/. */
function zipOf(dir: string, name: string, folder: string, prefix = ''): string {
  const entries: Record<string, Uint8Array> = {};
  for (const f of readdirSync(folder, { recursive: true }).map(String))
    if (f.endsWith('.dcm') && basename(f).startsWith(prefix))
      entries[`DICOM/${f}`] = readFileSync(join(folder, f));
  const zip = join(dir, `${name}.zip`);
  writeFileSync(zip, zipSync(entries));
  return zip;
}

const voxels = (path: string): Float32Array => readNifti(readFileSync(path)).data;

test('a DICOM folder: labels equal the NIfTI route; SEG decodes to them, RTSTRUCT re-rasterises to them, dciodvfy finds no error', async () => {
  const { dir, series, nifti } = await inputs();
  const out = join(dir, 'out');
  const r = runCli([
    'predict',
    '-i',
    series,
    '-o',
    out,
    '-m',
    MODEL,
    '--no-tta',
    '--output-type',
    'nifti,dicom-seg,rtstruct',
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stdout,
    new RegExp(
      `dicom: series ${CT_UID.replace(/\./g, '\\.')} \\(CT\\), 24 slices; 1 other series in the input`,
    ),
  );
  assert.deepEqual(readdirSync(out).sort(), [
    'patient_ct.json',
    'patient_ct.nii.gz',
    'patient_ct_rtstruct.dcm',
    'patient_ct_seg.dcm',
  ]);
  const ref = join(dir, 'ref.nii.gz');
  assert.equal(runCli(['predict', '-i', nifti, '-o', ref, '-m', MODEL, '--no-tta']).status, 0);
  const labels = voxels(join(out, 'patient_ct.nii.gz'));
  assert.deepEqual(labels, voxels(ref));
  const { labels: names } = JSON.parse(readFileSync(join(out, 'patient_ct.json'), 'utf8')) as {
    labels: Record<string, string>;
  };
  const byValue = Object.keys(names).map((v) => names[v] ?? '');
  const ct = await readDicomSeries(ctSeries());
  const seg = readFileSync(join(out, 'patient_ct_seg.dcm'));
  assert.deepEqual(Float32Array.from(readDicomSeg(seg, ct.source, byValue).labels), labels);
  const rt = rasteriseRtStruct(readFileSync(join(out, 'patient_ct_rtstruct.dcm')), ct.source, byValue);
  const present = [...new Set(labels)].filter((v) => v > 0);
  assert.ok(present.length > 0, 'the model finds some class');
  assert.deepEqual(rt.rois.map((x) => x.value).sort(), present.sort());
  for (const v of present)
    assert.ok(dice(rt.labels, labels, v) >= 0.9, `class ${v}: Dice ${dice(rt.labels, labels, v)}`);
  validate(seg, 'seg.dcm');
  validate(readFileSync(join(out, 'patient_ct_rtstruct.dcm')), 'rtstruct.dcm');

  // The same series as a zip: the same labels, named after the zip; --series picks the other one.
  const zip = zipOf(dir, 'export', series);
  const fromZip = join(dir, 'zip-out');
  assert.equal(runCli(['predict', '-i', zip, '-o', fromZip, '-m', MODEL, '--no-tta']).status, 0);
  assert.deepEqual(readdirSync(fromZip).sort(), ['export.json', 'export.nii.gz']);
  assert.deepEqual(voxels(join(fromZip, 'export.nii.gz')), labels);
  const scoutOut = join(dir, 'scout.nii.gz');
  const s = runCli(['predict', '-i', zip, '-o', scoutOut, '-m', MODEL, '--no-tta', '--series', SCOUT_UID]);
  assert.equal(s.status, 0, s.stderr);
  assert.deepEqual(readNifti(readFileSync(scoutOut)).dims, [10, 12, 3]);
});

test('DICOM bad input: one clear error, exit 1, nothing written', async () => {
  const { dir, series, nifti } = await inputs();
  const cases: [string[], RegExp][] = [
    [['-i', nifti, '--output-type', 'dicom-seg'], /--output-type dicom-seg needs a DICOM input .*is NIfTI/],
    [['-i', series, '--output-type', 'seg'], /--output-type: use one or more of nifti, dicom-seg, rtstruct/],
    [
      ['-i', series, '--series', '1.2.3'],
      /no series '1\.2\.3'; the input has .*1\.2\.826\.0\.1\.3680043\.10\.1234\.1/,
    ],
    [
      ['-i', zipOf(dir, 'scout', series, 'scout_'), '--output-type', 'dicom-seg'],
      /scout_s000\.dcm: no SOPClassUID\/SOPInstanceUID .*cannot reference it/,
    ],
    [['-i', join(dir, 'empty')], /no \.nii, \.nii\.gz or \.hdr files and no DICOM files in .*empty/],
    [['-i', join(dir, 'text')], /text'?: dicom: no image series among 2 file\(s\): no DICOM files/],
  ];
  mkdirSync(join(dir, 'empty'));
  mkdirSync(join(dir, 'text'));
  writeFileSync(join(dir, 'text', 'a.txt'), 'not dicom');
  writeFileSync(join(dir, 'text', 'b.dcm'), new Uint8Array(400));
  for (const [args, message] of cases) {
    const out = join(dir, `out-${Math.random().toString(36).slice(2)}`);
    const r = runCli(['predict', ...args, '-o', out, '-m', MODEL, '--no-tta']);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stdout}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(!existsSync(out) || readdirSync(out).length === 0, `${args.join(' ')} wrote ${out}`);
  }
});
