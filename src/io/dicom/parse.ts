import { Inflate } from 'fflate';
import { concatChunks } from '../../util/bytes.js';
import { fail } from '../../util/errors.js';

/**
 * A small DICOM Part 10 reader: bytes in, the top-level elements of the data set out (nested sequences
 * are stepped over, not kept). Little endian implicit/explicit VR and deflated explicit VR; encapsulated
 * pixel data is split into its fragments. Every length is checked against what is left of the file before
 * anything is read or allocated, so a truncated or lying file is one clear error.
 */
export const TS = {
  implicitLE: '1.2.840.10008.1.2',
  explicitLE: '1.2.840.10008.1.2.1',
  deflatedLE: '1.2.840.10008.1.2.1.99',
  explicitBE: '1.2.840.10008.1.2.2',
} as const;

export interface DicomElement {
  readonly vr: string;
  /** Offset of the value in `DicomDataSet.bytes`. */
  readonly offset: number;
  readonly length: number;
}

export interface DicomDataSet {
  /** The file's name (for messages). */
  readonly name: string;
  readonly transferSyntax: string;
  /** The data set's bytes (inflated for the deflate transfer syntax). */
  readonly bytes: Uint8Array;
  /** Top-level elements by tag (group << 16 | element). */
  readonly elements: ReadonlyMap<number, DicomElement>;
  /** Encapsulated pixel data: the fragments after the basic offset table, and that table. */
  readonly fragments?: readonly Uint8Array[];
  readonly offsetTable?: readonly number[];
}

export interface ParseDicomOptions {
  /** The most bytes a deflated data set may inflate to (default 1 GiB). */
  readonly maxInflatedBytes?: number;
}

export const PIXEL_DATA = 0x7fe00010;
const ITEM = 0xfffee000;
const ITEM_END = 0xfffee00d;
const SEQ_END = 0xfffee0dd;
const UNDEFINED = 0xffffffff;
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const MAX_DEPTH = 32;

/** Does this look like a DICOM Part 10 file (128-byte preamble, then "DICM")? */
export function isDicomPart10(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 132 &&
    bytes[128] === 0x44 &&
    bytes[129] === 0x49 &&
    bytes[130] === 0x43 &&
    bytes[131] === 0x4d
  );
}

/** Implicit VR for the tags this reader interprets as binary; everything else reads as text or bytes. */
function implicitVr(tag: number): string {
  if (tag === PIXEL_DATA) return 'OW';
  if (
    tag >>> 16 === 0x0028 &&
    [0x0002, 0x0010, 0x0011, 0x0100, 0x0101, 0x0102, 0x0103, 0x0006].includes(tag & 0xffff)
  )
    return 'US';
  return 'UN';
}

