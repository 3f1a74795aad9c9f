import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { readDicomSeries, type DicomSeriesImage, type ReadDicomOptions } from '../io/dicom/read.js';
import type { DicomFile } from '../io/dicom/series.js';
import { dicomFilesFromZip } from '../io/dicom/zip.js';
import { fail } from '../util/errors.js';

/** A zip starts with a local file header ("PK\x03\x04") or, when empty, the end record ("PK\x05\x06"). */
function isZip(bytes: Uint8Array): boolean {
  return bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 3 || bytes[2] === 5);
}

async function filesOf(path: string): Promise<DicomFile[]> {
  let info;
  try {
    info = await stat(path);
  } catch {
    fail('NOT_FOUND', `dicom: ${path} does not exist`);
  }
  if (info.isDirectory()) {
    const names = (await readdir(path, { recursive: true })).map(String).sort();
    const out: DicomFile[] = [];
    for (const n of names) {
      const full = join(path, n);
      if (!(await stat(full)).isFile()) continue;
      out.push({ name: relative(path, full), bytes: new Uint8Array(await readFile(full)) });
    }
    return out;
  }
  const bytes = new Uint8Array(await readFile(path));
  return isZip(bytes) ? dicomFilesFromZip(bytes, path) : [{ name: path, bytes }];
}

/**
 * The DICOM input on disk as `{ name, bytes }` files: a folder (read recursively), a zip, one file, or a
 * list of any of these.
 */
export async function dicomFilesFromPaths(paths: string | readonly string[]): Promise<DicomFile[]> {
  const list = typeof paths === 'string' ? [paths] : paths;
  const out: DicomFile[] = [];
  for (const p of list) out.push(...(await filesOf(p)));
  return out;
}

/** Reads one series from a folder, a zip, a file or a list of them (see `readDicomSeries`). */
export async function readDicomSeriesFromPaths(
  paths: string | readonly string[],
  options: ReadDicomOptions = {},
): Promise<DicomSeriesImage> {
  return readDicomSeries(await dicomFilesFromPaths(paths), options);
}
