/**
 * Test helper: writes small DICOM Part 10 files (implicit / explicit VR little endian, deflated, RLE) from
 * a synthetic slice, so the tests can make series with any geometry and transfer syntax.
 */
import { deflateSync } from 'fflate';
import type { Mat4 } from '../../../src/io/geometry.js';

export type Syntax = 'implicit' | 'explicit' | 'deflate' | 'rle';

export interface SliceSpec {
  readonly rows: number;
  readonly columns: number;
  /** Stored values, row-major (rows × columns). */
  readonly pixels: ArrayLike<number>;
  readonly position: readonly number[];
  readonly orientation?: readonly number[];
  /** (row spacing, column spacing) in mm. */
  readonly pixelSpacing?: readonly [number, number];
  readonly seriesUid?: string;
  /** SOPInstanceUID (omitted by default, as in some anonymised exports). */
  readonly sopInstanceUid?: string;
  readonly modality?: string;
  readonly imageType?: string;
  readonly instance?: number;
  readonly slope?: number;
  readonly intercept?: number;
  readonly signed?: boolean;
  readonly bitsAllocated?: 8 | 16;
  readonly sliceThickness?: number;
  /** Omit the pixel data element (a non-image object). */
  readonly noPixels?: boolean;
  readonly samplesPerPixel?: number;
  readonly frames?: number;
  /** Add an undefined-length sequence (with an undefined-length item) before the image module. */
  readonly sequence?: boolean;
}

const TS_UID: Record<Syntax, string> = {
  implicit: '1.2.840.10008.1.2',
  explicit: '1.2.840.10008.1.2.1',
  deflate: '1.2.840.10008.1.2.1.99',
  rle: '1.2.840.10008.1.2.5',
};

interface El {
  readonly tag: number;
  readonly vr: string;
  readonly value: Uint8Array;
  readonly undefinedLength?: boolean;
}

const enc = new TextEncoder();

function str(tag: number, vr: string, s: string): El {
  const pad = vr === 'UI' ? '\0' : ' ';
  return { tag, vr, value: enc.encode(s.length % 2 === 1 ? s + pad : s) };
}

function us(tag: number, v: number): El {
  return { tag, vr: 'US', value: new Uint8Array([v & 255, v >> 8]) };
}

function ds(tag: number, values: readonly number[]): El {
  return str(tag, 'DS', values.map((v) => String(Number(v.toPrecision(12)))).join('\\'));
}

const LONG = new Set(['OB', 'OW', 'SQ', 'UN', 'UT']);

function writeElements(els: readonly El[], explicit: boolean): Uint8Array {
  const parts: number[] = [];
  const push16 = (v: number): void => void parts.push(v & 255, (v >> 8) & 255);
  const push32 = (v: number): void =>
    void parts.push(v & 255, (v >> 8) & 255, (v >> 16) & 255, (v >>> 24) & 255);
  for (const e of [...els].sort((a, b) => a.tag - b.tag)) {
    push16(e.tag >>> 16);
    push16(e.tag & 0xffff);
    const len = e.undefinedLength === true ? 0xffffffff : e.value.length;
    if (explicit) {
      parts.push(e.vr.charCodeAt(0), e.vr.charCodeAt(1));
      if (LONG.has(e.vr)) {
        push16(0);
        push32(len);
      } else push16(len);
    } else push32(len);
    for (const b of e.value) parts.push(b);
  }
  return Uint8Array.from(parts);
}

/** (0008,1140) as an undefined-length sequence holding one undefined-length item with one element. */
function undefinedSequence(explicit: boolean): El {
  const delimiter = (lo: number, len: number): number[] => [
    0xfe,
    0xff,
    lo & 255,
    lo >> 8,
    len & 255,
    (len >> 8) & 255,
    (len >> 16) & 255,
    len >>> 24,
  ];
  const inner = writeElements([str(0x00081150, 'UI', '1.2.840.10008.5.1.4.1.1.2')], explicit);
  const value = Uint8Array.from([
    ...delimiter(0xe000, 0xffffffff),
    ...inner,
    ...delimiter(0xe00d, 0),
    ...delimiter(0xe0dd, 0),
  ]);
  return { tag: 0x00081140, vr: 'SQ', value, undefinedLength: true };
}

