import { fail } from '../util/errors.js';

/**
 * NumPy `.npy` (format 1.0–3.0) read and write. Bytes in, bytes out: no file system here.
 * Supported dtypes: float16/32/64, int8/16/32/64, uint8/16/32, bool; little- or big-endian, C or Fortran
 * order (Fortran arrays are returned in C order).
 */
export type NpyDtype =
  | 'float16'
  | 'float32'
  | 'float64'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'bool';

export type NpyData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array;

export interface NpyArray {
  readonly dtype: NpyDtype;
  readonly shape: readonly number[];
  /** C-order values. float16 is widened to float32; bool is 0/1 in a Uint8Array. */
  readonly data: NpyData;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const DESCR: Record<string, { dtype: NpyDtype; size: number }> = {
  f2: { dtype: 'float16', size: 2 },
  f4: { dtype: 'float32', size: 4 },
  f8: { dtype: 'float64', size: 8 },
  i1: { dtype: 'int8', size: 1 },
  i2: { dtype: 'int16', size: 2 },
  i4: { dtype: 'int32', size: 4 },
  i8: { dtype: 'int64', size: 8 },
  u1: { dtype: 'uint8', size: 1 },
  u2: { dtype: 'uint16', size: 2 },
  u4: { dtype: 'uint32', size: 4 },
  b1: { dtype: 'bool', size: 1 },
};

export function float16ToFloat32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function parseHeader(text: string): { descr: string; fortran: boolean; shape: number[] } {
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    fail('BAD_INPUT', `npy: cannot parse header ${JSON.stringify(text.trim())}`);
  }
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => Number(s));
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) fail('BAD_INPUT', `npy: bad shape (${shapeText})`);
  return { descr, fortran: fortran === 'True', shape };
}

/**
 * The header of a .npy from its first bytes (a stream's start): dtype descr, order, shape and where the
 * data begins. Null when `bytes` ends before the header does (give more).
 */
export function readNpyHeader(
  bytes: Uint8Array,
): { descr: string; fortran: boolean; shape: number[]; dataStart: number } | null {
  if (bytes.length < 12) return null;
  if (MAGIC.some((m, i) => bytes[i] !== m)) fail('BAD_INPUT', 'npy: not a .npy file (bad magic)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = view.getUint8(6);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const dataStart = headerStart + headerLen;
  if (dataStart > bytes.length) return null;
  return { ...parseHeader(new TextDecoder().decode(bytes.subarray(headerStart, dataStart))), dataStart };
}

export function readNpy(bytes: Uint8Array): NpyArray {
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m))
    fail('BAD_INPUT', 'npy: not a .npy file (bad magic)');
  const header = readNpyHeader(bytes) ?? fail('BAD_INPUT', 'npy: truncated header');
  const dataStart = header.dataStart;
  const endian = header.descr[0];
  const kind = DESCR[header.descr.slice(1)];
  if (kind === undefined || (endian !== '<' && endian !== '>' && endian !== '|')) {
    fail('UNSUPPORTED', `npy: dtype '${header.descr}' is not supported`);
  }
  const little = endian !== '>';
  const count = header.shape.reduce((a, b) => a * b, 1);
  if (dataStart + count * kind.size > bytes.length) {
    fail(
      'BAD_INPUT',
      `npy: truncated data (need ${count * kind.size} bytes, have ${bytes.length - dataStart})`,
    );
  }
  const data = decode(
    kind.dtype,
    new DataView(bytes.buffer, bytes.byteOffset + dataStart, count * kind.size),
    count,
    little,
  );
  return {
    dtype: kind.dtype,
    shape: header.shape,
    data: header.fortran && header.shape.length > 1 ? fortranToC(data, header.shape) : data,
  };
}

function decode(dtype: NpyDtype, v: DataView, n: number, le: boolean): NpyData {
  switch (dtype) {
    case 'float16': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = float16ToFloat32(v.getUint16(2 * i, le));
      return out;
    }
    case 'float32': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = v.getFloat32(4 * i, le);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = v.getFloat64(8 * i, le);
      return out;
    }
    case 'int8':
      return new Int8Array(v.buffer.slice(v.byteOffset, v.byteOffset + n));
    case 'uint8':
    case 'bool':
      return new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + n));
    case 'int16': {
      const out = new Int16Array(n);
      for (let i = 0; i < n; i++) out[i] = v.getInt16(2 * i, le);
      return out;
    }
    case 'uint16': {
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) out[i] = v.getUint16(2 * i, le);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = v.getInt32(4 * i, le);
      return out;
    }
    case 'uint32': {
      const out = new Uint32Array(n);
      for (let i = 0; i < n; i++) out[i] = v.getUint32(4 * i, le);
      return out;
    }
    case 'int64': {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = v.getBigInt64(8 * i, le);
      return out;
    }
  }
}

/** Reorders Fortran (column-major) data into C order. */
function fortranToC<T extends NpyData>(data: T, shape: readonly number[]): T {
  const out = data.slice() as T;
  // element copies between the same typed-array type (number or bigint elements alike)
  const src: ArrayLike<unknown> = data;
  const dst: { [i: number]: unknown } = out;
  const n = shape.length;
  const idx = new Array<number>(n).fill(0);
  for (let c = 0; c < data.length; c++) {
    // idx is the C-order multi-index of position c; compute its Fortran offset.
    let f = 0;
    let mul = 1;
    for (let a = 0; a < n; a++) {
      f += (idx[a] as number) * mul;
      mul *= shape[a] as number;
    }
    dst[c] = src[f];
    for (let a = n - 1; a >= 0; a--) {
      idx[a] = (idx[a] as number) + 1;
      if ((idx[a] as number) < (shape[a] as number)) break;
      idx[a] = 0;
    }
  }
  return out;
}

const WRITE_DESCR: Partial<Record<NpyDtype, string>> = {
  float32: '<f4',
  float64: '<f8',
  int8: '|i1',
  int16: '<i2',
  int32: '<i4',
  int64: '<i8',
  uint8: '|u1',
  uint16: '<u2',
  uint32: '<u4',
  bool: '|b1',
};

/**
 * The magic, version and header dict of a .npy file (format 1.0), padded with spaces so that the data
 * starts at a multiple of 64 bytes, as NumPy writes it. The data follows directly.
 */
export function npyHeader(descr: string, shape: readonly number[], fortranOrder = false): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': ${fortranOrder ? 'True' : 'False'}, 'shape': ${shapeText}, }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(10 + h.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, h.length, true);
  out.set(h, 10);
  return out;
}

/** Writes a C-order little-endian .npy (format 1.0, header padded to 64 bytes as NumPy does). */
export function writeNpy(array: NpyArray): Uint8Array {
  const descr = WRITE_DESCR[array.dtype];
  if (descr === undefined) fail('UNSUPPORTED', `npy: cannot write dtype ${array.dtype}`);
  const count = array.shape.reduce((a, b) => a * b, 1);
  if (count !== array.data.length) {
    fail(
      'SHAPE_MISMATCH',
      `npy: shape [${array.shape.join(', ')}] needs ${count} values, got ${array.data.length}`,
    );
  }
  const head = npyHeader(descr, array.shape);
  const payload = new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength);
  const out = new Uint8Array(head.length + payload.length);
  out.set(head, 0);
  out.set(payload, head.length);
  return out;
}
