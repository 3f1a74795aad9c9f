import { closeSync, fstatSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import { StunetError, fail } from '../util/errors.js';
import type { SaveValue } from '../checkpoint/pickle-writer.js';
import type { PyValue } from '../checkpoint/py-values.js';
import { loadTorchLegacy, loadTorchZip, type LoadOptions } from '../checkpoint/torch-load.js';
import { saveTorchChunks, type SaveTorchOptions } from '../checkpoint/torch-save.js';
import type { ByteSource } from '../checkpoint/zip.js';

/**
 * File-system entry points. A zip checkpoint is read through the file handle record by record, so files
 * larger than one Node buffer (STU-Net huge is ~5.6 GB of float32) load; every storage is still read into
 * memory before the handle closes.
 */

function fileSource(fd: number, path: string): ByteSource {
  const size = fstatSync(fd).size;
  return {
    size,
    read(offset, length) {
      if (offset < 0 || length < 0 || offset + length > size)
        fail('BAD_INPUT', `truncated zip: need bytes ${offset}..${offset + length}, ${path} has ${size}`);
      const out = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const n = readSync(fd, out, got, Math.min(length - got, 1 << 30), offset + got);
        if (n === 0) fail('BAD_INPUT', `${path}: file shrank while reading`);
        got += n;
      }
      return out;
    },
  };
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
  try {
    const head = new Uint8Array(4);
    readSync(fd, head, 0, 4, 0);
    const isZip = head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
    if (isZip) return loadTorchZip(fileSource(fd, path), opts);
  } finally {
    closeSync(fd);
  }
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
