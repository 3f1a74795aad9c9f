/**
 * Gaussian importance maps for sliding-window blending. Ports nnU-Net v1.7.1
 * `SegmentationNetwork._get_gaussian` and nnU-Net v2 `compute_gaussian` (both the STU-Net 2.2 copy and
 * upstream), bit for bit where the fixtures allow: scipy's `gaussian_filter` of a unit impulse at
 * `patch // 2` (mode 'constant', truncate 4) is separable, so the map is a product of 1-D kernels.
 */
import { fail } from '../util/errors.js';
import { halfFromFloat32Op, roundToFloat16 } from './float16.js';
import type { Vec3 } from '../util/vec3.js';

const TRUNCATE = 4; // scipy.ndimage.gaussian_filter default

/** numpy's pairwise summation (`np.sum` of a contiguous float64 array), so the kernel norm matches to the bit. */
function pairwiseSum(a: Float64Array, start: number, n: number): number {
  if (n < 8) {
    let s = 0;
    for (let i = 0; i < n; i++) s += a[start + i] as number;
    return s;
  }
  if (n <= 128) {
    const r = Array.from(a.subarray(start, start + 8));
    let i = 8;
    for (; i < n - (n % 8); i += 8)
      for (let j = 0; j < 8; j++) r[j] = (r[j] as number) + (a[start + i + j] as number);
    const [r0, r1, r2, r3, r4, r5, r6, r7] = r as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    let s = r0 + r1 + (r2 + r3) + (r4 + r5 + (r6 + r7));
    for (; i < n; i++) s += a[start + i] as number;
    return s;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, start, n2) + pairwiseSum(a, start + n2, n - n2);
}

/** scipy `_gaussian_kernel1d(sigma, 0, radius)`: weights for offsets −radius…radius, summing to 1 (float64). */
export function gaussianKernel1d(sigma: number, radius: number): Float64Array {
  const phi = new Float64Array(2 * radius + 1);
  const scale = -0.5 / (sigma * sigma);
  for (let i = 0; i < phi.length; i++) {
    const x = i - radius;
    phi[i] = Math.exp(scale * (x * x));
  }
  const sum = 0 + pairwiseSum(phi, 0, phi.length);
  return phi.map((v) => v / sum);
}

/** Weight of `gaussian_filter(impulse at n // 2)` at each index 0…n−1 along one axis (0 beyond the radius). */
function axisProfile(n: number, sigmaScale: number): Float64Array {
  const sigma = n * sigmaScale;
  const out = new Float64Array(n);
  if (!(sigma > 1e-15)) {
    out[Math.floor(n / 2)] = 1; // scipy skips axes with sigma ≈ 0
    return out;
  }
  const radius = Math.trunc(TRUNCATE * sigma + 0.5);
  const kernel = gaussianKernel1d(sigma, radius);
  const centre = Math.floor(n / 2);
  for (let i = 0; i < n; i++) {
    const d = Math.abs(i - centre);
    out[i] = d <= radius ? (kernel[radius + d] ?? 0) : 0;
  }
  return out;
}

function checkPatch(patchSizeZYX: Vec3, sigmaScale: number): void {
  if (!patchSizeZYX.every((p) => Number.isInteger(p) && p >= 1))
    fail('BAD_INPUT', `patch size must be three positive integers, got [${patchSizeZYX.join(', ')}]`);
  if (!(sigmaScale > 0)) fail('BAD_INPUT', `sigmaScale must be > 0, got ${sigmaScale}`);
}

/**
 * The unnormalised float64 map, (Z, Y, X) C-order. scipy filters axis 0, then 1, then 2 and each pass
 * multiplies the single non-zero of its line by one weight, so the value is exactly (wz·wy)·wx.
 */
