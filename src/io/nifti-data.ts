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
  readonly make: (buffer: ArrayBuffer) => NiftiRawData;
}

const INFO: readonly DatatypeInfo[] = [
  { name: 'uint8', code: 2, bytes: 1, range: [0, 255], make: (b) => new Uint8Array(b) },
  { name: 'int16', code: 4, bytes: 2, range: [-32768, 32767], make: (b) => new Int16Array(b) },
  { name: 'int32', code: 8, bytes: 4, range: [-2147483648, 2147483647], make: (b) => new Int32Array(b) },
  { name: 'float32', code: 16, bytes: 4, make: (b) => new Float32Array(b) },
  { name: 'float64', code: 64, bytes: 8, make: (b) => new Float64Array(b) },
  { name: 'int8', code: 256, bytes: 1, range: [-128, 127], make: (b) => new Int8Array(b) },
  { name: 'uint16', code: 512, bytes: 2, range: [0, 65535], make: (b) => new Uint16Array(b) },
  { name: 'uint32', code: 768, bytes: 4, range: [0, 4294967295], make: (b) => new Uint32Array(b) },
  { name: 'int64', code: 1024, bytes: 8, make: (b) => new BigInt64Array(b) },
  { name: 'uint64', code: 1280, bytes: 8, make: (b) => new BigUint64Array(b) },
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

/** Copies `count` voxels of `info` from `bytes` at `offset` into a typed array, swapping bytes if needed. */
export function decodeVoxels(
  bytes: Uint8Array,
  offset: number,
  count: number,
  info: DatatypeInfo,
  littleEndian: boolean,
): NiftiRawData {
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

/** Gunzips all members (some tools write multi-member gzip); a corrupt stream becomes a BAD_INPUT. */
export function gunzipAll(bytes: Uint8Array, what: string): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const g = new Gunzip((chunk) => {
    chunks.push(chunk);
    total += chunk.length;
  });
  try {
    g.push(bytes, true);
  } catch (e) {
    fail('BAD_INPUT', `nifti: ${what} is not valid gzip (truncated or corrupt: ${(e as Error).message})`);
  }
  if (chunks.length === 1 && chunks[0] !== undefined) return chunks[0];
  const out = new Uint8Array(total);
  let p = 0;
  for (const c of chunks) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}
