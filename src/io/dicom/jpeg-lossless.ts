import { fail } from '../../util/errors.js';

/**
 * JPEG lossless, process 14 (ITU T.81 annex H; DICOM 1.2.840.10008.1.2.4.57 and .70): Huffman-coded
 * differences from one of seven predictors, 2–16 bits, point transform, restart intervals. Greyscale
 * only (one component). Returns little-endian samples (1 byte each up to 8 bits, else 2).
 */
export interface LosslessFrame {
  readonly width: number;
  readonly height: number;
  readonly precision: number;
  readonly bytes: Uint8Array;
}

interface Huffman {
  /** Per code length 1..16: the largest code (−1: none), the index of its first value, its first code. */
  readonly maxCode: Int32Array;
  readonly valPtr: Int32Array;
  readonly minCode: Int32Array;
  readonly values: Uint8Array;
  readonly lookup: Uint16Array;
}

/** Bits of the entropy-coded data, most significant first, through a 32-bit buffer. */
class Bits {
  private buf = 0;
  private count = 0;
  /** Set when a marker other than stuffing stops the entropy-coded data (zeros are read after it). */
  marker = 0;
  /** Zero bytes fed after the marker: when the decoder uses any of them, the data ran out. */
  private padding = 0;
  constructor(
    private readonly data: Uint8Array,
    public pos: number,
  ) {}
  private fill(): void {
    while (this.count <= 24) {
      let b = 0;
      if (this.marker !== 0 || this.pos >= this.data.length) this.padding++;
      else {
        b = this.data[this.pos++] ?? 0;
        if (b === 0xff) {
          const next = this.data[this.pos] ?? 0;
          if (next === 0) this.pos++;
          else {
            this.marker = 0xff00 | next;
            this.padding++;
            b = 0;
          }
        }
      }
      this.buf = ((this.buf << 8) | b) >>> 0;
      this.count += 8;
    }
  }
  /** The next n (≤ 16) bits, not consumed. */
  peek(n: number): number {
    if (this.count < n) this.fill();
    return (this.buf >>> (this.count - n)) & ((1 << n) - 1);
  }
  skip(n: number): void {
    this.count -= n;
  }
  read(n: number): number {
    const v = this.peek(n);
    this.count -= n;
    return v;
  }
  /** Did the decoder read past the end of the entropy-coded data? */
  overran(): boolean {
    return this.count < 8 * this.padding;
  }
  /** At a restart point: drop the bits left in the buffer, step over RSTm. True when the interval ran out. */
  restart(): boolean {
    const over = this.overran();
    this.count = 0;
    this.buf = 0;
    this.padding = 0;
    if (this.marker === 0) {
      const d = this.data;
      while (
        this.pos + 1 < d.length &&
        !(d[this.pos] === 0xff && (d[this.pos + 1] ?? 0) >= 0xd0 && (d[this.pos + 1] ?? 0) <= 0xd7)
      )
        this.pos++;
      this.pos += 2;
    } else if (this.marker >= 0xffd0 && this.marker <= 0xffd7) this.pos++;
    this.marker = 0;
    return over;
  }
}

const LOOKUP_BITS = 9;

function buildHuffman(counts: Uint8Array, values: Uint8Array): Huffman {
  const maxCode = new Int32Array(17).fill(-1);
  const valPtr = new Int32Array(17);
  const minCode = new Int32Array(17);
  // codes up to LOOKUP_BITS long, by their next LOOKUP_BITS bits: (length << 8) | value, 0 when longer
  const lookup = new Uint16Array(1 << LOOKUP_BITS);
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    const n = counts[len - 1] ?? 0;
    valPtr[len] = k;
    minCode[len] = code;
    for (let c = 0; c < n && len <= LOOKUP_BITS; c++) {
      const shift = LOOKUP_BITS - len;
      const first = (code + c) << shift;
      lookup.fill((len << 8) | (values[k + c] ?? 0), first, first + (1 << shift));
    }
    code += n;
    k += n;
    maxCode[len] = n > 0 ? code - 1 : -1;
    code <<= 1;
  }
  return { maxCode, valPtr, minCode, values, lookup };
}

function decodeCategory(bits: Bits, h: Huffman, bad: (why: string) => never): number {
  const hit = h.lookup[bits.peek(LOOKUP_BITS)] ?? 0;
  if (hit !== 0) {
    bits.skip(hit >> 8);
    return hit & 0xff;
  }
  const word = bits.peek(16);
  for (let len = LOOKUP_BITS + 1; len <= 16; len++) {
    const code = word >>> (16 - len);
    const max = h.maxCode[len] ?? -1;
    if (max >= 0 && code <= max) {
      bits.skip(len);
      return h.values[(h.valPtr[len] ?? 0) + code - (h.minCode[len] ?? 0)] ?? 0;
    }
  }
  return bad('a Huffman code matches no table entry');
}

