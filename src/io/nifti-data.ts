import { Gunzip } from 'fflate';
import { fail } from '../util/errors.js';

/** NIfTI datatype codes (nifti1.h DT_*), voxel decoding/encoding, gzip. Bytes in, bytes out. */
export type NiftiDatatype =
  'uint8' | 'int8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'float32' | 'float64';

/** The voxel values as stored (machine byte order), one typed array per datatype. */
export type NiftiRawData =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

interface DatatypeInfo {
  readonly name: NiftiDatatype;
  readonly code: number;
  readonly bytes: number;
  /** Representable range for integer types (undefined for floats). */
  readonly range?: readonly [number, number];
  /** A typed array on `buffer` (from `byteOffset`, `length` elements; default: all of it). */
  readonly make: (buffer: ArrayBuffer, byteOffset?: number, length?: number) => NiftiRawData;
}

const INFO: readonly DatatypeInfo[] = [
  { name: 'uint8', code: 2, bytes: 1, range: [0, 255], make: (b, o, n) => new Uint8Array(b, o, n) },
  { name: 'int16', code: 4, bytes: 2, range: [-32768, 32767], make: (b, o, n) => new Int16Array(b, o, n) },
  {
    name: 'int32',
    code: 8,
    bytes: 4,
    range: [-2147483648, 2147483647],
    make: (b, o, n) => new Int32Array(b, o, n),
  },
  { name: 'float32', code: 16, bytes: 4, make: (b, o, n) => new Float32Array(b, o, n) },
  { name: 'float64', code: 64, bytes: 8, make: (b, o, n) => new Float64Array(b, o, n) },
  { name: 'int8', code: 256, bytes: 1, range: [-128, 127], make: (b, o, n) => new Int8Array(b, o, n) },
  { name: 'uint16', code: 512, bytes: 2, range: [0, 65535], make: (b, o, n) => new Uint16Array(b, o, n) },
  {
    name: 'uint32',
    code: 768,
    bytes: 4,
    range: [0, 4294967295],
    make: (b, o, n) => new Uint32Array(b, o, n),
  },
  { name: 'int64', code: 1024, bytes: 8, make: (b, o, n) => new BigInt64Array(b, o, n) },
  { name: 'uint64', code: 1280, bytes: 8, make: (b, o, n) => new BigUint64Array(b, o, n) },
];

const UNSUPPORTED: Readonly<Record<number, string>> = {
  1: 'binary (1 bit)',
  32: 'complex64',
  128: 'rgb24 (colour)',
  1536: 'float128',
  1792: 'complex128',
  2048: 'complex256',
  2304: 'rgba32 (colour)',
};

export function datatypeByCode(code: number): DatatypeInfo {
  const info = INFO.find((d) => d.code === code);
  if (info !== undefined) return info;
  const known = UNSUPPORTED[code];
  if (known !== undefined) {
    fail(
      'UNSUPPORTED',
      `nifti: datatype ${known} (code ${code}) is not supported; segmentation needs one scalar ` +
        'channel — convert the image to grayscale int16/float32 first',
    );
  }
  fail('BAD_INPUT', `nifti: unknown datatype code ${code} in the header (file corrupt?)`);
}

export function datatypeByName(name: NiftiDatatype): DatatypeInfo {
  const info = INFO.find((d) => d.name === name);
  if (info === undefined) fail('UNSUPPORTED', `nifti: unknown datatype '${name}'`);
  return info;
}

/** The datatype a typed array holds (Float32Array → float32, …). */
export function datatypeOfRaw(raw: NiftiRawData): DatatypeInfo {
  const name: NiftiDatatype =
    raw instanceof Uint8Array
      ? 'uint8'
      : raw instanceof Int8Array
        ? 'int8'
        : raw instanceof Int16Array
          ? 'int16'
          : raw instanceof Uint16Array
            ? 'uint16'
            : raw instanceof Int32Array
              ? 'int32'
              : raw instanceof Uint32Array
                ? 'uint32'
                : raw instanceof BigInt64Array
                  ? 'int64'
                  : raw instanceof BigUint64Array
                    ? 'uint64'
                    : raw instanceof Float32Array
                      ? 'float32'
                      : 'float64';
  return datatypeByName(name);
}

const PLATFORM_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Copies `count` voxels of `info` from `bytes` at `offset` into a typed array, swapping bytes if needed.
 * `owned`: the caller gives `bytes` away (a buffer it just inflated), so aligned voxels are swapped and
 * viewed in place instead of copied.
 */
