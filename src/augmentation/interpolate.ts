/**
 * scipy.ndimage.map_coordinates on an affine grid, as batchgenerators' interpolate_img calls it with
 * mode 'constant': order 3 for images, order 1 on one-hot masks for label maps.
 *
 * Semantics of mode 'constant' (scipy ≥ 1.6), easy to get wrong:
 * - a point whose coordinate on any axis lies outside [0, n − 1] gets cval — no blending towards cval;
 * - inside, the spline is evaluated on coefficients prefiltered with MIRROR boundary conditions, and taps
 *   that fall outside the array are mirrored (−1 → 1, n → n − 2).
 */
import { splineWeights } from '../preprocessing/spline.js';
import type { Vec3 } from '../util/vec3.js';

export { cubicCoefficients } from './cubic-prefilter.js';

/** A row-major 3×3 matrix. */
export type Mat3 = readonly [number, number, number, number, number, number, number, number, number];

/**
 * Input coordinate of output voxel i: x_d = (Σ_e matrix[3d + e] · (i_e − center_e)) · scale + offset_d —
 * batchgenerators' order of operations (zero-centred mesh, rotate, scale, add the centre), so that
 * 90° rotations land exactly on the grid as they do there.
 */
export interface Affine3 {
  readonly center: Vec3;
  readonly matrix: Mat3;
  readonly scale: number;
  readonly offset: Vec3;
}

function mirrorIndex(i: number, n: number): number {
  if (n === 1) return 0;
  if (i < 0) return -i;
  if (i > n - 1) return 2 * (n - 1) - i;
  return i;
}

/** Writes taps (mirrored indices × stride) and weights for coordinate cc on an axis of length n. */
function taps(cc: number, n: number, order: 1 | 3, stride: number, idx: Int32Array, w: Float64Array): void {
  const start = Math.floor(cc) - (order >> 1);
  for (let h = 0; h <= order; h++) idx[h] = mirrorIndex(start + h, n) * stride;
  splineWeights(cc, order, w, 0);
}

/** Order-3 value at (x0, x1, x2) near a border (mirrored taps). */
function cubicAtBorder(coef: Float32Array, shape: Vec3, x0: number, x1: number, x2: number, t: Taps): number {
  const [n0, n1, n2] = shape;
  taps(x0, n0, 3, n1 * n2, t.i0, t.w0);
  taps(x1, n1, 3, n2, t.i1, t.w1);
  taps(x2, n2, 3, 1, t.i2, t.w2);
  let v = 0;
  for (let u = 0; u < 4; u++)
    for (let w = 0; w < 4; w++) {
      const r = (t.i0[u] as number) + (t.i1[w] as number);
      let line = 0;
      for (let x = 0; x < 4; x++) line += (coef[r + (t.i2[x] as number)] as number) * (t.w2[x] as number);
      v += (t.w0[u] as number) * (t.w1[w] as number) * line;
    }
  return v;
}

interface Taps {
  readonly i0: Int32Array;
  readonly i1: Int32Array;
  readonly i2: Int32Array;
  readonly w0: Float64Array;
  readonly w1: Float64Array;
  readonly w2: Float64Array;
}

function newTaps(k: number): Taps {
  return {
    i0: new Int32Array(k),
    i1: new Int32Array(k),
    i2: new Int32Array(k),
    w0: new Float64Array(k),
    w1: new Float64Array(k),
    w2: new Float64Array(k),
  };
}

/**
 * Order-3 map_coordinates of prefiltered coefficients `coef` (shape `inShape`) on the grid `affine` of
 * `outShape`, mode 'constant' with `cval`, written as float32 into `out` from `outOffset`. Interior
 * points take an unrolled path; the weights are scipy's (spline.ts splineWeights) written out.
 */
