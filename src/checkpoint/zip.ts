import { inflateSync } from 'fflate';
import { StunetError, fail } from '../util/errors.js';
import { crc32 } from '../util/crc32.js';

/**
 * A minimal zip reader: central directory (zip64 when a size or offset needs it), stored and deflate
 * entries. Reads go through a {@link ByteSource} so a multi-GB checkpoint can be read from a file handle
 * piece by piece instead of as one buffer.
 */

export interface ByteSource {
  readonly size: number;
  /** `length` bytes at `offset`. May return a view (no copy) — callers must not mutate it. */
  read(offset: number, length: number): Uint8Array;
}

export function bytesSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read(offset, length) {
      if (offset < 0 || length < 0 || offset + length > bytes.length)
        fail(
          'BAD_INPUT',
          `truncated zip: need bytes ${offset}..${offset + length}, file has ${bytes.length}`,
        );
      return bytes.subarray(offset, offset + length);
    },
  };
}

export interface ZipEntry {
  readonly name: string;
  /** 0 = stored, 8 = deflate. */
  readonly method: number;
  readonly flags: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly localHeaderOffset: number;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_LOCATOR64 = 0x07064b50;
const U32_MAX = 0xffffffff;

function dv(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function u64(v: DataView, at: number, what: string): number {
  const x = v.getBigUint64(at, true);
  if (x > BigInt(Number.MAX_SAFE_INTEGER)) fail('BAD_INPUT', `corrupt zip: ${what} ${x} is too large`);
  return Number(x);
}

export function isZip(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04
  );
}

export class ZipReader {
  readonly entries: readonly ZipEntry[];
  private readonly byName = new Map<string, ZipEntry>();

  constructor(private readonly src: ByteSource) {
    this.entries = readCentralDirectory(src);
    for (const e of this.entries) this.byName.set(e.name, e);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  entry(name: string): ZipEntry {
    const e = this.byName.get(name);
    if (e === undefined)
      fail(
        'NOT_FOUND',
        `zip: no entry '${name}' (entries: ${this.entries
          .slice(0, 8)
          .map((x) => x.name)
          .join(', ')}${this.entries.length > 8 ? ', …' : ''})`,
      );
    return e;
  }

  /** Offset of the entry's data: the local header's name and extra lengths can differ from the central copy. */
  dataOffset(e: ZipEntry): number {
    const h = dv(this.src.read(e.localHeaderOffset, 30));
    if (h.getUint32(0, true) !== SIG_LOCAL)
      fail('BAD_INPUT', `corrupt zip: no local header for '${e.name}' at ${e.localHeaderOffset}`);
    return e.localHeaderOffset + 30 + h.getUint16(26, true) + h.getUint16(28, true);
  }

  /** The entry's uncompressed bytes. Stored entries are a view into the source when it is in memory. */
  read(name: string, opts: { verifyCrc?: boolean } = {}): Uint8Array {
    const e = this.entry(name);
    const raw = this.src.read(this.dataOffset(e), e.compressedSize);
    let out: Uint8Array;
    if (e.method === 0) out = raw;
    else if (e.method === 8) {
      try {
        out = inflateSync(raw, { out: new Uint8Array(e.uncompressedSize) });
      } catch (err) {
        throw new StunetError(
          'BAD_INPUT',
          `corrupt zip: cannot inflate '${name}': ${err instanceof Error ? err.message : String(err)}`,
          { cause: err },
        );
      }
    } else
      return fail(
        'UNSUPPORTED',
        `zip: entry '${name}' uses compression method ${e.method} (only stored and deflate are supported)`,
      );
    if (out.length !== e.uncompressedSize)
      fail(
        'BAD_INPUT',
        `corrupt zip: '${name}' inflated to ${out.length} bytes, directory says ${e.uncompressedSize}`,
      );
    if (opts.verifyCrc === true && crc32(out) !== e.crc32)
      fail('BAD_INPUT', `corrupt zip: CRC mismatch in '${name}'`);
    return out;
  }
}

function findEocd(src: ByteSource): number {
  // The EOCD is 22 bytes plus a comment of up to 65535 bytes at the very end of the file.
  const tailLen = Math.min(src.size, 22 + 0xffff);
  const tail = src.read(src.size - tailLen, tailLen);
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail[i] === 0x50 && tail[i + 1] === 0x4b && dv(tail).getUint32(i, true) === SIG_EOCD)
      return src.size - tailLen + i;
  }
  return fail(
    'BAD_INPUT',
    `truncated zip: end of central directory not found (file is ${src.size} bytes; was it cut short while copying?)`,
  );
}

