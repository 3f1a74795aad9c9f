/**
 * A DICOM series as the input of `stunet predict` (issue 12, item 4), through the host's FileStore (a disk
 * in Node, dropped files in a browser): a folder (walked recursively), a zip, or one DICOM file. The
 * series is chosen as `readDicomSeries` chooses (`--series UID` to name one) and becomes the case's one
 * channel; its `source` lets the case also be written as DICOM-SEG and RTSTRUCT that reference it.
 */
import { dicomSeriesExtent, readDicomSeries, type DicomSeriesImage } from '../io/dicom/read.js';
import { isDicomPart10 } from '../io/dicom/parse.js';
import type { DicomFile, DicomSeriesInfo } from '../io/dicom/series.js';
import { dicomFilesFromZip } from '../io/dicom/zip.js';
import { DEFAULT_NIFTI_MAX_BYTES } from '../io/nifti.js';
import { fail } from '../util/errors.js';
import { errorNaming } from './predict-case.js';
import type { FileStore } from './store.js';

/** How a DICOM input is read: which series, and whether a gantry tilt may be resampled. */
export interface DicomInputOptions {
  /** SeriesInstanceUID (`--series`); by default the series is chosen by rule (CT/MR, ORIGINAL, most slices). */
  readonly series?: string;
  /** `--allow-tilt`: resample a gantry-tilted series instead of refusing it. */
  readonly allowTilt?: boolean;
  /** The most bytes the input's files (a zip: inflated) and the volume may take. */
  readonly maxBytes?: number;
}

const NIFTI_FILE = /\.(nii(\.gz)?|hdr)$/i;
const ZIP_FILE = /\.zip$/i;

/** Whether the bytes start as a zip does ("PK\x03\x04", or "PK\x05\x06" when empty). */
function isZipBytes(b: Uint8Array): boolean {
  return b[0] === 0x50 && b[1] === 0x4b && (b[2] === 3 || b[2] === 5);
}

/**
 * Whether `path` is a DICOM input rather than NIfTI: a zip, a DICOM Part 10 file, or a folder without
 * NIfTI images in it (its files are then read as DICOM, and a folder of neither says so).
 */
export function isDicomInput(store: FileStore, path: string): boolean {
  if (!store.exists(path)) return false;
  if (store.isDirectory(path)) return !store.list(path).some((f) => !f.startsWith('.') && NIFTI_FILE.test(f));
  if (NIFTI_FILE.test(path)) return false;
  if (ZIP_FILE.test(path)) return true;
  const size = store.size(path);
  if (size < 132) return false;
  const head = store.readRange(path, 0, 132, 'input');
  return isDicomPart10(head) || isZipBytes(head);
}

/** The name a DICOM input's outputs take: the folder's name, or the file's without .zip/.dcm. */
export function dicomCaseName(store: FileStore, path: string): string {
  const base = store.basename(path.replace(/[\\/]+$/, ''));
  return base.replace(/\.(zip|dcm|dicom)$/i, '') || 'series';
}

/**
 * The files of a DICOM input as `{ name, bytes }`: a folder's files (recursively, names relative to it,
 * sorted; hidden files skipped), a zip's entries, or one file. The bytes read are checked against
 * `maxBytes` as they add up.
 */
export function dicomFilesFromStore(
  store: FileStore,
  path: string,
  maxBytes: number = DEFAULT_NIFTI_MAX_BYTES,
): DicomFile[] {
  if (!store.exists(path)) fail('NOT_FOUND', `dicom: ${path} does not exist`);
  let total = 0;
  const take = (p: string): Uint8Array => {
    total += Math.max(0, store.size(p));
    if (total > maxBytes)
      fail('BAD_INPUT', `dicom: the files of '${path}' are larger than the ${maxBytes} bytes allowed`);
    return store.read(p, 'DICOM file');
  };
  if (!store.isDirectory(path)) {
    const bytes = take(path);
    return isZipBytes(bytes) ? dicomFilesFromZip(bytes, `'${path}'`, maxBytes) : [{ name: path, bytes }];
  }
  const out: DicomFile[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const name of store.list(dir)) {
      if (name.startsWith('.')) continue;
      const full = store.join(dir, name);
      const r = rel === '' ? name : `${rel}/${name}`;
      if (store.isDirectory(full)) walk(full, r);
      else out.push({ name: r, bytes: take(full) });
    }
  };
  walk(path, '');
  if (out.length === 0) fail('NOT_FOUND', `no .nii, .nii.gz or .hdr files and no DICOM files in '${path}'`);
  return out;
}

/** Runs `f`, naming the input in any error it throws. */
function naming<T>(path: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw errorNaming(`'${path}'`, e);
  }
}

/** The voxels and mm³ of the series a DICOM input would give, from its headers (memory estimates). */
export function dicomInputExtent(
  store: FileStore,
  path: string,
  opts: DicomInputOptions = {},
): { voxels: number; mm3: number; series: DicomSeriesInfo } {
  return naming(path, () =>
    dicomSeriesExtent(dicomFilesFromStore(store, path, opts.maxBytes), {
      ...(opts.series === undefined ? {} : { series: opts.series }),
      ...(opts.allowTilt === true ? { allowTilt: true } : {}),
    }),
  );
}

/** Reads a DICOM input's series: its volume (a NIfTI image), what was chosen and skipped, and its source. */
export async function readDicomInput(
  store: FileStore,
  path: string,
  opts: DicomInputOptions = {},
): Promise<DicomSeriesImage> {
  const files = naming(path, () => dicomFilesFromStore(store, path, opts.maxBytes));
  try {
    return await readDicomSeries(files, {
      ...(opts.series === undefined ? {} : { series: opts.series }),
      ...(opts.allowTilt === true ? { allowTilt: true } : {}),
      ...(opts.maxBytes === undefined ? {} : { maxBytes: opts.maxBytes }),
    });
  } catch (e) {
    throw errorNaming(`'${path}'`, e);
  }
}
