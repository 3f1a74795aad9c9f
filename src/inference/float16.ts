/**
 * IEEE 754 binary16 rounding, to reproduce what PyTorch does with `torch.half` on the CPU: every half op
 * is computed in float32 ("opmath") and the result rounded to half (nearest, ties to even). Values stay
 * JS numbers; the returned number is exactly representable in fp16 (and in float32).
 */

import { float16ToFloat32 } from '../io/npy.js';

const HALF_MAX_PLUS_HALF_ULP = 65520; // 65504 + 16: from here on, round-to-nearest-even gives ±Infinity
const MIN_NORMAL = 2 ** -14;
const SUBNORMAL_QUANTUM = 2 ** -24;

/** Nearest fp16 value to `x` (ties to even); overflow → ±Infinity, NaN stays NaN, −0 stays −0. */
export function roundToFloat16(x: number): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  const a = Math.abs(x);
  if (a >= HALF_MAX_PLUS_HALF_ULP) return x > 0 ? Infinity : -Infinity;
  let quantum = SUBNORMAL_QUANTUM;
  if (a >= MIN_NORMAL) {
    // 2^e ≤ a < 2^(e+1); log2 may be off by one next to powers of two, so correct it exactly.
    let e = Math.floor(Math.log2(a));
    if (2 ** e > a) e -= 1;
    else if (2 ** (e + 1) <= a) e += 1;
    quantum = 2 ** (e - 10);
  }
  const y = a / quantum; // exact: division by a power of two
  let r = Math.floor(y);
  const frac = y - r;
  if (frac > 0.5 || (frac === 0.5 && r % 2 === 1)) r += 1;
  const rounded = r * quantum;
  return x < 0 ? -rounded : rounded;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
let halfTable: Float32Array | null = null;

/** Value of every fp16 bit pattern (256 KB, built on first use). */
function halfValues(): Float32Array {
  if (halfTable === null) {
    halfTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) halfTable[h] = float16ToFloat32(h);
  }
  return halfTable;
}

/** float32 bits → fp16 bits, round to nearest even (numpy's npy_floatbits_to_halfbits). */
function halfBits(f: number): number {
  const sign = (f >>> 16) & 0x8000;
  const exp = f & 0x7f800000;
  if (exp >= 0x47800000) {
    // overflow → ±inf; NaN stays a (quiet) NaN
    if (exp === 0x7f800000 && (f & 0x007fffff) !== 0) return sign | 0x7e00;
    return sign | 0x7c00;
  }
  if (exp <= 0x38000000) {
    if (exp < 0x33000000) return sign; // below half the smallest subnormal: ±0
    const e = exp >>> 23;
    let sig = (0x00800000 + (f & 0x007fffff)) >>> (113 - e);
    // Ties to even; the shift may have dropped up to 11 sticky bits, checked in the original.
    if ((sig & 0x3fff) !== 0x1000 || (f & 0x7ff) !== 0) sig += 0x1000;
    return sign + (sig >>> 13);
  }
  let sig = f & 0x007fffff;
  if ((sig & 0x3fff) !== 0x1000) sig += 0x1000;
  return sign + (((exp - 0x38000000) >>> 13) + (sig >>> 13)); // a carry into the exponent is correct
}

/**
 * A float32 op result rounded to half, i.e. torch's `half_tensor op= value` on the CPU:
 * `roundToFloat16(Math.fround(value))`, via the bit pattern (hot path of fp16 accumulation).
 */
export function halfFromFloat32Op(value: number): number {
  f32[0] = value;
  return halfValues()[halfBits(u32[0] as number)] as number;
}