export function decodeVoxels(
  bytes: Uint8Array,
  offset: number,
  count: number,
  info: DatatypeInfo,
  littleEndian: boolean,
  owned = false,
): NiftiRawData {
  const start = bytes.byteOffset + offset;
  if (owned && start % info.bytes === 0) {
    if (littleEndian !== PLATFORM_LE)
      swapInPlace(bytes.subarray(offset, offset + count * info.bytes), info.bytes);
    return info.make(bytes.buffer as ArrayBuffer, start, count);
  }
  const copy = bytes.slice(offset, offset + count * info.bytes); // fresh, aligned buffer
  if (littleEndian !== PLATFORM_LE) swapInPlace(copy, info.bytes);
  return info.make(copy.buffer);
}

function swapInPlace(b: Uint8Array, width: number): void {
  if (width === 1) return;
  for (let p = 0; p < b.length; p += width) {
    for (let lo = p, hi = p + width - 1; lo < hi; lo++, hi--) {
      const t = b[lo] ?? 0;
      b[lo] = b[hi] ?? 0;
      b[hi] = t;
    }
  }
}

/** Little-endian bytes of `values` stored as `info`; every value must already be representable. */
export function encodeVoxels(values: ArrayLike<number>, info: DatatypeInfo): Uint8Array {
  const out = new Uint8Array(values.length * info.bytes);
  const buf = out.buffer;
  const typed = info.make(buf);
  if (typed instanceof BigInt64Array || typed instanceof BigUint64Array) {
    for (let i = 0; i < values.length; i++) typed[i] = BigInt(values[i] ?? 0);
  } else {
    for (let i = 0; i < values.length; i++) typed[i] = values[i] ?? 0;
  }
  if (!PLATFORM_LE) swapInPlace(out, info.bytes);
  return out;
}

/**
 * `scl_slope · raw + scl_inter` as float32, computed in float64 (like nibabel's get_fdata, then rounded
 * once). slope 0 or non-finite means "no scaling" (NIfTI-1); a finite slope with a non-finite
 * intercept is an error, as in nibabel.
 */
export function scaleVoxels(raw: NiftiRawData, slope: number, inter: number): Float32Array {
  const scaled = slope !== 0 && Number.isFinite(slope);
  if (scaled && !Number.isFinite(inter)) {
    fail('BAD_INPUT', `nifti: scl_slope is ${slope} but scl_inter is ${inter}; the header is corrupt`);
  }
  const s = scaled ? slope : 1;
  const b = scaled ? inter : 0;
  const out = new Float32Array(raw.length);
  if (raw instanceof BigInt64Array || raw instanceof BigUint64Array) {
    for (let i = 0; i < raw.length; i++) out[i] = s * Number(raw[i] ?? 0n) + b;
  } else if (s === 1 && b === 0) {
    out.set(raw);
  } else {
    for (let i = 0; i < raw.length; i++) out[i] = s * (raw[i] ?? 0) + b;
  }
  return out;
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Input slice fed to the inflater at a time: one slice inflates to at most 1032 × its size. */
const GZIP_SLICE = 1 << 14;

/**
 * Gunzips `bytes` (every member; some tools write multi-member gzip) into `out` until `out` is full or
 * the stream ends, and returns how many bytes were written. Input goes in `slice`-byte pieces and stops
 * once `out` is full, so a stream holding more than `out` (a gzip bomb) is inflated no further than
 * `out.length` plus one piece's output. Bytes past `out.length` are not read (nor their CRC checked, as
 * nibabel reads only the voxels it needs). A corrupt stream becomes a BAD_INPUT.
 */
export function gunzipInto(bytes: Uint8Array, out: Uint8Array, what: string, slice = GZIP_SLICE): number {
  let filled = 0;
  const g = new Gunzip((chunk) => {
    const n = Math.min(chunk.length, out.length - filled);
    out.set(n === chunk.length ? chunk : chunk.subarray(0, n), filled);
    filled += n;
  });
  try {
    for (let p = 0; p < bytes.length && filled < out.length; p += slice) {
      const end = Math.min(p + slice, bytes.length);
      g.push(bytes.subarray(p, end), end === bytes.length);
    }
  } catch (e) {
    fail('BAD_INPUT', `nifti: ${what} is not valid gzip (truncated or corrupt: ${(e as Error).message})`);
  }
  return filled;
}

/** The first `n` bytes of a gzip stream (fewer if it is shorter), inflating little more than that. */
export function gunzipHead(bytes: Uint8Array, n: number, what: string): Uint8Array {
  const head = new Uint8Array(n);
  return head.subarray(0, gunzipInto(bytes, head, what, 256));
}

/** Deflate's largest expansion: a 2-bit code for a 258-byte match (zlib's "1032:1"). */
export const MAX_DEFLATE_RATIO = 1032;
