import { closeSync, fstatSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import { StunetError } from '../util/errors.js';
import { readRange } from './fs.js';
import type { SaveValue } from '../checkpoint/pickle-writer.js';
import type { PyValue } from '../checkpoint/py-values.js';
import { loadTorchLegacy, loadTorchZip, type LoadOptions } from '../checkpoint/torch-load.js';
import { saveTorchChunks, type SaveTorchOptions } from '../checkpoint/torch-save.js';
import type { ByteSource } from '../checkpoint/zip.js';

/**
 * File-system entry points. A zip checkpoint is read piece by piece by positioned reads (the directory,
 * the pickle, then each storage when its values are asked for): files larger than one Node buffer
 * (STU-Net huge: 11.7 GB with its momentum buffers) load, and storages nobody uses are never read.
 */

/** The file as a byte source: each read opens, reads at the offset and closes (usable after any return). */
function fileSource(path: string, size: number): ByteSource {
  return { size, read: (offset, length) => readRange(path, offset, length, 'checkpoint') };
}

function openOrFail(path: string, flags: string): number {
  try {
    return openSync(path, flags);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new StunetError(
      code === 'ENOENT' ? 'NOT_FOUND' : 'RUNTIME',
      `cannot open ${path}: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
}

/** torch.load(path): zip checkpoints of any size, legacy ones up to Node's 2 GB buffer limit. */
export function loadTorchFile(path: string, opts: LoadOptions = {}): PyValue {
  const fd = openOrFail(path, 'r');
  let size: number;
  const head = new Uint8Array(4);
  try {
    size = fstatSync(fd).size;
    readSync(fd, head, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  const isZip = head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
  if (isZip) return loadTorchZip(fileSource(path, size), opts);
  return loadTorchLegacy(readFileSync(path), opts);
}

/** torch.save(value, path), streaming the zip chunks (tensor bytes are not gathered into one buffer). */
export function saveTorchFile(path: string, value: SaveValue, opts: SaveTorchOptions = {}): void {
  // Like torch, name the zip's root folder after the file ('model.pth' → 'model/').
  const stem = basename(path).replace(/\.[^.]*$/, '');
  const archiveName = opts.archiveName ?? (/^[A-Za-z0-9_.-]+$/.test(stem) ? stem : 'archive');
  const chunks = saveTorchChunks(value, { ...opts, archiveName });
  const fd = openOrFail(path, 'w');
  try {
    for (const c of chunks) {
      let off = 0;
      while (off < c.length) off += writeSync(fd, c, off, c.length - off);
    }
  } finally {
    closeSync(fd);
  }
}