export function sampleCubic(
  coef: Float32Array,
  inShape: Vec3,
  affine: Affine3,
  outShape: Vec3,
  cval: number,
  out: Float32Array,
  outOffset: number,
): void {
  const [n0, n1, n2] = inShape;
  const [m0, m1, m2] = outShape;
  const [c0, c1, c2] = affine.center;
  const [o0, o1, o2] = affine.offset;
  const sc = affine.scale;
  const M = affine.matrix;
  const [a00, a01, a02, a10, a11, a12, a20, a21, a22] = M;
  const s0 = n1 * n2;
  const s1 = n2;
  const t = newTaps(4);
  let p = outOffset;
  for (let a = 0; a < m0; a++) {
    const va = a - c0;
    for (let b = 0; b < m1; b++) {
      const vb = b - c1;
      const r0 = va * a00 + vb * a01;
      const r1 = va * a10 + vb * a11;
      const r2 = va * a20 + vb * a21;
      for (let k = 0; k < m2; k++, p++) {
        const vk = k - c2;
        const x0 = (r0 + vk * a02) * sc + o0;
        const x1 = (r1 + vk * a12) * sc + o1;
        const x2 = (r2 + vk * a22) * sc + o2;
        if (x0 < 0 || x0 > n0 - 1 || x1 < 0 || x1 > n1 - 1 || x2 < 0 || x2 > n2 - 1) {
          out[p] = cval;
          continue;
        }
        if (x0 < 1 || x0 >= n0 - 2 || x1 < 1 || x1 >= n1 - 2 || x2 < 1 || x2 >= n2 - 2) {
          out[p] = cubicAtBorder(coef, inShape, x0, x1, x2, t);
          continue;
        }
        const f0 = Math.floor(x0);
        const f1 = Math.floor(x1);
        const f2 = Math.floor(x2);
        // weights of taps f−1 … f+2 (splineWeights, order 3)
        let x = x0 - f0;
        let z = 1 - x;
        const u1 = (x * x * (x - 2) * 3 + 4) / 6;
        const u2 = (z * z * (z - 2) * 3 + 4) / 6;
        const u0 = (z * z * z) / 6;
        const u3 = 1 - u0 - u1 - u2;
        x = x1 - f1;
        z = 1 - x;
        const v1 = (x * x * (x - 2) * 3 + 4) / 6;
        const v2 = (z * z * (z - 2) * 3 + 4) / 6;
        const v0 = (z * z * z) / 6;
        const v3 = 1 - v0 - v1 - v2;
        x = x2 - f2;
        z = 1 - x;
        const w1 = (x * x * (x - 2) * 3 + 4) / 6;
        const w2 = (z * z * (z - 2) * 3 + 4) / 6;
        const w0 = (z * z * z) / 6;
        const w3 = 1 - w0 - w1 - w2;
        let q = (f0 - 1) * s0 + (f1 - 1) * s1 + (f2 - 1);
        let acc = 0;
        for (let u = 0; u < 4; u++, q += s0) {
          const wu = u === 0 ? u0 : u === 1 ? u1 : u === 2 ? u2 : u3;
          const q0 = q;
          const q1 = q + s1;
          const q2 = q1 + s1;
          const q3 = q2 + s1;
          const l0 =
            (coef[q0] as number) * w0 +
            (coef[q0 + 1] as number) * w1 +
            (coef[q0 + 2] as number) * w2 +
            (coef[q0 + 3] as number) * w3;
          const l1 =
            (coef[q1] as number) * w0 +
            (coef[q1 + 1] as number) * w1 +
            (coef[q1 + 2] as number) * w2 +
            (coef[q1 + 3] as number) * w3;
          const l2 =
            (coef[q2] as number) * w0 +
            (coef[q2 + 1] as number) * w1 +
            (coef[q2 + 2] as number) * w2 +
            (coef[q2 + 3] as number) * w3;
          const l3 =
            (coef[q3] as number) * w0 +
            (coef[q3 + 1] as number) * w1 +
            (coef[q3 + 2] as number) * w2 +
            (coef[q3 + 3] as number) * w3;
          acc += wu * (v0 * l0 + v1 * l1 + v2 * l2 + v3 * l3);
        }
        out[p] = acc;
      }
    }
  }
}

/** Largest label whose tap weights sum to ≥ ½ (0 if none) — the per-label ≥ 0.5 loop in one pass. */
function vote(lab: Int32Array, wt: Float64Array): number {
  let best = 0;
  let found = false;
  for (let q1 = 0; q1 < 8; q1++) {
    const l = lab[q1] as number;
    if (found && l <= best) continue;
    let sum = 0;
    for (let q2 = 0; q2 < 8; q2++) if (lab[q2] === l) sum += wt[q2] as number;
    if (sum >= 0.5) {
      best = l;
      found = true;
    }
  }
  return found ? best : 0;
}

