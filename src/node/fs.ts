/**
 * Node file-system adapter (the only place core code touches disk). Writes are atomic: data goes to a
 * temporary name in the same directory, then is renamed over the target, so a crash or error never
 * leaves a half-written file under the final name.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { StunetError, fail } from '../util/errors.js';

export function readBytes(path: string, what = 'file'): Uint8Array {
  try {
    const st = statSync(path);
    if (st.isDirectory()) fail('BAD_INPUT', `${what} '${path}' is a directory, expected a file`);
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    if (e instanceof StunetError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') fail('NOT_FOUND', `${what} '${path}' does not exist`);
    fail('RUNTIME', `cannot read ${what} '${path}': ${(e as Error).message}`);
  }
}

/** `length` bytes at `offset` of a file, by positioned reads (no whole-file buffer). */
export function readRange(path: string, offset: number, length: number, what = 'file'): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') fail('NOT_FOUND', `${what} '${path}' does not exist`);
    fail('RUNTIME', `cannot read ${what} '${path}': ${(e as Error).message}`);
  }
  try {
    const size = fstatSync(fd).size;
    if (offset < 0 || length < 0 || offset + length > size)
      fail('BAD_INPUT', `${what} '${path}' is ${size} bytes: it has no bytes ${offset}–${offset + length}`);
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = readSync(fd, out, done, Math.min(length - done, 1 << 30), offset + done);
      if (n === 0) fail('BAD_INPUT', `${what} '${path}' ended while reading it`);
      done += n;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

export function readText(path: string, what = 'file'): string {
  return new TextDecoder().decode(readBytes(path, what));
}

export function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** `.name.<pid>-<8 hex>.tmp` beside `path`: the writer's pid lets removeStaleTemps tell a dead writer's leftovers. */
export function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
}

const TEMP_NAME = /^\..+\.(\d+)-[0-9a-f]{8}\.tmp$/;

/** Whether a process with this pid exists (EPERM: it exists, under another user). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporary files of atomic writes in `dir` (not recursive) whose writer process is gone (a
 * kill -9 mid-write). Files of live writers (another run sharing the folder) are kept. Returns how many were
 * removed; a missing folder is quietly 0.
 */
export function removeStaleTemps(dir: string): number {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const n of names) {
    const m = TEMP_NAME.exec(n);
    if (m === null || processAlive(Number(m[1]))) continue;
    rmSync(join(dir, n), { force: true });
    removed++;
  }
  return removed;
}

/** Atomically writes one file (creating parent directories). */
export function writeAtomic(path: string, data: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tempName(path);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    fail('RUNTIME', `cannot write '${path}': ${(e as Error).message}`);
  }
}

/**
 * Writes several files as one unit: all go to temporary names first, and only when every write succeeded
 * are they renamed into place. A failure removes the temporaries and leaves existing files untouched.
 */
/** Writes chunks one after the other (a file larger than one buffer). */
function writeChunks(path: string, chunks: readonly Uint8Array[]): void {
  const fd = openSync(path, 'w');
  try {
    for (const c of chunks) for (let off = 0; off < c.length;) off += writeSync(fd, c, off, c.length - off);
  } finally {
    closeSync(fd);
  }
}

export function writeAllAtomic(
  files: readonly { path: string; data: Uint8Array | string | readonly Uint8Array[] }[],
): void {
  const staged: { tmp: string; path: string }[] = [];
  let current = files[0]?.path ?? '';
  try {
    for (const f of files) {
      current = f.path;
      mkdirSync(dirname(f.path), { recursive: true });
      const tmp = tempName(f.path);
      staged.push({ tmp, path: f.path });
      if (typeof f.data === 'string' || f.data instanceof Uint8Array) writeFileSync(tmp, f.data);
      else writeChunks(tmp, f.data);
    }
  } catch (e) {
    for (const s of staged) rmSync(s.tmp, { force: true });
    fail('RUNTIME', `cannot write '${current}': ${(e as Error).message}`);
  }
  for (const s of staged) renameSync(s.tmp, s.path);
}
