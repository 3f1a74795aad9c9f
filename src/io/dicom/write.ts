import { concatChunks } from '../../util/bytes.js';
import { fail } from '../../util/errors.js';
import { hexTag, TS } from './parse.js';

/**
 * A small DICOM Part 10 writer: a data set given as elements (sequences nested as items) in, bytes out.
 * Explicit VR little endian by default (implicit VR little endian on request, for values longer than an
 * explicit VR's 16-bit length allows, e.g. long RTSTRUCT ContourData). Every sequence and item has a
 * defined length; values are padded to even length (UI with NUL, OB with NUL, other text with a space);
 * the file meta group has its group length (0002,0000), the only group length the standard still asks
 * for. No Node built-ins: the bytes work in a browser.
 */
export type DicomItem = readonly DicomEl[];

export interface DicomEl {
  readonly tag: number;
  readonly vr: string;
  /** Text (multiple values joined with '\'), numbers (binary VRs; IS/DS are formatted), bytes, or items. */
  readonly value: string | readonly number[] | Uint8Array | readonly DicomItem[];
}

export const el = (tag: number, vr: string, value: DicomEl['value']): DicomEl => ({ tag, vr, value });
/** A text element; numbers for IS/DS are formatted with `formatDs`. */
export const str = (tag: number, vr: string, value: string | readonly number[]): DicomEl =>
  el(tag, vr, typeof value === 'string' ? value : value.map(formatDs).join('\\'));
export const seq = (tag: number, items: readonly DicomItem[]): DicomEl => el(tag, 'SQ', items);
/** A code sequence item: [CodingSchemeDesignator, CodeValue, CodeMeaning]. */
export const codeItem = (c: readonly [string, string, string]): DicomItem => [
  str(0x00080100, 'SH', c[1]),
  str(0x00080102, 'SH', c[0]),
  str(0x00080104, 'LO', c[2]),
];

export const LONG_VRS: ReadonlySet<string> = new Set([
  'OB',
  'OD',
  'OF',
  'OL',
  'OV',
  'OW',
  'SQ',
  'SV',
  'UC',
  'UN',
  'UR',
  'UT',
  'UV',
]);
const BINARY: Record<string, [number, (v: DataView, p: number, x: number) => void]> = {
  US: [
    2,
    (v, p, x) => {
      v.setUint16(p, x, true);
    },
  ],
  SS: [
    2,
    (v, p, x) => {
      v.setInt16(p, x, true);
    },
  ],
  UL: [
    4,
    (v, p, x) => {
      v.setUint32(p, x, true);
    },
  ],
  SL: [
    4,
    (v, p, x) => {
      v.setInt32(p, x, true);
    },
  ],
  FL: [
    4,
    (v, p, x) => {
      v.setFloat32(p, x, true);
    },
  ],
  FD: [
    8,
    (v, p, x) => {
      v.setFloat64(p, x, true);
    },
  ],
  AT: [
    4,
    (v, p, x) => {
      v.setUint16(p, x >>> 16, true);
      v.setUint16(p + 2, x & 0xffff, true);
    },
  ],
};
const encoder = new TextEncoder();

/** A decimal string (DS) of at most 16 characters, as exact as that allows. */
export function formatDs(x: number): string {
  if (!Number.isFinite(x)) fail('BAD_INPUT', `dicom write: ${x} cannot be written as a decimal string`);
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return String(x);
  for (let p = 15; p > 1; p--) {
    const s = String(Number(x.toPrecision(p)));
    if (s.length <= 16) return s;
  }
  return x.toExponential(6);
}

/** A UID under 2.25 (PS3.5 B.2: a UUID as one decimal number) from 16 bytes. */
function uidOf(b: Uint8Array): string {
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40; // UUID version 4 (random) layout
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  let n = 0n;
  for (const x of b) n = (n << 8n) | BigInt(x);
  return `2.25.${n.toString()}`;
}

/** A new UID under 2.25 from the platform's random source (Math.random where there is no Web Crypto). */
export function newUid(): string {
  const b = new Uint8Array(16);
  const crypto = (globalThis as { crypto?: { getRandomValues?: (a: Uint8Array) => Uint8Array } }).crypto;
  if (crypto?.getRandomValues !== undefined) crypto.getRandomValues(b);
  else for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
  return uidOf(b);
}

/** A UID under 2.25 that is a function of `seed` (four 32-bit FNV-1a lanes): the same seed, the same UID. */
export function uidFromSeed(seed: string): string {
  const b = new Uint8Array(16);
  const view = new DataView(b.buffer);
  for (let lane = 0; lane < 4; lane++) {
    let h = (0x811c9dc5 ^ Math.imul(lane + 1, 0x9e3779b1)) >>> 0;
    for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 0x01000193) >>> 0;
    view.setUint32(lane * 4, h);
  }
  return uidOf(b);
}