/** Encapsulated pixel data: empty basic offset table, one fragment per frame, sequence delimiter. */
export function encapsulate(frame: Uint8Array): Uint8Array {
  const item = (tagLo: number, len: number): number[] => [
    0xfe,
    0xff,
    tagLo & 255,
    tagLo >> 8,
    len & 255,
    (len >> 8) & 255,
    (len >> 16) & 255,
    len >>> 24,
  ];
  const padded = frame.length % 2 === 1 ? Uint8Array.from([...frame, 0]) : frame;
  return Uint8Array.from([...item(0xe000, 0), ...item(0xe000, padded.length), ...padded, ...item(0xe0dd, 0)]);
}

function packBits(plane: Uint8Array): number[] {
  const out: number[] = [];
  let i = 0;
  while (i < plane.length) {
    let run = 1;
    while (i + run < plane.length && run < 128 && plane[i + run] === plane[i]) run++;
    if (run >= 2) {
      out.push(257 - run, plane[i] ?? 0);
      i += run;
      continue;
    }
    let lit = 1;
    while (i + lit < plane.length && lit < 128 && plane[i + lit] !== plane[i + lit - 1]) lit++;
    out.push(lit - 1, ...plane.subarray(i, i + lit));
    i += lit;
  }
  if (out.length % 2 === 1) out.push(0x80); // a no-op byte keeps segments even
  return out;
}

/** RLE Lossless frame of little-endian samples. */
export function rleFrame(samples: Uint8Array, bytesPerSample: number): Uint8Array {
  const n = samples.length / bytesPerSample;
  const segs: number[][] = [];
  for (let s = 0; s < bytesPerSample; s++) {
    const plane = new Uint8Array(n);
    for (let i = 0; i < n; i++) plane[i] = samples[i * bytesPerSample + (bytesPerSample - 1 - s)] ?? 0;
    segs.push(packBits(plane));
  }
  const header = new Uint8Array(64);
  const v = new DataView(header.buffer);
  v.setUint32(0, segs.length, true);
  let off = 64;
  segs.forEach((seg, s) => {
    v.setUint32(4 + 4 * s, off, true);
    off += seg.length;
  });
  return Uint8Array.from([...header, ...segs.flat()]);
}

export function sampleBytes(spec: SliceSpec): Uint8Array {
  const size = (spec.bitsAllocated ?? 16) / 8;
  const out = new Uint8Array(spec.rows * spec.columns * size);
  for (let i = 0; i < spec.rows * spec.columns; i++) {
    const v = spec.pixels[i] ?? 0;
    out[i * size] = v & 255;
    if (size === 2) out[i * size + 1] = (v >> 8) & 255;
  }
  return out;
}

function dataSetElements(spec: SliceSpec, syntax: Syntax): El[] {
  const bits = spec.bitsAllocated ?? 16;
  const els: El[] = [
    str(0x00080008, 'CS', spec.imageType ?? 'ORIGINAL\\PRIMARY\\AXIAL'),
    str(0x00080016, 'UI', '1.2.840.10008.5.1.4.1.1.2'),
    ...(spec.sopInstanceUid === undefined ? [] : [str(0x00080018, 'UI', spec.sopInstanceUid)]),
    str(0x00080060, 'CS', spec.modality ?? 'CT'),
    str(0x0020000e, 'UI', spec.seriesUid ?? '1.2.3.4'),
    str(0x00200013, 'IS', String(spec.instance ?? 1)),
    ds(0x00200032, spec.position),
    ds(0x00200037, spec.orientation ?? [1, 0, 0, 0, 1, 0]),
    ds(0x00180050, [spec.sliceThickness ?? 3]),
  ];
  if (spec.frames !== undefined) els.push(str(0x00280008, 'IS', String(spec.frames)));
  if (spec.sequence === true) els.push(undefinedSequence(syntax !== 'implicit'));
  if (spec.noPixels === true) return els;
  els.push(
    us(0x00280002, spec.samplesPerPixel ?? 1),
    str(0x00280004, 'CS', (spec.samplesPerPixel ?? 1) === 1 ? 'MONOCHROME2' : 'RGB'),
    us(0x00280010, spec.rows),
    us(0x00280011, spec.columns),
    ds(0x00280030, spec.pixelSpacing ?? [0.5, 0.75]),
    us(0x00280100, bits),
    us(0x00280101, bits === 16 ? 12 : 8),
    us(0x00280102, bits === 16 ? 11 : 7),
    us(0x00280103, spec.signed === true ? 1 : 0),
    ds(0x00281052, [spec.intercept ?? 0]),
    ds(0x00281053, [spec.slope ?? 1]),
  );
  const samples = sampleBytes(spec);
  if (syntax === 'rle')
    els.push({
      tag: 0x7fe00010,
      vr: 'OB',
      value: encapsulate(rleFrame(samples, bits / 8)),
      undefinedLength: true,
    });
  else els.push({ tag: 0x7fe00010, vr: bits === 16 ? 'OW' : 'OB', value: samples });
  return els;
}

