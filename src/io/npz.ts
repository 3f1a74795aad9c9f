/**
 * A compressed `.npz` (what `numpy.savez_compressed` writes: a zip of `.npy` members, deflated) written as
 * a stream: members are pushed in pieces and compressed as they come, so an array larger than memory
 * (probabilities of 105 classes) is never held whole. Sizes and CRCs follow each member in a data
 * descriptor and are repeated in the central directory, with zip64 fields wherever a size or offset
 * passes 4 GiB (numpy reads them through Python's zipfile, which takes the central directory).
 */
import { Deflate } from 'fflate';
import { crc32 } from '../util/crc32.js';
import { fail } from '../util/errors.js';
import { npyHeader } from './npy.js';

const U32_MAX = 0xffffffff;
const DOS_DATE_1980_01_01 = 0x21;
const FLAG_DATA_DESCRIPTOR = 0x08;
const FLAG_UTF8 = 0x800;

interface Member {
  readonly name: Uint8Array;
  readonly offset: number;
  crc: number;
  size: number;
  compressed: number;
}

export interface NpzWriterOptions {
  /** Deflate level 0–9 (default 1: float probabilities gain little from more, and it is 3× faster). */
  readonly level?: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
}

function setU64(v: DataView, at: number, x: number): void {
  v.setBigUint64(at, BigInt(x), true);
}

export class NpzStreamWriter {
  private readonly members: Member[] = [];
  private open: { member: Member; deflate: Deflate } | null = null;
  private pos = 0;
  private finished = false;

  /** `emit` receives the file's bytes in order; a chunk may be reused after the call returns. */
  constructor(
    private readonly emit: (chunk: Uint8Array) => void,
    private readonly options: NpzWriterOptions = {},
  ) {}

  private out(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.emit(chunk);
    this.pos += chunk.length;
  }

  /** Starts member `<key>.npy`; its .npy header is written for `descr` and `shape`. */
  beginArray(key: string, descr: string, shape: readonly number[]): void {
    if (this.open !== null || this.finished)
      fail('RUNTIME', 'npz: a member is still open or the file is finished');
    const name = new TextEncoder().encode(`${key}.npy`);
    if (this.members.some((m) => m.name.join() === name.join()))
      fail('BAD_INPUT', `npz: duplicate array '${key}'`);
    const member: Member = { name, offset: this.pos, crc: 0, size: 0, compressed: 0 };
    // Local header: sizes and CRC follow in the data descriptor; the zip64 extra (zeros) announces
    // 8-byte sizes there.
    const head = new Uint8Array(30 + name.length + 20);
    const v = new DataView(head.buffer);
    v.setUint32(0, 0x04034b50, true);
    v.setUint16(4, 45, true);
    v.setUint16(6, FLAG_DATA_DESCRIPTOR | FLAG_UTF8, true);
    v.setUint16(8, 8, true); // deflate
    v.setUint16(12, DOS_DATE_1980_01_01, true);
    v.setUint32(18, U32_MAX, true);
    v.setUint32(22, U32_MAX, true);
    v.setUint16(26, name.length, true);
    v.setUint16(28, 20, true);
    head.set(name, 30);
    v.setUint16(30 + name.length, 0x0001, true);
    v.setUint16(32 + name.length, 16, true);
    this.out(head);
    const deflate = new Deflate({ level: this.options.level ?? 1 }, (data) => {
      member.compressed += data.length;
      this.out(data);
    });
    this.open = { member, deflate };
    this.write(npyHeader(descr, shape));
  }

  /** Raw little-endian bytes of the open member, in C order. */
  write(bytes: Uint8Array): void {
    const o = this.open;
    if (o === null) fail('RUNTIME', 'npz: write without an open array');
    o.member.crc = crc32(bytes, o.member.crc);
    o.member.size += bytes.length;
    // fflate may keep a reference to the chunk until the next push: copy what the caller may reuse.
    o.deflate.push(bytes.slice(), false);
  }

  /** Ends the open member: flushes the compressor, writes its data descriptor. */
  endArray(): void {
    const o = this.open;
    if (o === null) fail('RUNTIME', 'npz: endArray without an open array');
    o.deflate.push(new Uint8Array(0), true);
    const d = new Uint8Array(24);
    const v = new DataView(d.buffer);
    v.setUint32(0, 0x08074b50, true);
    v.setUint32(4, o.member.crc, true);
    setU64(v, 8, o.member.compressed);
    setU64(v, 16, o.member.size);
    this.out(d);
    this.members.push(o.member);
    this.open = null;
  }

  /** A whole small array as one member. */
  addArray(key: string, descr: string, shape: readonly number[], bytes: Uint8Array): void {
    this.beginArray(key, descr, shape);
    this.write(bytes);
    this.endArray();
  }

  /** Writes the central directory and the (zip64) end records. */
  finish(): void {
    if (this.open !== null) fail('RUNTIME', 'npz: finish with an array still open');
    if (this.finished) return;
    this.finished = true;
    const cdStart = this.pos;
    for (const m of this.members) this.out(centralRecord(m));
    const cdSize = this.pos - cdStart;
    const end = new Uint8Array(56 + 20 + 22);
    const v = new DataView(end.buffer);
    const n = this.members.length;
    v.setUint32(0, 0x06064b50, true);
    setU64(v, 4, 44);
    v.setUint16(12, 45, true);
    v.setUint16(14, 45, true);
    setU64(v, 24, n);
    setU64(v, 32, n);
    setU64(v, 40, cdSize);
    setU64(v, 48, cdStart);
    v.setUint32(56, 0x07064b50, true);
    setU64(v, 64, cdStart + cdSize);
    v.setUint32(72, 1, true);
    v.setUint32(76, 0x06054b50, true);
    v.setUint16(84, Math.min(n, 0xffff), true);
    v.setUint16(86, Math.min(n, 0xffff), true);
    v.setUint32(88, Math.min(cdSize, U32_MAX), true);
    v.setUint32(92, Math.min(cdStart, U32_MAX), true);
    this.out(end);
  }
}

function centralRecord(m: Member): Uint8Array {
  const big = [m.size, m.compressed, m.offset].map((x) => x >= U32_MAX);
  const z64 = big.filter(Boolean).length * 8;
  const extraLen = z64 > 0 ? 4 + z64 : 0;
  const r = new Uint8Array(46 + m.name.length + extraLen);
  const v = new DataView(r.buffer);
  v.setUint32(0, 0x02014b50, true);
  v.setUint16(4, 45, true);
  v.setUint16(6, 45, true);
  v.setUint16(8, FLAG_DATA_DESCRIPTOR | FLAG_UTF8, true);
  v.setUint16(10, 8, true);
  v.setUint16(14, DOS_DATE_1980_01_01, true);
  v.setUint32(16, m.crc, true);
  v.setUint32(20, big[1] === true ? U32_MAX : m.compressed, true);
  v.setUint32(24, big[0] === true ? U32_MAX : m.size, true);
  v.setUint16(28, m.name.length, true);
  v.setUint16(30, extraLen, true);
  v.setUint32(42, big[2] === true ? U32_MAX : m.offset, true);
  r.set(m.name, 46);
  if (z64 > 0) {
    let at = 46 + m.name.length;
    v.setUint16(at, 0x0001, true);
    v.setUint16(at + 2, z64, true);
    at += 4;
    // zip64 extra order: uncompressed size, compressed size, local header offset (those that overflow).
    for (const [i, x] of [m.size, m.compressed, m.offset].entries()) {
      if (big[i] !== true) continue;
      setU64(v, at, x);
      at += 8;
    }
  }
  return r;
}
