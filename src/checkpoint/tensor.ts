import { fail } from '../util/errors.js';
import { float16ToFloat32 } from '../io/npy.js';
import { isLittleEndian } from '../util/endian.js';
import {
  TorchStorage,
  TorchTensor,
  type TensorInput,
  type TorchDtype,
  type TorchTypedArray,
} from './py-values.js';

/**
 * Tensor dtype facts and value extraction: gathering a strided view into C order, fp16/bf16 conversion,
 * and building tensors from typed arrays for the writers.
 */

export const ELEMENT_SIZE: Record<TorchDtype, number> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  float64: 8,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

export type { TensorInput, TorchTypedArray } from './py-values.js';

// Every reader here views raw little-endian bytes through typed arrays; a big-endian host would read garbage.
if (!isLittleEndian()) fail('UNSUPPORTED', 'checkpoint: big-endian hosts are not supported');

export function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) fail('BAD_INPUT', `tensor: bad shape [${shape.join(', ')}]`);
    n *= d;
  }
  return n;
}

export function contiguousStride(shape: readonly number[]): number[] {
  const stride: number[] = [];
  let s = 1;
  for (const n of [...shape].reverse()) {
    stride.push(s);
    s *= Math.max(1, n);
  }
  return stride.reverse();
}

/** Throws unless every element of the view lies inside its storage (checked once, so gathers need no checks). */
export function checkTensorBounds(t: TorchTensor, where: string): void {
  const { shape, stride, storageOffset } = t;
  if (shape.length !== stride.length)
    fail(
      'BAD_INPUT',
      `${where}: shape [${shape.join(', ')}] and stride [${stride.join(', ')}] differ in rank`,
    );
  if (!Number.isSafeInteger(storageOffset) || storageOffset < 0)
    fail('BAD_INPUT', `${where}: bad storage offset ${storageOffset}`);
  const n = numelOf(shape);
  if (n === 0) return;
  let last = storageOffset;
  for (const [d, size] of shape.entries()) {
    const s = stride[d];
    if (s === undefined || !Number.isSafeInteger(s) || s < 0)
      fail('BAD_INPUT', `${where}: bad stride [${stride.join(', ')}]`);
    last += (size - 1) * s;
  }
  if (last >= t.storage.numel) {
    fail(
      'BAD_INPUT',
      `${where}: view (shape [${shape.join(', ')}], stride [${stride.join(', ')}], offset ${storageOffset}) reaches element ${last} of a ${t.storage.numel}-element storage`,
    );
  }
}

/**
 * The tensor's logical elements in C order as raw little-endian bytes. Works for any view: permuted,
 * sliced (offset / step), expanded (stride 0). A contiguous view is a single copy.
 */
export function tensorBytes(t: TorchTensor): Uint8Array {
  const es = ELEMENT_SIZE[t.dtype];
  const n = t.numel;
  const src = t.storage.bytes;
  checkTensorBounds(t, `tensor over storage '${t.storage.key}'`);
  if (src.length < t.storage.numel * es) {
    fail(
      'BAD_INPUT',
      `tensor: storage '${t.storage.key}' holds ${src.length} bytes, needs ${t.storage.numel * es}`,
    );
  }
  if (n === 0) return new Uint8Array(0);
  // A copy (never `slice`: on a Buffer that is a view), so typed views of the result are aligned.
  if (t.isContiguous) return new Uint8Array(src.subarray(t.storageOffset * es, (t.storageOffset + n) * es));
  const out = new Uint8Array(n * es);
  const rank = t.shape.length;
  const inner = t.shape[rank - 1];
  const lastStride = t.stride[rank - 1];
  if (inner === undefined || lastStride === undefined) fail('BAD_INPUT', 'tensor: a 0-D view is contiguous');
  const innerStride = lastStride * es;
  const idx = new Array<number>(rank).fill(0);
  let base = t.storageOffset * es; // byte offset of idx with the last index at 0
  for (let o = 0; o < n * es;) {
    let p = base;
    for (let i = 0; i < inner; i++, p += innerStride) {
      for (let b = 0; b < es; b++) out[o++] = src[p + b] as number;
    }
    // Odometer over the outer dims (rank ≥ 2 here: a rank-1 non-contiguous view has one row).
    for (let d = rank - 2; d >= 0; d--) {
      const size = t.shape[d] as number;
      const sd = (t.stride[d] as number) * es;
      idx[d] = (idx[d] as number) + 1;
      base += sd;
      if ((idx[d] as number) < size) break;
      base -= size * sd;
      idx[d] = 0;
    }
  }
  return out;
}