function predict(sv: number, ra: number, rb: number, rc: number): number {
  switch (sv) {
    case 1:
      return ra;
    case 2:
      return rb;
    case 3:
      return rc;
    case 4:
      return ra + rb - rc;
    case 5:
      return ra + ((rb - rc) >> 1);
    case 6:
      return rb + ((ra - rc) >> 1);
    default:
      return (ra + rb) >> 1;
  }
}

interface Header {
  precision: number;
  width: number;
  height: number;
  restart: number;
  tables: Map<number, Huffman>;
}

/** Reads the markers up to the start of scan; returns the scan's table, predictor, point transform. */
function readHeader(
  data: Uint8Array,
  bad: (why: string) => never,
): Header & { table: Huffman; sv: number; pt: number; pos: number } {
  if (data[0] !== 0xff || data[1] !== 0xd8) bad('does not start with SOI');
  const h: Header = { precision: 0, width: 0, height: 0, restart: 0, tables: new Map() };
  let p = 2;
  const u16 = (at: number): number => ((data[at] ?? 0) << 8) | (data[at + 1] ?? 0);
  for (;;) {
    if (p + 4 > data.length) bad('ends before its scan');
    if (data[p] !== 0xff) bad(`has no marker at byte ${p}`);
    const marker = data[p + 1] ?? 0;
    if (marker === 0xff) {
      p++;
      continue;
    }
    const len = u16(p + 2);
    const seg = p + 4;
    if (seg + len - 2 > data.length) bad(`marker FF${marker.toString(16)} runs past the end`);
    if (marker === 0xc3) {
      h.precision = data[seg] ?? 0;
      h.height = u16(seg + 1);
      h.width = u16(seg + 3);
      if ((data[seg + 5] ?? 0) !== 1) bad(`has ${data[seg + 5]} components; greyscale (1) is supported`);
    } else if (marker === 0xc4) {
      for (let q = seg; q < seg + len - 2;) {
        const id = (data[q] ?? 0) & 0x0f;
        const counts = data.subarray(q + 1, q + 17);
        const n = counts.reduce((a, b) => a + b, 0);
        h.tables.set(id, buildHuffman(counts, data.subarray(q + 17, q + 17 + n)));
        q += 17 + n;
      }
    } else if (marker === 0xdd) h.restart = u16(seg);
    else if (marker === 0xda) {
      const table = h.tables.get((data[seg + 2] ?? 0) >> 4);
      if (table === undefined || h.width === 0) bad('has a scan without its SOF3 frame or Huffman table');
      return { ...h, table, sv: data[seg + 3] ?? 1, pt: (data[seg + 5] ?? 0) & 0x0f, pos: seg + len - 2 };
    } else if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      bad(`is JPEG process SOF${marker - 0xc0}, not lossless Huffman (SOF3)`);
    }
    p = seg + len - 2;
  }
}

/** Decodes one JPEG lossless (SOF3) greyscale frame. */
export function decodeJpegLossless(data: Uint8Array, name: string): LosslessFrame {
  const bad = (why: string): never =>
    fail('BAD_INPUT', `dicom: ${name}: the JPEG lossless stream ${why} (corrupt pixel data)`);
  const h = readHeader(data, bad);
  const { width, height, precision, sv, pt } = h;
  if (precision < 2 || precision > 16) bad(`has precision ${precision}`);
  const out = new Uint16Array(width * height);
  const bits = new Bits(data, h.pos);
  const mask = 0xffff;
  let sinceRestart = 0;
  let intervalRow = 0; // the first row of the current restart interval uses the 1-D predictor
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let fresh = false;
      if (h.restart > 0 && sinceRestart === h.restart) {
        if (bits.restart()) bad(`runs out before the restart marker at row ${y}`);
        sinceRestart = 0;
        intervalRow = y;
        fresh = true;
      }
      const i = y * width + x;
      let p: number;
      if ((y === 0 && x === 0) || fresh) p = 1 << (precision - pt - 1);
      else if (y === intervalRow) p = out[i - 1] ?? 0;
      else if (x === 0) p = out[i - width] ?? 0;
      else p = predict(sv, out[i - 1] ?? 0, out[i - width] ?? 0, out[i - width - 1] ?? 0);
      const s = decodeCategory(bits, h.table, bad);
      let diff = 0;
      if (s === 16) diff = 32768;
      else if (s > 0) {
        diff = bits.read(s);
        if (diff < 1 << (s - 1)) diff -= (1 << s) - 1;
      }
      out[i] = (p + diff) & mask;
      sinceRestart++;
    }
  }
  if (bits.overran()) bad('ends before its last pixel');
  const size = precision > 8 ? 2 : 1;
  const bytes = new Uint8Array(width * height * size);
  for (let i = 0; i < out.length; i++) {
    const v = ((out[i] ?? 0) << pt) & mask;
    if (size === 1) bytes[i] = v;
    else {
      bytes[2 * i] = v & 255;
      bytes[2 * i + 1] = v >> 8;
    }
  }
  return { width, height, precision, bytes };
}
