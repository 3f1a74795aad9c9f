import { readDicomSeries, type DicomSeriesImage, type ReadDicomOptions } from '../io/dicom/read.js';
import type { DicomFile } from '../io/dicom/series.js';
import { dicomFilesFromStore } from '../jobs/dicom-input.js';
import { nodeStore } from './file-store.js';

/**
 * The DICOM input on disk as `{ name, bytes }` files: a folder (read recursively), a zip, one file, or a
 * list of any of these.
 */
export function dicomFilesFromPaths(paths: string | readonly string[]): Promise<DicomFile[]> {
  const list = typeof paths === 'string' ? [paths] : paths;
  return Promise.resolve(list.flatMap((p) => dicomFilesFromStore(nodeStore, p)));
}

/** Reads one series from a folder, a zip, a file or a list of them (see `readDicomSeries`). */
export async function readDicomSeriesFromPaths(
  paths: string | readonly string[],
  options: ReadDicomOptions = {},
): Promise<DicomSeriesImage> {
  return readDicomSeries(await dicomFilesFromPaths(paths), options);
}