/** A DICOM Part 10 file holding one slice. */
export function makeDicom(spec: SliceSpec, syntax: Syntax = 'explicit'): Uint8Array {
  const meta = writeElements(
    [str(0x00020010, 'UI', TS_UID[syntax]), str(0x00020002, 'UI', '1.2.840.10008.5.1.4.1.1.2')],
    true,
  );
  const group = writeElements(
    [{ tag: 0x00020000, vr: 'UL', value: new Uint8Array(new Uint32Array([meta.length]).buffer) }],
    true,
  );
  let body = writeElements(dataSetElements(spec, syntax), syntax !== 'implicit');
  if (syntax === 'deflate') body = deflateSync(body);
  const out = new Uint8Array(132 + group.length + meta.length + body.length);
  out.set(enc.encode('DICM'), 128);
  out.set(group, 132);
  out.set(meta, 132 + group.length);
  out.set(body, 132 + group.length + meta.length);
  return out;
}

/** A synthetic volume: value = f(i, j, k), deterministic and different on every slice. */
export function syntheticPixels(rows: number, columns: number, k: number, max = 4000): Int32Array {
  const out = new Int32Array(rows * columns);
  for (let j = 0; j < rows; j++)
    for (let i = 0; i < columns; i++)
      out[j * columns + i] = (i * 37 + j * 101 + k * 997 + ((i * j) % 13)) % max;
  return out;
}

/** Makes a series of `n` slices along `normal` (default axial) starting at `origin`, `step` mm apart. */
export function makeSeries(
  n: number,
  opts: Partial<SliceSpec> & {
    step?: number;
    syntax?: Syntax;
    normal?: readonly number[];
    shift?: readonly number[];
    /** SOPInstanceUIDs `<prefix>.<k + 1>` (none by default). */
    sopPrefix?: string;
  } = {},
): { name: string; bytes: Uint8Array }[] {
  const rows = opts.rows ?? 6;
  const columns = opts.columns ?? 5;
  const step = opts.step ?? 2;
  const normal = opts.normal ?? [0, 0, 1];
  const origin = opts.position ?? [-10, -20, 30];
  const shift = opts.shift ?? [0, 0, 0];
  const files: { name: string; bytes: Uint8Array }[] = [];
  for (let k = 0; k < n; k++) {
    const position = origin.map((o, a) => o + k * step * (normal[a] ?? 0) + k * (shift[a] ?? 0));
    const spec: SliceSpec = {
      ...opts,
      rows,
      columns,
      pixels: opts.pixels ?? syntheticPixels(rows, columns, k, (opts.bitsAllocated ?? 16) === 8 ? 256 : 4000),
      position,
      instance: k + 1,
      ...(opts.sopPrefix === undefined ? {} : { sopInstanceUid: `${opts.sopPrefix}.${k + 1}` }),
    };
    files.push({
      name: `s${String(k).padStart(3, '0')}.dcm`,
      bytes: makeDicom(spec, opts.syntax ?? 'explicit'),
    });
  }
  return files;
}

/** The largest difference between two affines' first three rows. */
export function maxAffineDiff(a: Mat4, b: readonly (readonly number[])[]): number {
  let d = 0;
  for (let r = 0; r < 3; r++)
    for (let c = 0; c < 4; c++) d = Math.max(d, Math.abs((a[r]?.[c] ?? NaN) - (b[r]?.[c] ?? NaN)));
  return d;
}
