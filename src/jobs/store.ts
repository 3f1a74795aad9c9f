/**
 * The files a job reads and writes, as the host has them: a disk in Node (`nodeStore` of stunet/node), a
 * set of dropped or fetched files in a browser (`MemoryStore`). Paths are the host's; jobs build them
 * only through `join`/`dirname`/`basename` of the store. Writes are all-or-nothing per call.
 */
import { concatChunks } from '../util/bytes.js';
import { StunetError, fail } from '../util/errors.js';

export interface StoredFile {
  readonly path: string;
  /** Text, bytes, or bytes in chunks written one after the other (files larger than one buffer). */
  readonly data: Uint8Array | string | readonly Uint8Array[];
}

/** A file's content as one buffer (MemoryStore; small files). */
export function storedBytes(data: StoredFile['data']): Uint8Array {
  if (typeof data === 'string') return new TextEncoder().encode(data);
  return data instanceof Uint8Array ? data : concatChunks(data);
}

export interface FileStore {
  /** A file's bytes; a NOT_FOUND error naming `what` and the path when it is missing. */
  read(path: string, what?: string): Uint8Array;
  /**
   * `length` bytes from `offset` (files too big to hold whole: zip64 checkpoints, ONNX external data); a
   * BAD_INPUT error naming `what` when the file is shorter.
   */
  readRange(path: string, offset: number, length: number, what?: string): Uint8Array;
  exists(path: string): boolean;
  isDirectory(path: string): boolean;
  /** Entry names of a folder, sorted; a NOT_FOUND error when it is not a folder. */
  list(dir: string): string[];
  /** Bytes of a file, or −1 when there is none. */
  size(path: string): number;
  /** Writes every file or none: temporary names first, renamed into place when all are written. */
  writeAll(files: readonly StoredFile[]): void;
  /** Removes a file or a folder with everything in it; a missing path is no error. */
  remove(path: string): void;
  /** Moves a file or folder (replacing an existing file; a folder target must not exist). */
  rename(from: string, to: string): void;
  makeDir(path: string): void;
  /**
   * Removes what a writer killed mid-write left in `dir` (temporary files of atomic writes whose writer
   * is gone), keeping those of live writers. Stores that write in one step have nothing to clean.
   */
  cleanFolder?(dir: string): void;
  join(...parts: string[]): string;
  dirname(path: string): string;
  basename(path: string): string;
}

export function readText(store: FileStore, path: string, what = 'file'): string {
  return new TextDecoder().decode(store.read(path, what));
}

/** The first of `paths` that exists, or null. */
export function firstExisting(store: FileStore, paths: readonly string[]): string | null {
  return paths.find((p) => store.exists(p)) ?? null;
}

/** `/`-separated paths: join normalises `.` and `..` as POSIX does. */
function joinPosix(parts: readonly string[]): string {
  const absolute = parts[0]?.startsWith('/') === true;
  const out: string[] = [];
  for (const seg of parts.join('/').split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..' && out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else if (seg !== '..' || !absolute) out.push(seg);
  }
  const p = out.join('/');
  return absolute ? `/${p}` : p === '' ? '.' : p;
}

/**
 * Files held in memory (browser hosts, tests): a flat map from normalised `/`-paths to bytes; folders
 * exist where files lie below them.
 */
export class MemoryStore implements FileStore {
  readonly files = new Map<string, Uint8Array>();

  constructor(files: Iterable<readonly [string, Uint8Array | string]> = []) {
    for (const [p, d] of files)
      this.files.set(joinPosix([p]), typeof d === 'string' ? new TextEncoder().encode(d) : d);
  }

  read(path: string, what = 'file'): Uint8Array {
    const key = joinPosix([path]);
    const data = this.files.get(key);
    if (data !== undefined) return data;
    if (this.isDirectory(key)) fail('BAD_INPUT', `${what} '${path}' is a directory, expected a file`);
    fail('NOT_FOUND', `${what} '${path}' does not exist`);
  }

  readRange(path: string, offset: number, length: number, what = 'file'): Uint8Array {
    const data = this.read(path, what);
    if (offset < 0 || length < 0 || offset + length > data.length)
      fail(
        'BAD_INPUT',
        `${what} '${path}' is ${data.length} bytes: it has no bytes ${offset}–${offset + length}`,
      );
    return data.subarray(offset, offset + length);
  }

  exists(path: string): boolean {
    const key = joinPosix([path]);
    return this.files.has(key) || this.isDirectory(key);
  }

  isDirectory(path: string): boolean {
    const key = joinPosix([path]);
    const prefix = key === '.' ? '' : `${key}/`;
    for (const k of this.files.keys()) if (k.startsWith(prefix)) return true;
    return false;
  }

  list(dir: string): string[] {
    const key = joinPosix([dir]);
    if (!this.isDirectory(key)) fail('NOT_FOUND', `folder '${dir}' does not exist`);
    const prefix = key === '.' ? '' : `${key}/`;
    const names = new Set<string>();
    for (const k of this.files.keys())
      if (k.startsWith(prefix)) names.add(k.slice(prefix.length).split('/')[0] ?? '');
    return [...names].sort();
  }

  size(path: string): number {
    return this.files.get(joinPosix([path]))?.length ?? -1;
  }

  remove(path: string): void {
    const key = joinPosix([path]);
    this.files.delete(key);
    for (const k of [...this.files.keys()]) if (k.startsWith(`${key}/`)) this.files.delete(k);
  }

  rename(from: string, to: string): void {
    const a = joinPosix([from]);
    const b = joinPosix([to]);
    if (!this.exists(a)) fail('NOT_FOUND', `cannot rename '${from}': it does not exist`);
    if (this.isDirectory(b)) fail('RUNTIME', `cannot rename '${from}' to '${to}': the target is a folder`);
    for (const [k, d] of [...this.files]) {
      if (k === a) {
        this.files.delete(k);
        this.files.set(b, d);
      } else if (k.startsWith(`${a}/`)) {
        this.files.delete(k);
        this.files.set(b + k.slice(a.length), d);
      }
    }
  }

  makeDir(): void {
    // folders exist where files lie below them
  }

  writeAll(files: readonly StoredFile[]): void {
    const staged = files.map((f) => {
      const key = joinPosix([f.path]);
      if (this.isDirectory(key)) throw new StunetError('RUNTIME', `cannot write '${f.path}': it is a folder`);
      for (let d = this.dirname(key); d !== '.' && d !== '/'; d = this.dirname(d))
        if (this.files.has(d)) throw new StunetError('RUNTIME', `cannot write '${f.path}': '${d}' is a file`);
      return [key, storedBytes(f.data)] as const;
    });
    for (const [k, d] of staged) this.files.set(k, d);
  }

  join(...parts: string[]): string {
    return joinPosix(parts);
  }

  dirname(path: string): string {
    const p = joinPosix([path]);
    const i = p.lastIndexOf('/');
    return i < 0 ? '.' : i === 0 ? '/' : p.slice(0, i);
  }

  basename(path: string): string {
    return joinPosix([path]).split('/').pop() ?? '';
  }
}