/** The general order-1 label vote at one point (mirrored taps, mixed labels). */
function labelsAtBorder(
  seg: Int16Array,
  shape: Vec3,
  x0: number,
  x1: number,
  x2: number,
  t: Taps,
  lab: Int32Array,
  wt: Float64Array,
): number {
  const [n0, n1, n2] = shape;
  taps(x0, n0, 1, n1 * n2, t.i0, t.w0);
  taps(x1, n1, 1, n2, t.i1, t.w1);
  taps(x2, n2, 1, 1, t.i2, t.w2);
  let q = 0;
  for (let u = 0; u < 2; u++)
    for (let v = 0; v < 2; v++) {
      const r = (t.i0[u] as number) + (t.i1[v] as number);
      const wuv = (t.w0[u] as number) * (t.w1[v] as number);
      for (let x = 0; x < 2; x++, q++) {
        lab[q] = seg[r + (t.i2[x] as number)] as number;
        wt[q] = wuv * (t.w2[x] as number);
      }
    }
  return vote(lab, wt);
}

/**
 * batchgenerators interpolate_img(is_seg=True, order=1, mode='constant'): for each label in ascending
 * order, the linearly interpolated one-hot mask ≥ 0.5 writes that label (later labels win); points no
 * label reaches, and points outside the input, stay 0. Never creates a label the input lacks (0 aside).
 * Done in one pass: a label's interpolated mask is the sum of the weights of the taps that carry it.
 */
export function sampleLabelsLinear(
  seg: Int16Array,
  inShape: Vec3,
  affine: Affine3,
  outShape: Vec3,
  out: Int16Array,
): void {
  const [n0, n1, n2] = inShape;
  const [m0, m1, m2] = outShape;
  const [c0, c1, c2] = affine.center;
  const [o0, o1, o2] = affine.offset;
  const sc = affine.scale;
  const [a00, a01, a02, a10, a11, a12, a20, a21, a22] = affine.matrix;
  const s0 = n1 * n2;
  const t = newTaps(2);
  const lab = new Int32Array(8);
  const wt = new Float64Array(8);
  let p = 0;
  for (let a = 0; a < m0; a++) {
    const va = a - c0;
    for (let b = 0; b < m1; b++) {
      const vb = b - c1;
      const r0 = va * a00 + vb * a01;
      const r1 = va * a10 + vb * a11;
      const r2 = va * a20 + vb * a21;
      for (let k = 0; k < m2; k++, p++) {
        const vk = k - c2;
        const x0 = (r0 + vk * a02) * sc + o0;
        const x1 = (r1 + vk * a12) * sc + o1;
        const x2 = (r2 + vk * a22) * sc + o2;
        if (x0 < 0 || x0 > n0 - 1 || x1 < 0 || x1 > n1 - 1 || x2 < 0 || x2 > n2 - 1) {
          out[p] = 0;
          continue;
        }
        if (x0 >= n0 - 1 || x1 >= n1 - 1 || x2 >= n2 - 1) {
          // on the last grid plane: the second tap is mirrored (weight 0)
          out[p] = labelsAtBorder(seg, inShape, x0, x1, x2, t, lab, wt);
          continue;
        }
        const f0 = Math.floor(x0);
        const f1 = Math.floor(x1);
        const f2 = Math.floor(x2);
        const q = f0 * s0 + f1 * n2 + f2;
        const l0 = seg[q] as number;
        if (
          seg[q + 1] === l0 &&
          seg[q + n2] === l0 &&
          seg[q + n2 + 1] === l0 &&
          seg[q + s0] === l0 &&
          seg[q + s0 + 1] === l0 &&
          seg[q + s0 + n2] === l0 &&
          seg[q + s0 + n2 + 1] === l0
        ) {
          out[p] = l0;
          continue;
        }
        out[p] = labelsAtBorder(seg, inShape, x0, x1, x2, t, lab, wt);
      }
    }
  }
}
