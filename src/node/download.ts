/**
 * One file over HTTP(S) into the disk, resumable: bytes go to `<dest>.part` (and the URL they came from to
 * `<dest>.part.json`); a later call continues it with an HTTP Range request, and only a complete file that
 * passed every check is renamed to `dest`. A wrong size, an HTML page (Google Drive's confirm page) instead
 * of a checkpoint, or a hash mismatch deletes the partial file and throws one StunetError naming the
 * problem; a dropped connection keeps it and says to run the command again.
 */
import { createHash, type Hash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { sniffCheckpoint } from '../models/registry.js';
import { formatBytes } from '../model/memory.js';
import { AbortError, StunetError, fail } from '../util/errors.js';
import type { ProgressListener } from '../util/progress.js';

export interface DownloadOptions {
  /** The size the file must have (null: whatever the server says). */
  readonly expectedBytes?: number | null;
  /** The sha256 (hex) the file must have (null: recorded by the caller, not checked). */
  readonly sha256?: string | null;
  /** Who pinned the size and hash, for the message of a mismatch. */
  readonly pinnedBy?: string | null;
  readonly progress?: ProgressListener;
  /** Progress stage name (default: the file name). */
  readonly stage?: string;
  readonly signal?: AbortSignal;
}

export interface Downloaded {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
  /** Bytes that were already there from an interrupted download. */
  readonly resumedFrom: number;
}

/** A download that stopped half-way; its `.part` file is kept and the next call continues it. */
export class DownloadInterrupted extends StunetError {
  constructor(message: string, cause: unknown) {
    super('RUNTIME', message, { cause });
    this.name = 'DownloadInterrupted';
  }
}

const MiB = 1 << 20;

/** Bytes of a file already on disk into a hash (a resumed download is hashed whole). */
function hashFile(hash: Hash, path: string): void {
  const fd = openSync(path, 'r');
  try {
    const buf = new Uint8Array(8 * MiB);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
}

/** The sha256 (hex) of a file, read in 8 MiB pieces. */
export function sha256File(path: string): string {
  const h = createHash('sha256');
  hashFile(h, path);
  return h.digest('hex');
}

function headOf(path: string): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const buf = new Uint8Array(512);
    return buf.subarray(0, readSync(fd, buf, 0, 512, 0));
  } finally {
    closeSync(fd);
  }
}

const sizeOf = (path: string): number => (existsSync(path) ? statSync(path).size : 0);

function removePart(part: string): void {
  rmSync(part, { force: true });
  rmSync(`${part}.json`, { force: true });
}

/** The bytes a previous call left for this URL (0 when none, or when they came from another URL). */
function resumableBytes(part: string, url: string, expected: number | null): number {
  let from: unknown = null;
  try {
    from = (JSON.parse(readFileSync(`${part}.json`, 'utf8')) as { url?: unknown }).url;
  } catch {
    from = null;
  }
  const have = sizeOf(part);
  if (from !== url || (expected !== null && have > expected)) {
    removePart(part);
    return 0;
  }
  return have;
}

interface Response206 {
  readonly start: number;
  readonly total: number | null;
}

function contentRange(header: string | null): Response206 | null {
  const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(header ?? '');
  if (m === null) return null;
  return { start: Number(m[1]), total: m[2] === '*' ? null : Number(m[2]) };
}

/** Deletes the partial download and throws (a file that can never become right is not kept). */
function reject(part: string, code: 'BAD_INPUT' | 'NOT_FOUND' | 'RUNTIME', message: string): never {
  removePart(part);
  fail(code, message);
}

async function request(url: string, have: number, signal: AbortSignal | undefined): Promise<Response> {
  try {
    return await fetch(url, {
      headers: have > 0 ? { Range: `bytes=${have}-` } : {},
      redirect: 'follow',
      ...(signal === undefined ? {} : { signal }),
    });
  } catch (e) {
    if (signal?.aborted === true) throw new AbortError(`download of ${url} was cancelled`, signal.reason);
    const cause = (e as { cause?: { message?: string } }).cause?.message ?? (e as Error).message;
    throw new DownloadInterrupted(`cannot reach ${new URL(url).host} (${cause})`, e);
  }
}

/** Where the body's bytes start and how many the whole file has, from the status and headers. */
function startAndTotal(res: Response, have: number, url: string, part: string): Response206 {
  const length = res.headers.get('content-length');
  if (res.status === 206) {
    const r = contentRange(res.headers.get('content-range'));
    if (r === null || r.start !== have)
      reject(part, 'RUNTIME', `${url}: the server resumed at the wrong byte`);
    return r;
  }
  if (res.status === 200) return { start: 0, total: length === null ? null : Number(length) };
  if (res.status === 404 || res.status === 410)
    reject(part, 'NOT_FOUND', `${url}: HTTP ${res.status}, no such file`);
  return reject(part, 'RUNTIME', `${url}: HTTP ${res.status} ${res.statusText}`);
}

