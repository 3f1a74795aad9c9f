/**
 * skimage 0.19 `resize(image, shape, order, mode='edge', anti_aliasing=False)` (clip=True) and
 * batchgenerators 0.25 `resize_segmentation`, for 2-D/3-D arrays — the two resize functions nnU-Net v1
 * `resample_data_or_seg` calls. 2-D arrays are passed as 3-D with a leading axis of length 1.
 */
import { fail } from '../util/errors.js';
import { axisTaps, zoomAxis, type SplineOrder } from './spline.js';
import type { Vec3 } from '../util/vec3.js';

function checkOrder(order: number): SplineOrder {
  if (order !== 0 && order !== 1 && order !== 2 && order !== 3) {
    fail('UNSUPPORTED', `resize: spline order ${order} is not supported (use 0–3)`);
  }
  return order;
}

/**
 * skimage `resize(..., mode='edge', anti_aliasing=False, clip=True)` of a (d0, d1, d2) array, in float64.
 * Axes whose length does not change are skipped (scipy's pass is the identity there, up to rounding).
 * The result is clipped to [min, max] of the input, as skimage does.
 */
export function resizeImage(src: ArrayLike<number>, dims: Vec3, newDims: Vec3, order: number): Float64Array {
  const ord = checkOrder(order);
  let cur: Float64Array = Float64Array.from(src);
  // skimage clips to the input range (nanmin/nanmax when NaNs are present; NaN outputs stay NaN).
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < cur.length; i++) {
    const v = cur[i] as number;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const curDims: [number, number, number] = [dims[0], dims[1], dims[2]];
  for (const axis of [2, 1, 0] as const) {
    if (curDims[axis] === newDims[axis]) continue;
    cur = zoomAxis(cur, curDims, axis, newDims[axis], ord);
    curDims[axis] = newDims[axis];
  }
  for (let i = 0; i < cur.length; i++) {
    const v = cur[i] as number;
    if (v < lo) cur[i] = lo;
    else if (v > hi) cur[i] = hi;
  }
  return cur;
}

/** Sorted distinct values (np.unique). */
export function uniqueSorted(values: ArrayLike<number>): number[] {
  const seen = new Set<number>();
  for (let i = 0; i < values.length; i++) seen.add(values[i] as number);
  return [...seen].sort((a, b) => a - b);
}

/**
 * batchgenerators `resize_segmentation(seg, new_shape, order)`: for each label in ascending order, resize
 * its one-hot mask and write the label where the result is ≥ 0.5 (later labels win; voxels no label
 * reaches stay 0 — it is not an argmax). Order 1 reproduces scipy's exact summation order, so ties at
 * exactly 0.5 resolve as in the official code; order 0 is nearest-neighbour.
 */
export function resizeSegmentation(seg: Int16Array, dims: Vec3, newDims: Vec3, order: number): Int16Array {
  const ord = checkOrder(order);
  if (ord === 0) return Int16Array.from(resizeImage(seg, dims, newDims, 0));
  const labels = uniqueSorted(seg);
  if (ord === 1) return zoomLinearLabels(seg, dims, newDims, labels);
  const out = new Int16Array(newDims[0] * newDims[1] * newDims[2]);
  for (const label of labels) {
    const mask = new Float64Array(seg.length);
    for (let i = 0; i < seg.length; i++) mask[i] = seg[i] === label ? 1 : 0;
    const r = resizeImage(mask, dims, newDims, ord);
    for (let i = 0; i < r.length; i++) if ((r[i] as number) >= 0.5) out[i] = label;
  }
  return out;
}

/**
 * Order-1 `ndi.zoom(onehot, grid_mode=True, mode='nearest')` per label, ≥ 0.5 → label, summing the eight
 * taps in scipy's order (C order over taps, coeff·w0·w1·w2). Where all eight taps carry one label its
 * sum is ≈ 1 and every other label's is 0, so that label is written directly.
 */
function zoomLinearLabels(seg: Int16Array, dims: Vec3, newDims: Vec3, labels: readonly number[]): Int16Array {
  const [n0, n1, n2] = dims;
  const [m0, m1, m2] = newDims;
  const t0 = axisTaps(n0, m0, 1, 0);
  const t1 = axisTaps(n1, m1, 1, 0);
  const t2 = axisTaps(n2, m2, 1, 0);
  const out = new Int16Array(m0 * m1 * m2);
  const s1 = n2;
  const s0 = n1 * n2;
  const v = new Int32Array(8);
  const w = new Float64Array(8);
  let o = 0;
  for (let k0 = 0; k0 < m0; k0++) {
    const a0 = (t0.index[2 * k0] as number) * s0;
    const b0 = (t0.index[2 * k0 + 1] as number) * s0;
    const wa0 = t0.weight[2 * k0] as number;
    const wb0 = t0.weight[2 * k0 + 1] as number;
    for (let k1 = 0; k1 < m1; k1++) {
      const a1 = (t1.index[2 * k1] as number) * s1;
      const b1 = (t1.index[2 * k1 + 1] as number) * s1;
      const wa1 = t1.weight[2 * k1] as number;
      const wb1 = t1.weight[2 * k1 + 1] as number;
      for (let k2 = 0; k2 < m2; k2++, o++) {
        const a2 = t2.index[2 * k2] as number;
        const b2 = t2.index[2 * k2 + 1] as number;
        const wa2 = t2.weight[2 * k2] as number;
        const wb2 = t2.weight[2 * k2 + 1] as number;
        v[0] = seg[a0 + a1 + a2] as number;
        v[1] = seg[a0 + a1 + b2] as number;
        v[2] = seg[a0 + b1 + a2] as number;
        v[3] = seg[a0 + b1 + b2] as number;
        v[4] = seg[b0 + a1 + a2] as number;
        v[5] = seg[b0 + a1 + b2] as number;
        v[6] = seg[b0 + b1 + a2] as number;
        v[7] = seg[b0 + b1 + b2] as number;
        const first = v[0];
        let uniform = true;
        for (let h = 1; h < 8; h++) if (v[h] !== first) uniform = false;
        if (uniform) {
          out[o] = first;
          continue;
        }
        // Same association as scipy: ((coeff · w0) · w1) · w2, coeff ∈ {0, 1}.
        w[0] = wa0 * wa1 * wa2;
        w[1] = wa0 * wa1 * wb2;
        w[2] = wa0 * wb1 * wa2;
        w[3] = wa0 * wb1 * wb2;
        w[4] = wb0 * wa1 * wa2;
        w[5] = wb0 * wa1 * wb2;
        w[6] = wb0 * wb1 * wa2;
        w[7] = wb0 * wb1 * wb2;
        let result = 0;
        for (const label of labels) {
          let t = 0;
          for (let h = 0; h < 8; h++) if (v[h] === label) t += w[h] as number;
          if (t >= 0.5) result = label;
        }
        out[o] = result;
      }
    }
  }
  return out;
}
