import type { Vec3 } from '../util/vec3.js';
/**
 * scipy.ndimage spline_filter(order=3, mode='mirror') of a 3-D volume — what map_coordinates(order=3,
 * mode='constant') prefilters with (ni_splines.c `_init_causal_mirror` / `_init_anticausal_mirror`).
 */

// sqrt(3) − 2, the cubic B-spline pole (same double as ni_splines.c).
const Z3 = -0.2679491924311227;
// |z|^30 < 1e-17: the mirror initialisation sum is cut there (scipy sums the whole line; the rest adds
// less than float64's resolution).
const INIT_TERMS = 30;

/**
 * In-place cubic B-spline prefilter along the middle axis of an (outer, n, inner) C-order block, with
 * scipy's mirror initial conditions; the gain is folded into the causal pass and, for inner > 1, the
 * recursion runs over all `inner` columns at once (contiguous rows).
 */
function prefilterMirrorAxis(c: Float32Array, outer: number, n: number, inner: number): void {
  if (n < 2) return;
  const z = Z3;
  const gain = (1 - z) * (1 - 1 / z);
  const zn1 = Math.pow(z, n - 1);
  const norm = gain / (1 - zn1 * zn1);
  const f = z / (z * z - 1);
  const terms = Math.min(n - 1, INIT_TERMS);
  const acc = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    const base = o * n * inner;
    const last = base + (n - 1) * inner;
    // causal init: (c[0] + z^(n−1) c[n−1] + Σ_{i≥1} z^i (c[i] + z^(n−1) c[n−1−i])) / (1 − z^(2n−2)), times gain
    for (let k = 0; k < inner; k++) acc[k] = (c[base + k] as number) + zn1 * (c[last + k] as number);
    let zi = z;
    for (let i = 1; i < terms; i++) {
      const r = base + i * inner;
      const rm = base + (n - 1 - i) * inner;
      for (let k = 0; k < inner; k++)
        acc[k] = (acc[k] as number) + zi * ((c[r + k] as number) + zn1 * (c[rm + k] as number));
      zi *= z;
    }
    for (let k = 0; k < inner; k++) c[base + k] = (acc[k] as number) * norm;
    for (let i = 1; i < n; i++) {
      const r = base + i * inner;
      for (let k = 0; k < inner; k++)
        c[r + k] = gain * (c[r + k] as number) + z * (c[r - inner + k] as number);
    }
    // anticausal init: c[n−1] = (z c[n−2] + c[n−1]) · z / (z² − 1)
    const prev = last - inner;
    for (let k = 0; k < inner; k++) c[last + k] = (z * (c[prev + k] as number) + (c[last + k] as number)) * f;
    for (let i = n - 2; i >= 0; i--) {
      const r = base + i * inner;
      for (let k = 0; k < inner; k++) c[r + k] = z * ((c[r + inner + k] as number) - (c[r + k] as number));
    }
  }
}

/** The same along the last axis: one contiguous line per (z, y), with a float64 line buffer. */
function prefilterMirrorLines(c: Float32Array, lines: number, n: number): void {
  if (n < 2) return;
  const z = Z3;
  const gain = (1 - z) * (1 - 1 / z);
  const zn1 = Math.pow(z, n - 1);
  const norm = gain / (1 - zn1 * zn1);
  const f = z / (z * z - 1);
  const terms = Math.min(n - 1, INIT_TERMS);
  const line = new Float64Array(n);
  for (let l = 0; l < lines; l++) {
    const base = l * n;
    for (let i = 0; i < n; i++) line[i] = c[base + i] as number;
    let acc = (line[0] as number) + zn1 * (line[n - 1] as number);
    let zi = z;
    for (let i = 1; i < terms; i++) {
      acc += zi * ((line[i] as number) + zn1 * (line[n - 1 - i] as number));
      zi *= z;
    }
    line[0] = acc * norm;
    for (let i = 1; i < n; i++) line[i] = gain * (line[i] as number) + z * (line[i - 1] as number);
    line[n - 1] = (z * (line[n - 2] as number) + (line[n - 1] as number)) * f;
    for (let i = n - 2; i >= 0; i--) line[i] = z * ((line[i + 1] as number) - (line[i] as number));
    for (let i = 0; i < n; i++) c[base + i] = line[i] as number;
  }
}

/**
 * Cubic spline coefficients of one (Z, Y, X) volume (scipy spline_filter, mode 'mirror'). Stored as
 * float32 (the images are float32; halving the memory the sampler reads matters more than the last
 * digits, which are below the data's own precision).
 */
export function cubicCoefficients(src: ArrayLike<number>, shape: Vec3): Float32Array {
  const [n0, n1, n2] = shape;
  const c = new Float32Array(n0 * n1 * n2);
  c.set(src);
  prefilterMirrorAxis(c, 1, n0, n1 * n2);
  prefilterMirrorAxis(c, n0, n1, n2);
  prefilterMirrorLines(c, n0 * n1, n2);
  return c;
}
