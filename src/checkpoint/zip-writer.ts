import { fail } from '../util/errors.js';
import { crc32 } from '../util/crc32.js';
import { concatChunks } from '../util/bytes.js';

export { concatChunks };

/**
 * A stored-only zip writer laid out like torch's own (PyTorchStreamWriter): every entry's data starts on a
 * 64-byte boundary, padded by an extra field with id 'FB' filled with 'Z', so a reader can mmap tensors in
 * place. Like torch it always ends with zip64 end records; per-entry zip64 fields appear only when an
 * offset or size needs them (or `zip64: 'always'`, for tests).
 *
 * Output is a list of chunks (headers interleaved with the callers' data, not copied) so multi-GB
 * checkpoints never need one giant buffer.
 */

export interface ZipInput {
  readonly name: string;
  readonly data: Uint8Array;
}

export interface ZipWriteOptions {
  /** Data alignment in bytes; torch uses 64. */
  align?: number;
  zip64?: 'auto' | 'always';
}

const U32_MAX = 0xffffffff;
const DOS_DATE_1980_01_01 = 0x21; // a valid DOS date; torch writes 0, which some tools reject

interface Placed {
  name: Uint8Array;
  crc: number;
  size: number;
  offset: number;
  zip64: boolean;
}

function setU64(v: DataView, at: number, x: number): void {
  v.setBigUint64(at, BigInt(x), true);
}

export function writeZipChunks(files: readonly ZipInput[], opts: ZipWriteOptions = {}): Uint8Array[] {
  const align = opts.align ?? 64;
  const always = opts.zip64 === 'always';
  const enc = new TextEncoder();
  const chunks: Uint8Array[] = [];
  const placed: Placed[] = [];
  const seen = new Set<string>();
  let pos = 0;

  for (const f of files) {
    if (seen.has(f.name)) fail('BAD_INPUT', `zip: duplicate entry name '${f.name}'`);
    seen.add(f.name);
    const name = enc.encode(f.name);
    if (name.length > 0xffff) fail('BAD_INPUT', `zip: entry name too long`);
    const size = f.data.length;
    const entry: Placed = {
      name,
      crc: crc32(f.data),
      size,
      offset: pos,
      zip64: always || size >= U32_MAX || pos >= U32_MAX,
    };
    const h = localHeader(entry, align);
    placed.push(entry);
    chunks.push(h, f.data);
    pos += h.length + size;
  }

  const cdOffset = pos;
  for (const p of placed) {
    const h = centralHeader(p);
    chunks.push(h);
    pos += h.length;
  }
  chunks.push(endRecords(placed.length, cdOffset, pos - cdOffset));
  return chunks;
}

/** The local file header of `p`, padded so that its data starts on a multiple of `align`. */
function localHeader(p: Placed, align: number): Uint8Array {
  const { name, size, zip64 } = p;
  // Local header: zip64 extra (sizes) first, then the 'FB' padding extra that aligns the data.
  const z64Len = zip64 ? 20 : 0;
  const fixed = 30 + name.length + z64Len + 4;
  const pad = (align - ((p.offset + fixed) % align)) % align;
  const extraLen = z64Len + 4 + pad;
  if (extraLen > 0xffff) fail('BAD_INPUT', 'zip: alignment too large');
  const h = new Uint8Array(30 + name.length + extraLen);
  const v = new DataView(h.buffer);
  v.setUint32(0, 0x04034b50, true);
  v.setUint16(4, zip64 ? 45 : 20, true); // version needed
  v.setUint16(6, 0, true); // flags: sizes are in this header, no data descriptor
  v.setUint16(8, 0, true); // stored
  v.setUint16(10, 0, true); // time
  v.setUint16(12, DOS_DATE_1980_01_01, true);
  v.setUint32(14, p.crc, true);
  v.setUint32(18, zip64 ? U32_MAX : size, true);
  v.setUint32(22, zip64 ? U32_MAX : size, true);
  v.setUint16(26, name.length, true);
  v.setUint16(28, extraLen, true);
  h.set(name, 30);
  let x = 30 + name.length;
  if (zip64) {
    v.setUint16(x, 1, true);
    v.setUint16(x + 2, 16, true);
    setU64(v, x + 4, size);
    setU64(v, x + 12, size);
    x += 20;
  }
  v.setUint16(x, 0x4246, true); // 'FB'
  v.setUint16(x + 2, pad, true);
  h.fill(0x5a, x + 4); // 'Z'
  return h;
}

/** The central directory header of `p`. */
function centralHeader(p: Placed): Uint8Array {
  const extraLen = p.zip64 ? 28 : 0;
  const h = new Uint8Array(46 + p.name.length + extraLen);
  const v = new DataView(h.buffer);
  v.setUint32(0, 0x02014b50, true);
  v.setUint16(4, p.zip64 ? 45 : 20, true); // version made by (MS-DOS attrs)
  v.setUint16(6, p.zip64 ? 45 : 20, true); // version needed
  v.setUint16(12, 0, true);
  v.setUint16(14, DOS_DATE_1980_01_01, true);
  v.setUint32(16, p.crc, true);
  v.setUint32(20, p.zip64 ? U32_MAX : p.size, true);
  v.setUint32(24, p.zip64 ? U32_MAX : p.size, true);
  v.setUint16(28, p.name.length, true);
  v.setUint16(30, extraLen, true);
  v.setUint32(42, p.zip64 ? U32_MAX : p.offset, true);
  h.set(p.name, 46);
  if (p.zip64) {
    const x = 46 + p.name.length;
    v.setUint16(x, 1, true);
    v.setUint16(x + 2, 24, true);
    setU64(v, x + 4, p.size);
    setU64(v, x + 12, p.size);
    setU64(v, x + 20, p.offset);
  }
  return h;
}

/** zip64 end record + locator + classic end record (values capped where they overflow). */
function endRecords(count: number, cdOffset: number, cdSize: number): Uint8Array {
  const end = new Uint8Array(56 + 20 + 22);
  const v = new DataView(end.buffer);
  v.setUint32(0, 0x06064b50, true);
  setU64(v, 4, 44); // size of the rest of this record
  v.setUint16(12, 45, true);
  v.setUint16(14, 45, true);
  setU64(v, 24, count);
  setU64(v, 32, count);
  setU64(v, 40, cdSize);
  setU64(v, 48, cdOffset);
  v.setUint32(56, 0x07064b50, true);
  setU64(v, 64, cdOffset + cdSize); // where the zip64 end record starts
  v.setUint32(72, 1, true); // total disks
  v.setUint32(76, 0x06054b50, true);
  const n16 = Math.min(count, 0xffff);
  v.setUint16(84, n16, true);
  v.setUint16(86, n16, true);
  v.setUint32(88, Math.min(cdSize, U32_MAX), true);
  v.setUint32(92, Math.min(cdOffset, U32_MAX), true);
  return end;
}

export function writeZip(files: readonly ZipInput[], opts: ZipWriteOptions = {}): Uint8Array {
  return concatChunks(writeZipChunks(files, opts));
}