class Reader {
  private readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly name: string,
    readonly explicit: boolean,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  u16(p: number): number {
    this.need(p, 2, 'an element header');
    return this.view.getUint16(p, true);
  }
  u32(p: number): number {
    this.need(p, 4, 'an element header');
    return this.view.getUint32(p, true);
  }
  tag(p: number): number {
    return ((this.u16(p) << 16) | this.u16(p + 2)) >>> 0;
  }
  need(p: number, n: number, what: string): void {
    if (p + n > this.bytes.length) {
      fail(
        'BAD_INPUT',
        `dicom: ${this.name}: ${what} at byte ${p} needs ${n} bytes but the file ends at byte ${this.bytes.length} (truncated or corrupt)`,
      );
    }
  }
  /** Reads one element header at p: tag, VR, value offset and length (UNDEFINED for undefined). */
  header(p: number): { tag: number; vr: string; offset: number; length: number } {
    const tag = this.tag(p);
    if (tag >>> 16 === 0xfffe) return { tag, vr: '', offset: p + 8, length: this.u32(p + 4) };
    if (!this.explicit) return { tag, vr: implicitVr(tag), offset: p + 8, length: this.u32(p + 4) };
    this.need(p + 4, 2, 'a VR');
    const vr = String.fromCharCode(this.bytes[p + 4] ?? 0, this.bytes[p + 5] ?? 0);
    if (!/^[A-Z]{2}$/.test(vr)) {
      fail(
        'BAD_INPUT',
        `dicom: ${this.name}: element (${hexTag(tag)}) at byte ${p} has no valid VR ('${vr}'): corrupt data set`,
      );
    }
    if (LONG_VRS.has(vr)) return { tag, vr, offset: p + 12, length: this.u32(p + 8) };
    return { tag, vr, offset: p + 8, length: this.u16(p + 6) };
  }
  /** Checks that a defined length fits what is left of the file (before anything uses it). */
  value(offset: number, length: number, tag: number): void {
    if (offset + length > this.bytes.length) {
      fail(
        'BAD_INPUT',
        `dicom: ${this.name}: element (${hexTag(tag)}) at byte ${offset} says ${length} bytes but only ${Math.max(0, this.bytes.length - offset)} are left (truncated or corrupt)`,
      );
    }
  }
  /** Steps over the items of an undefined-length sequence; returns the position after its delimiter. */
  skipSequence(p: number, depth: number): number {
    if (depth > MAX_DEPTH)
      fail('BAD_INPUT', `dicom: ${this.name}: sequences nested deeper than ${MAX_DEPTH}`);
    for (;;) {
      const h = this.header(p);
      if (h.tag === SEQ_END) return h.offset;
      if (h.tag !== ITEM)
        fail(
          'BAD_INPUT',
          `dicom: ${this.name}: expected a sequence item at byte ${p}, found (${hexTag(h.tag)})`,
        );
      if (h.length === UNDEFINED) p = this.skipElements(h.offset, depth + 1, ITEM_END);
      else {
        this.value(h.offset, h.length, h.tag);
        p = h.offset + h.length;
      }
    }
  }
  /** Steps over elements until the delimiter `end` (returns after it). */
  skipElements(p: number, depth: number, end: number): number {
    for (;;) {
      const h = this.header(p);
      if (h.tag === end) return h.offset;
      p = this.after(h, depth);
    }
  }
  /** The position after an element (its value, or its nested items when its length is undefined). */
  after(h: { tag: number; vr: string; offset: number; length: number }, depth: number): number {
    if (h.length !== UNDEFINED) {
      this.value(h.offset, h.length, h.tag);
      return h.offset + h.length;
    }
    // an undefined-length UN holds implicit VR little endian items (PS3.5 6.2.2)
    if (h.vr === 'UN' && this.explicit)
      return new Reader(this.bytes, this.name, false).skipSequence(h.offset, depth + 1);
    return this.skipSequence(h.offset, depth + 1);
  }
}

export function hexTag(tag: number): string {
  const h = (n: number): string => n.toString(16).toUpperCase().padStart(4, '0');
  return `${h(tag >>> 16)},${h(tag & 0xffff)}`;
}

/** The file meta group (0002,xxxx), always explicit VR little endian: transfer syntax and where it ends. */
function readMeta(bytes: Uint8Array, name: string): { transferSyntax: string; end: number } {
  const r = new Reader(bytes, name, true);
  let p = 132;
  let transferSyntax = '';
  while (p + 4 <= bytes.length && r.u16(p) === 0x0002) {
    const h = r.header(p);
    if (h.length === UNDEFINED) fail('BAD_INPUT', `dicom: ${name}: undefined length in the file meta group`);
    r.value(h.offset, h.length, h.tag);
    if (h.tag === 0x00020010) transferSyntax = text(bytes, h.offset, h.length);
    p = h.offset + h.length;
  }
  if (transferSyntax === '')
    fail('BAD_INPUT', `dicom: ${name}: no transfer syntax (0002,0010) in the file meta group`);
  return { transferSyntax, end: p };
}

export function text(bytes: Uint8Array, offset: number, length: number): string {
  let s = '';
  for (let i = offset; i < offset + length; i++) s += String.fromCharCode(bytes[i] ?? 0);
  return s.replace(/[\0 ]+$/, '').replace(/^ +/, '');
}

function inflateLimited(data: Uint8Array, name: string, max: number): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const inflater = new Inflate((chunk) => {
    total += chunk.length;
    if (total > max) fail('BAD_INPUT', `dicom: ${name}: the deflated data set inflates past ${max} bytes`);
    chunks.push(chunk);
  });
  try {
    inflater.push(data, true);
  } catch (e) {
    if (e instanceof Error && e.name === 'StunetError') throw e;
    fail(
      'BAD_INPUT',
      `dicom: ${name}: the deflated data set does not inflate (${e instanceof Error ? e.message : String(e)})`,
    );
  }
  return concatChunks(chunks);
}