function view(dtype: TorchDtype, bytes: Uint8Array): TorchTypedArray {
  // `bytes` is a fresh copy (offset 0), so every typed view below is aligned.
  const { buffer, byteOffset: o, byteLength: len } = bytes;
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer, o, len / 4);
    case 'float64':
      return new Float64Array(buffer, o, len / 8);
    case 'float16':
    case 'bfloat16':
      return new Uint16Array(buffer, o, len / 2);
    case 'int64':
      return new BigInt64Array(buffer, o, len / 8);
    case 'int32':
      return new Int32Array(buffer, o, len / 4);
    case 'int16':
      return new Int16Array(buffer, o, len / 2);
    case 'int8':
      return new Int8Array(buffer, o, len);
    case 'uint8':
    case 'bool':
      return bytes;
  }
}

/** C-order values in the dtype's natural typed array (Float64Array for float64, BigInt64Array for int64, fp16/bf16 bits as Uint16Array). */
export function tensorToTypedArray(t: TorchTensor): TorchTypedArray {
  return view(t.dtype, tensorBytes(t));
}

let F16_TABLE: Float32Array | undefined;

export function float16BitsToFloat32(bits: Uint16Array): Float32Array {
  if (F16_TABLE === undefined) {
    F16_TABLE = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) F16_TABLE[h] = float16ToFloat32(h);
  }
  const table = F16_TABLE;
  return Float32Array.from(bits, (h) => table[h] as number);
}

export function bfloat16BitsToFloat32(bits: Uint16Array): Float32Array {
  const u = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) u[i] = (bits[i] as number) << 16;
  return new Float32Array(u.buffer);
}

/**
 * C-order values as float32, converting from any dtype: fp16/bf16 exactly, float64 rounded, ints/bools via
 * Number (int64 beyond 2^24 loses precision, as a float32 must).
 */
export function tensorToFloat32(t: TorchTensor): Float32Array {
  const a = tensorToTypedArray(t);
  if (t.dtype === 'float32') return a as Float32Array;
  if (t.dtype === 'float16') return float16BitsToFloat32(a as Uint16Array);
  if (t.dtype === 'bfloat16') return bfloat16BitsToFloat32(a as Uint16Array);
  if (a instanceof BigInt64Array) return Float32Array.from(a, (v) => Number(v));
  return Float32Array.from(a as ArrayLike<number>);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 → bfloat16 bits, round to nearest even; NaN stays a (quiet) NaN. */
export function float32ToBfloat16Bits(x: number): number {
  f32[0] = x;
  const u = u32[0] as number;
  if ((u & 0x7f800000) === 0x7f800000 && (u & 0x7fffff) !== 0) return (u >>> 16) | 0x40;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** float32 → IEEE half bits, round to nearest even, overflow → ±inf, tiny → subnormal / ±0. */
export function float32ToFloat16Bits(x: number): number {
  f32[0] = x;
  const u = u32[0] as number;
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  const mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal
    const m = mant | 0x800000; // implicit leading 1
    const shift = 14 - e; // 24-bit significand → 10-bit subnormal field
    const half = 1 << (shift - 1);
    const rest = m & ((1 << shift) - 1);
    let r = m >>> shift;
    if (rest > half || (rest === half && (r & 1) === 1)) r++;
    return sign | r; // r may carry into the exponent field: that is the correct smallest normal
  }
  let r = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (r & 1) === 1)) r++; // may round up to inf: correct
  return sign | r;
}

type ArrayClass = abstract new (...args: never[]) => TorchTypedArray;

const DATA_CLASS: Record<TorchDtype, readonly ArrayClass[]> = {
  float32: [Float32Array],
  float64: [Float64Array],
  float16: [Uint16Array, Float32Array],
  bfloat16: [Uint16Array, Float32Array],
  int64: [BigInt64Array],
  int32: [Int32Array],
  int16: [Int16Array],
  int8: [Int8Array],
  uint8: [Uint8Array],
  bool: [Uint8Array],
};

function inputBytes(input: TensorInput): Uint8Array {
  const { dtype, data } = input;
  const allowed = DATA_CLASS[dtype];
  if (!allowed.some((c) => data instanceof c)) {
    fail(
      'BAD_INPUT',
      `tensor: dtype ${dtype} needs data as ${allowed.map((c) => c.name).join(' or ')}, got ${data.constructor.name}`,
    );
  }
  let arr: TorchTypedArray = data;
  if ((dtype === 'float16' || dtype === 'bfloat16') && data instanceof Float32Array) {
    const conv = dtype === 'float16' ? float32ToFloat16Bits : float32ToBfloat16Bits;
    arr = Uint16Array.from(data, conv);
  }
  return new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
}

/** A contiguous tensor over its own storage. The data is used in place (not copied) unless it needs conversion. */
export function tensorFromData(input: TensorInput, key = '0'): TorchTensor {
  const n = numelOf(input.shape);
  if (input.data.length !== n) {
    fail(
      'SHAPE_MISMATCH',
      `tensor: shape [${input.shape.join(', ')}] needs ${n} values, got ${input.data.length}`,
    );
  }
  const storage = new TorchStorage(key, input.dtype, 'cpu', n, inputBytes(input));
  return new TorchTensor(input.dtype, [...input.shape], contiguousStride(input.shape), 0, storage);
}