export function gaussianFilterImpulse(patchSizeZYX: Vec3, sigmaScale = 1 / 8): Float64Array {
  checkPatch(patchSizeZYX, sigmaScale);
  const [pz, py, px] = patchSizeZYX;
  const wz = axisProfile(pz, sigmaScale);
  const wy = axisProfile(py, sigmaScale);
  const wx = axisProfile(px, sigmaScale);
  const out = new Float64Array(pz * py * px);
  let i = 0;
  for (let z = 0; z < pz; z++)
    for (let y = 0; y < py; y++) {
      const zy = (wz[z] as number) * (wy[y] as number);
      for (let x = 0; x < px; x++) out[i++] = zy * (wx[x] as number);
    }
  return out;
}

function maxOf(a: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < a.length; i++) if ((a[i] as number) > m) m = a[i] as number;
  return m;
}

/** In place: zeros become the smallest non-zero value ("gaussian_importance_map cannot be 0 … nans"). */
function replaceZerosByMinNonzero(g: Float32Array): Float32Array {
  let min = Infinity;
  for (const v of g) if (v !== 0 && v < min) min = v;
  if (min === Infinity) fail('BAD_INPUT', 'gaussian importance map is all zeros');
  for (let i = 0; i < g.length; i++) if (g[i] === 0) g[i] = min;
  return g;
}

/**
 * nnU-Net v1 `_get_gaussian(patch, sigma_scale=1/8)`: σ = patch/8 per axis, max 1, float32, zeros (none in
 * practice: the tails stay normal float32) replaced by the minimum non-zero value.
 */
export function getGaussianV1(patchSizeZYX: Vec3, sigmaScale = 1 / 8): Float32Array {
  const g = gaussianFilterImpulse(patchSizeZYX, sigmaScale);
  const max = maxOf(g);
  const out = new Float32Array(g.length);
  for (let i = 0; i < g.length; i++) out[i] = ((g[i] as number) / max) * 1;
  return replaceZerosByMinNonzero(out);
}

/** Which copy of nnU-Net v2's `compute_gaussian` (they differ in where the cast to `dtype` happens). */
export type GaussianV2Variant = 'stunet' | 'upstream';

export interface GaussianV2Options {
  readonly variant: GaussianV2Variant;
  /** The predictors pass 1000 (STU-Net 2.2 copy) or 10 (upstream). */
  readonly valueScalingFactor: number;
  /** torch dtype of the map; the predictors use the default, float16. */
  readonly dtype: 'float16' | 'float32';
  readonly sigmaScale?: number;
}

/**
 * nnU-Net v2 `compute_gaussian`, max = valueScalingFactor. Values are returned in a Float32Array; for
 * dtype 'float16' each is an exact fp16 value.
 * - 'upstream' (MIC-DKFZ/nnUNet): normalises in float64, then casts.
 * - 'stunet' (STU-Net nnUNet-2.2): casts first, then normalises in `dtype`. In fp16 the far tails underflow
 *   to 0 before normalising and are all clamped to the minimum: a plateau over 36 % of a 16×32×64 tile.
 * torch casts float64 → half through float32 (c10::Half has a float constructor), hence `Math.fround` first.
 */
export function computeGaussianV2(patchSizeZYX: Vec3, opts: GaussianV2Options): Float32Array {
  const g = gaussianFilterImpulse(patchSizeZYX, opts.sigmaScale ?? 1 / 8);
  const vsf = opts.valueScalingFactor;
  if (!(vsf > 0)) fail('BAD_INPUT', `valueScalingFactor must be > 0, got ${vsf}`);
  const half = opts.dtype === 'float16';
  const cast = half ? (v: number) => roundToFloat16(Math.fround(v)) : Math.fround;
  const out = new Float32Array(g.length);
  if (opts.variant === 'upstream') {
    const divisor = maxOf(g) / vsf;
    for (let i = 0; i < g.length; i++) out[i] = cast((g[i] as number) / divisor);
  } else {
    for (let i = 0; i < g.length; i++) out[i] = cast(g[i] as number);
    const max = maxOf(out);
    const op = half ? halfFromFloat32Op : Math.fround;
    const vsf32 = Math.fround(vsf);
    for (let i = 0; i < out.length; i++) out[i] = op(op((out[i] as number) / max) * vsf32);
  }
  return replaceZerosByMinNonzero(out);
}