/** Splits encapsulated pixel data (items after the basic offset table) into fragments. */
function readFragments(
  r: Reader,
  p: number,
): { fragments: Uint8Array[]; offsetTable: number[]; end: number } {
  const fragments: Uint8Array[] = [];
  const offsetTable: number[] = [];
  let first = true;
  for (;;) {
    const h = r.header(p);
    if (h.tag === SEQ_END) return { fragments, offsetTable, end: h.offset };
    if (h.tag !== ITEM || h.length === UNDEFINED) {
      fail(
        'BAD_INPUT',
        `dicom: ${r.name}: encapsulated pixel data has a bad item at byte ${p} (${hexTag(h.tag)})`,
      );
    }
    r.value(h.offset, h.length, h.tag);
    const value = r.bytes.subarray(h.offset, h.offset + h.length);
    if (first) {
      const v = new DataView(value.buffer, value.byteOffset, value.byteLength);
      for (let i = 0; i + 4 <= value.length; i += 4) offsetTable.push(v.getUint32(i, true));
      first = false;
    } else fragments.push(value);
    p = h.offset + h.length;
  }
}

/** Parses a DICOM Part 10 file. */
export function parseDicom(bytes: Uint8Array, name: string, options: ParseDicomOptions = {}): DicomDataSet {
  if (!isDicomPart10(bytes))
    fail('BAD_INPUT', `dicom: ${name}: not a DICOM file (no "DICM" after the 128-byte preamble)`);
  const meta = readMeta(bytes, name);
  const ts = meta.transferSyntax;
  if (ts === TS.explicitBE)
    fail('UNSUPPORTED', `dicom: ${name}: explicit VR big endian (retired) is not supported`);
  let data = bytes.subarray(meta.end);
  if (ts === TS.deflatedLE) data = inflateLimited(data, name, options.maxInflatedBytes ?? 2 ** 30);
  const r = new Reader(data, name, ts !== TS.implicitLE);
  const elements = new Map<number, DicomElement>();
  let encapsulated: ReturnType<typeof readFragments> | undefined;
  let p = 0;
  while (p < data.length) {
    if (p + 8 > data.length) {
      // trailing padding shorter than an element header
      if (data.subarray(p).every((b) => b === 0)) break;
      r.need(p, 8, 'an element header');
    }
    const h = r.header(p);
    if (h.tag === PIXEL_DATA && h.length === UNDEFINED) {
      encapsulated = readFragments(r, h.offset);
      elements.set(h.tag, { vr: h.vr, offset: h.offset, length: 0 });
      p = encapsulated.end;
      continue;
    }
    const next = r.after(h, 0);
    if (h.length !== UNDEFINED) elements.set(h.tag, { vr: h.vr, offset: h.offset, length: h.length });
    p = next;
  }
  return {
    name,
    transferSyntax: ts,
    bytes: data,
    elements,
    ...(encapsulated !== undefined
      ? { fragments: encapsulated.fragments, offsetTable: encapsulated.offsetTable }
      : {}),
  };
}

/** The value of a text element (trimmed), or undefined when absent. */
export function getString(ds: DicomDataSet, tag: number): string | undefined {
  const e = ds.elements.get(tag);
  return e === undefined ? undefined : text(ds.bytes, e.offset, e.length);
}

/** Backslash-separated numbers (DS / IS), or undefined when absent or empty. */
export function getNumbers(ds: DicomDataSet, tag: number): number[] | undefined {
  const s = getString(ds, tag);
  if (s === undefined || s === '') return undefined;
  const values = s.split('\\').map((v) => Number(v.trim()));
  if (values.some((v) => !Number.isFinite(v)))
    fail('BAD_INPUT', `dicom: ${ds.name}: (${hexTag(tag)}) is not a list of numbers: '${s}'`);
  return values;
}

/** An unsigned short (US), or undefined when absent. */
export function getUint16(ds: DicomDataSet, tag: number): number | undefined {
  const e = ds.elements.get(tag);
  if (e === undefined || e.length < 2) return undefined;
  return (ds.bytes[e.offset] ?? 0) | ((ds.bytes[e.offset + 1] ?? 0) << 8);
}

/** The raw bytes of an element's value, or undefined when absent. */
export function getBytes(ds: DicomDataSet, tag: number): Uint8Array | undefined {
  const e = ds.elements.get(tag);
  return e === undefined ? undefined : ds.bytes.subarray(e.offset, e.offset + e.length);
}