/** Downloads `url` to `dest` (resuming `<dest>.part`); checks size, content and hash before the rename. */
export async function downloadFile(url: string, dest: string, o: DownloadOptions = {}): Promise<Downloaded> {
  const expected = o.expectedBytes ?? null;
  const part = `${dest}.part`;
  mkdirSync(dirname(dest), { recursive: true });
  let have = resumableBytes(part, url, expected);
  let res = await request(url, have, o.signal);
  if (res.status === 416 && have > 0) {
    // The range starts at the end: the previous call had every byte but stopped before the checks.
    const total = contentRange(res.headers.get('content-range'))?.total ?? null;
    if (total === have) return finish(part, dest, have, o, url, have);
    removePart(part);
    have = 0;
    res = await request(url, 0, o.signal);
  }
  const { start, total } = startAndTotal(res, have, url, part);
  if ((res.headers.get('content-type') ?? '').includes('text/html'))
    reject(part, 'BAD_INPUT', htmlMessage(url));
  if (expected !== null && total !== null && total !== expected)
    reject(
      part,
      'BAD_INPUT',
      `${url}: wrong size: the server has ${total} bytes, the released file has ${expected}` +
        (o.pinnedBy ? ` (${o.pinnedBy})` : ''),
    );
  writeFileSync(`${part}.json`, JSON.stringify({ url }));
  const fd = openSync(part, start === 0 ? 'w' : 'a');
  let size = start;
  const stage = o.stage ?? dest.split(/[\\/]/).pop() ?? dest;
  const totalBytes = total ?? expected;
  const totalMiB = Math.max(1, Math.ceil((totalBytes ?? 0) / MiB));
  let shown = -1;
  // MiB done of the total (the last event only when every byte is there); unknown total: MiB so far.
  const show = (): void => {
    const mib = Math.floor(size / MiB);
    const done = totalBytes === null ? 0 : size >= totalBytes ? totalMiB : Math.min(mib, totalMiB - 1);
    if (o.progress === undefined || (totalBytes === null ? mib : done) === shown) return;
    shown = totalBytes === null ? mib : done;
    o.progress({ stage, done, total: totalMiB, message: totalBytes === null ? `${mib} MiB` : 'MiB' });
  };
  show();
  try {
    if (res.body !== null)
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        writeSync(fd, chunk);
        size += chunk.length;
        show();
      }
  } catch (e) {
    if (o.signal?.aborted === true) throw new AbortError(`download of ${url} was cancelled`, o.signal.reason);
    throw new DownloadInterrupted(
      `download of ${url} stopped after ${formatBytes(size)}${total === null ? '' : ` of ${formatBytes(total)}`} ` +
        `(${(e as Error).message}); run the same command again to resume`,
      e,
    );
  } finally {
    closeSync(fd);
  }
  if (total !== null && size < total)
    throw new DownloadInterrupted(
      `download of ${url} stopped after ${formatBytes(size)} of ${formatBytes(total)}; run the same command again to resume`,
      null,
    );
  return finish(part, dest, size, o, url, have);
}

function htmlMessage(url: string): string {
  return (
    `${url} sent an HTML page, not a checkpoint (Google Drive's "can't scan for viruses" confirm page or a ` +
    `sign-in page?); download the file in a browser and add it with 'stunet models install <file>'`
  );
}

/** The checks of a complete `.part`, then the rename. */
function finish(
  part: string,
  dest: string,
  size: number,
  o: DownloadOptions,
  url: string,
  resumedFrom: number,
): Downloaded {
  const expected = o.expectedBytes ?? null;
  const by = o.pinnedBy ? ` (${o.pinnedBy})` : '';
  const kind = sniffCheckpoint(headOf(part));
  if (kind === 'html') reject(part, 'BAD_INPUT', htmlMessage(url));
  if (kind === 'unknown')
    reject(part, 'BAD_INPUT', `${url}: not a PyTorch checkpoint (neither a zip nor a pickle at its start)`);
  if (expected !== null && size !== expected)
    reject(
      part,
      'BAD_INPUT',
      `${url}: wrong size: got ${size} bytes, the released file has ${expected}${by}`,
    );
  const h = createHash('sha256');
  hashFile(h, part);
  const sha256 = h.digest('hex');
  if (o.sha256 && o.sha256 !== sha256)
    reject(part, 'BAD_INPUT', `${url}: sha256 mismatch: got ${sha256}, expected ${o.sha256}${by}; deleted`);
  renameSync(part, dest);
  rmSync(`${part}.json`, { force: true });
  return { path: dest, bytes: size, sha256, resumedFrom };
}
