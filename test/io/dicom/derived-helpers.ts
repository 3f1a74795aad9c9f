/**
 * Test helpers for the DICOM-SEG and RTSTRUCT tests: the real CT and its segmentation, small synthetic CT
 * series (written with our own writer), and the independent validator (dciodvfy from Debian's dicom3tools,
 * with dcmdump from DCMTK as a parse check): `scripts/system-deps.sh` installs them.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDicomSeries, type DicomSeriesImage } from '../../../src/io/dicom/read.js';
import { el, newUid, str, writeDicom } from '../../../src/io/dicom/write.js';
import { readNifti, type NiftiImage } from '../../../src/io/nifti.js';
import { fixturePath } from '../../helpers.js';

export const TOTALSEG_V2_NAMES = (
  JSON.parse(
    readFileSync(new URL('../../../src/io/labels/totalseg-v2-total.json', import.meta.url), 'utf8'),
  ) as { names: string[] }
).names;

export async function realCt(): Promise<{ ct: DicomSeriesImage; seg: NiftiImage }> {
  const dir = fixturePath('dicom', 'example_ct_dicom');
  const files = readdirSync(dir)
    .sort()
    .map((n) => ({ name: n, bytes: new Uint8Array(readFileSync(join(dir, n))) }));
  const ct = await readDicomSeries(files);
  const seg = readNifti(new Uint8Array(readFileSync(fixturePath('dicom', 'example_seg_dicom.nii.gz'))));
  return { ct, seg };
}

/** A small CT series (rows × columns × n, 0.8 × 0.6 mm pixels, 2.5 mm apart, oblique-free), read back. */
export async function syntheticCt(rows: number, columns: number, n: number): Promise<DicomSeriesImage> {
  const study = newUid();
  const series = newUid();
  const frame = newUid();
  const files = Array.from({ length: n }, (_, k) => ({
    name: `ct${k}.dcm`,
    bytes: writeDicom([
      str(0x00080016, 'UI', '1.2.840.10008.5.1.4.1.1.2'),
      str(0x00080018, 'UI', newUid()),
      str(0x00080060, 'CS', 'CT'),
      str(0x00100010, 'PN', 'Test^Patient'),
      str(0x00100020, 'LO', 'P1'),
      str(0x0020000d, 'UI', study),
      str(0x0020000e, 'UI', series),
      str(0x00200052, 'UI', frame),
      str(0x00200032, 'DS', [-40.25, -31.5, 12 + 2.5 * k]),
      str(0x00200037, 'DS', [1, 0, 0, 0, 1, 0]),
      str(0x00280030, 'DS', [0.8, 0.6]),
      el(0x00280002, 'US', [1]),
      str(0x00280004, 'CS', 'MONOCHROME2'),
      el(0x00280010, 'US', [rows]),
      el(0x00280011, 'US', [columns]),
      el(0x00280100, 'US', [16]),
      el(0x00280101, 'US', [16]),
      el(0x00280102, 'US', [15]),
      el(0x00280103, 'US', [0]),
      el(0x7fe00010, 'OW', new Uint8Array(rows * columns * 2)),
    ]),
  }));
  return readDicomSeries(files);
}

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/**
 * Runs dciodvfy (and dcmdump) on the bytes; fails on any "Error" line, and on any warning but those about
 * what a DICOMDIR would need or about patient attributes (copied from the source as they are: the
 * anonymised CT has no PatientID or StudyID, the MR a PatientName in a retired form). Returns the report.
 */
export function validate(bytes: Uint8Array, name: string): string {
  for (const cmd of ['dciodvfy', 'dcmdump']) {
    assert.ok(has(cmd), `${cmd} is not installed: run scripts/system-deps.sh (Debian dicom3tools, dcmtk)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'stunet-dcm-'));
  try {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    const r = spawnSync('dciodvfy', [path], { encoding: 'utf8', maxBuffer: 1 << 28 });
    const report = `${r.stdout}${r.stderr}`;
    const errors = report.split('\n').filter((l) => /^Error/.test(l));
    assert.deepEqual(errors, [], `dciodvfy reports errors for ${name}:\n${errors.slice(0, 20).join('\n')}`);
    // what the source brings (no PatientID, a dubious PatientName) is copied as it is: not ours to fix
    const warnings = report
      .split('\n')
      .filter((l) => /^Warning/.test(l) && !/needed to build DICOMDIR|\(0x0010,0x/.test(l));
    assert.deepEqual(warnings, [], `dciodvfy warns about ${name}`);
    execFileSync('dcmdump', ['-q', path], { stdio: ['ignore', 'ignore', 'pipe'] });
    return report;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Dice of one label value between two volumes (1 when both lack it). */
export function dice(a: ArrayLike<number>, b: ArrayLike<number>, value: number): number {
  let inter = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] === value;
    const y = b[i] === value;
    if (x) na++;
    if (y) nb++;
    if (x && y) inter++;
  }
  return na + nb === 0 ? 1 : (2 * inter) / (na + nb);
}

/** The 3-slice 3D MR (reoriented to RAS by readDicomSeries, as dcm2niix does). */
export async function realMr(): Promise<DicomSeriesImage> {
  const dir = fixturePath('dicom', 'niivue_mr');
  const files = readdirSync(dir)
    .sort()
    .map((n) => ({ name: n, bytes: new Uint8Array(readFileSync(join(dir, n))) }));
  return readDicomSeries(files);
}

/** A label map on an image's grid: value(x, y, z). */
export function labelMap(
  dims: readonly number[],
  value: (x: number, y: number, z: number) => number,
): Uint16Array {
  const [nx = 0, ny = 0, nz = 0] = dims;
  const out = new Uint16Array(nx * ny * nz);
  for (let z = 0; z < nz; z++)
    for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) out[(z * ny + y) * nx + x] = value(x, y, z);
  return out;
}

/** Converts a DICOM file with DCMTK's dcmconv (e.g. '+ti': implicit VR little endian). */
export function dcmconv(bytes: Uint8Array, option: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'stunet-dcm-'));
  try {
    writeFileSync(join(dir, 'in.dcm'), bytes);
    execFileSync('dcmconv', [option, join(dir, 'in.dcm'), join(dir, 'out.dcm')]);
    return new Uint8Array(readFileSync(join(dir, 'out.dcm')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