function readCentralDirectory(src: ByteSource): ZipEntry[] {
  const eocdAt = findEocd(src);
  const eocd = dv(src.read(eocdAt, 22));
  let count = eocd.getUint16(10, true);
  let cdSize = eocd.getUint32(12, true);
  let cdOffset = eocd.getUint32(16, true);
  if (count === 0xffff || cdSize === U32_MAX || cdOffset === U32_MAX) {
    if (eocdAt < 20) fail('BAD_INPUT', 'corrupt zip: zip64 locator missing');
    const loc = dv(src.read(eocdAt - 20, 20));
    if (loc.getUint32(0, true) !== SIG_LOCATOR64) fail('BAD_INPUT', 'corrupt zip: zip64 locator missing');
    const at = u64(loc, 8, 'zip64 record offset');
    const rec = dv(src.read(at, 56));
    if (rec.getUint32(0, true) !== SIG_EOCD64)
      fail('BAD_INPUT', 'corrupt zip: zip64 end of central directory not found');
    count = u64(rec, 32, 'entry count');
    cdSize = u64(rec, 40, 'central directory size');
    cdOffset = u64(rec, 48, 'central directory offset');
  }
  if (cdOffset + cdSize > src.size)
    fail(
      'BAD_INPUT',
      `truncated zip: central directory (${cdOffset}+${cdSize}) lies past the end of the ${src.size}-byte file`,
    );
  const cd = src.read(cdOffset, cdSize);
  const v = dv(cd);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || v.getUint32(p, true) !== SIG_CENTRAL)
      fail('BAD_INPUT', `corrupt zip: central directory entry ${i} is malformed`);
    const flags = v.getUint16(p + 8, true);
    const method = v.getUint16(p + 10, true);
    const crc = v.getUint32(p + 16, true);
    let csize = v.getUint32(p + 20, true);
    let usize = v.getUint32(p + 24, true);
    const nameLen = v.getUint16(p + 28, true);
    const extraLen = v.getUint16(p + 30, true);
    const commentLen = v.getUint16(p + 32, true);
    let offset = v.getUint32(p + 42, true);
    if (p + 46 + nameLen + extraLen + commentLen > cd.length)
      fail('BAD_INPUT', `corrupt zip: central directory entry ${i} overruns`);
    const name = new TextDecoder().decode(cd.subarray(p + 46, p + 46 + nameLen));
    if ((flags & 1) !== 0) fail('UNSUPPORTED', `zip: entry '${name}' is encrypted`);
    // zip64 extra (id 1) holds, in this order, only the fields whose 32-bit value is 0xFFFFFFFF.
    let x = p + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = v.getUint16(x, true);
      const len = v.getUint16(x + 2, true);
      if (id === 1) {
        let f = x + 4;
        const next = (what: string): number => {
          if (f + 8 > x + 4 + len) fail('BAD_INPUT', `corrupt zip: short zip64 field for '${name}'`);
          const val = u64(v, f, what);
          f += 8;
          return val;
        };
        if (usize === U32_MAX) usize = next('size');
        if (csize === U32_MAX) csize = next('compressed size');
        if (offset === U32_MAX) offset = next('offset');
      }
      x += 4 + len;
    }
    if (offset + csize > src.size)
      fail('BAD_INPUT', `truncated zip: entry '${name}' lies past the end of the file`);
    entries.push({
      name,
      method,
      flags,
      crc32: crc,
      compressedSize: csize,
      uncompressedSize: usize,
      localHeaderOffset: offset,
    });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}
