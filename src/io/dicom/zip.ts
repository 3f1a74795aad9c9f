import { unzipSync } from 'fflate';
import { fail } from '../../util/errors.js';
import type { DicomFile } from './series.js';

/**
 * The files of a zip (a DICOM export), bytes in. Folders and macOS resource forks are left out; the sizes
 * the zip declares are checked against `maxBytes` before anything is inflated.
 */
export function dicomFilesFromZip(bytes: Uint8Array, name = 'the zip', maxBytes = 2 ** 31): DicomFile[] {
  let total = 0;
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes, {
      filter: (f) => {
        if (f.name.endsWith('/') || f.name.startsWith('__MACOSX/')) return false;
        total += f.originalSize;
        if (total > maxBytes) fail('BAD_INPUT', `dicom: ${name} inflates past ${maxBytes} bytes`);
        return true;
      },
    });
  } catch (e) {
    if (e instanceof Error && e.name === 'StunetError') throw e;
    fail('BAD_INPUT', `dicom: ${name} is not a readable zip (${e instanceof Error ? e.message : String(e)})`);
  }
  return Object.entries(entries)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([n, b]) => ({ name: n, bytes: b }));
}