function valueBytes(e: DicomEl, explicit: boolean): Uint8Array {
  const v = e.value;
  if (v instanceof Uint8Array) return v.length % 2 === 0 ? v : concatChunks([v, new Uint8Array(1)]);
  if (typeof v === 'string') {
    const b = encoder.encode(v);
    if (b.length % 2 === 0) return b;
    const out = new Uint8Array(b.length + 1);
    out.set(b);
    out[b.length] = e.vr === 'UI' ? 0 : 0x20;
    return out;
  }
  if (e.vr === 'SQ') return concatChunks((v as readonly DicomItem[]).map((it) => encodeItem(it, explicit)));
  const spec = BINARY[e.vr];
  if (spec === undefined) fail('BAD_INPUT', `dicom write: (${hexTag(e.tag)}) ${e.vr} cannot hold numbers`);
  const nums = v as readonly number[];
  const out = new Uint8Array(nums.length * spec[0]);
  const view = new DataView(out.buffer);
  nums.forEach((x, i) => {
    spec[1](view, i * spec[0], x);
  });
  return out;
}

function header(tag: number, vr: string, length: number, explicit: boolean): Uint8Array {
  const long = !explicit || LONG_VRS.has(vr) || tag >>> 16 === 0xfffe;
  const h = new Uint8Array(long && explicit && tag >>> 16 !== 0xfffe ? 12 : 8);
  const v = new DataView(h.buffer);
  v.setUint16(0, tag >>> 16, true);
  v.setUint16(2, tag & 0xffff, true);
  if (!explicit || tag >>> 16 === 0xfffe) v.setUint32(4, length, true);
  else if (long) {
    h[4] = vr.charCodeAt(0);
    h[5] = vr.charCodeAt(1);
    v.setUint32(8, length, true);
  } else {
    if (length > 0xfffe) {
      fail(
        'BAD_INPUT',
        `dicom write: (${hexTag(tag)}) ${vr} is ${length} bytes, more than explicit VR allows (65534)`,
      );
    }
    h[4] = vr.charCodeAt(0);
    h[5] = vr.charCodeAt(1);
    v.setUint16(6, length, true);
  }
  return h;
}

function encodeElements(elements: readonly DicomEl[], explicit: boolean): Uint8Array[] {
  const sorted = [...elements].sort((a, b) => a.tag - b.tag);
  const out: Uint8Array[] = [];
  sorted.forEach((e, i) => {
    if (i > 0 && sorted[i - 1]?.tag === e.tag) fail('BAD_INPUT', `dicom write: (${hexTag(e.tag)}) twice`);
    const value = valueBytes(e, explicit);
    out.push(header(e.tag, e.vr, value.length, explicit), value);
  });
  return out;
}

function encodeItem(item: DicomItem, explicit: boolean): Uint8Array {
  const body = concatChunks(encodeElements(item, explicit));
  return concatChunks([header(0xfffee000, '', body.length, explicit), body]);
}

/** Does any value in the data set need a 32-bit length that explicit VR does not give it? */
export function needsImplicit(elements: readonly DicomEl[]): boolean {
  return elements.some((e) =>
    e.vr === 'SQ'
      ? (e.value as readonly DicomItem[]).some(needsImplicit)
      : !LONG_VRS.has(e.vr) && valueBytes(e, true).length > 0xfffe,
  );
}

export interface WriteDicomOptions {
  /** Explicit VR little endian (default) or implicit VR little endian. */
  readonly implicit?: boolean;
  readonly implementationClassUid?: string;
  readonly implementationVersionName?: string;
}

/** This writer's Implementation Class UID (a fixed 2.25 UID) and version name. */
export const IMPLEMENTATION_CLASS_UID = '2.25.229118713950117003364297446718104526377';
export const IMPLEMENTATION_VERSION = 'STUNET_TS_1';

/**
 * A Part 10 file: preamble, "DICM", the file meta group (SOP class and instance from (0008,0016) and
 * (0008,0018) of the data set), then the data set.
 */
export function writeDicom(dataSet: readonly DicomEl[], options: WriteDicomOptions = {}): Uint8Array {
  const find = (tag: number): string => {
    const v = dataSet.find((e) => e.tag === tag)?.value;
    if (typeof v !== 'string' || v === '')
      fail('BAD_INPUT', `dicom write: the data set has no (${hexTag(tag)})`);
    return v;
  };
  const explicit = options.implicit !== true;
  const meta = concatChunks(
    encodeElements(
      [
        el(0x00020001, 'OB', new Uint8Array([0, 1])),
        str(0x00020002, 'UI', find(0x00080016)),
        str(0x00020003, 'UI', find(0x00080018)),
        str(0x00020010, 'UI', explicit ? TS.explicitLE : TS.implicitLE),
        str(0x00020012, 'UI', options.implementationClassUid ?? IMPLEMENTATION_CLASS_UID),
        str(0x00020013, 'SH', options.implementationVersionName ?? IMPLEMENTATION_VERSION),
      ],
      true,
    ),
  );
  const groupLength = concatChunks(encodeElements([el(0x00020000, 'UL', [meta.length])], true));
  const preamble = new Uint8Array(132);
  preamble.set([0x44, 0x49, 0x43, 0x4d], 128);
  return concatChunks([preamble, groupLength, meta, ...encodeElements(dataSet, explicit)]);
}
