/**
 * 1-D B-spline pieces of scipy.ndimage 1.10 (ni_splines.c, NI_ZoomShift in ni_interpolation.c), as used by
 * skimage `resize` → `ndi.zoom(..., mode='nearest', grid_mode=True)`. Separable: `zoomAxis` does one axis.
 *
 * Semantics reproduced (easy to get wrong):
 * - grid_mode coordinate: output k reads input (k + 0.5)·(n_in/n_out) − 0.5, evaluated in that float order;
 * - order ≥ 2 prefilters a copy padded by 12 edge values (`_prepad_for_spline_filter`), with the
 *   "reflect" initial conditions scipy uses for mode 'nearest';
 * - mode 'nearest' does NOT clamp the coordinate, only the tap indices (clamped into the padded line).
 */

export type SplineOrder = 0 | 1 | 2 | 3;

/** Edge padding scipy adds before prefiltering for mode 'nearest'. */
export const NEAREST_PREPAD = 12;

// sqrt(8) − 3 and sqrt(3) − 2: the doubles of ni_splines.c's 36-digit literals (not Math.sqrt(8) − 3,
// which differs in the last bit).
const POLE: Record<2 | 3, number> = {
  2: -0.1715728752538099,
  3: -0.2679491924311227,
};

/** scipy `get_spline_interpolation_weights` for orders 0–3: writes order+1 weights at `out[offset…]`. */
export function splineWeights(cc: number, order: SplineOrder, out: Float64Array, offset: number): void {
  const x = cc - Math.floor(order & 1 ? cc : cc + 0.5);
  switch (order) {
    case 0:
      break;
    case 1:
      out[offset] = 1.0 - x;
      break;
    case 2: {
      out[offset + 1] = 0.75 - x * x;
      const y = 0.5 - x;
      out[offset] = 0.5 * y * y;
      break;
    }
    case 3: {
      const z = 1.0 - x;
      out[offset + 1] = (x * x * (x - 2.0) * 3.0 + 4.0) / 6.0;
      out[offset + 2] = (z * z * (z - 2.0) * 3.0 + 4.0) / 6.0;
      out[offset] = (z * z * z) / 6.0;
      break;
    }
  }
  // All weights add to 1; scipy derives the last one from the others.
  let last = 1.0;
  for (let i = 0; i < order; i++) last -= out[offset + i] as number;
  out[offset + order] = last;
}

/** First tap of the order+1 taps around coordinate cc (scipy: odd orders floor, even orders round). */
export function splineStart(cc: number, order: SplineOrder): number {
  return (order & 1 ? Math.floor(cc) : Math.floor(cc + 0.5)) - (order >> 1);
}

/**
 * In-place B-spline prefilter of c[0..n) with scipy's mode-'nearest'/'reflect' boundary (ni_splines.c
 * `apply_filter` with `_init_causal_reflect` / `_init_anticausal_reflect`). No-op for order < 2.
 */
export function splinePrefilter(c: Float64Array, n: number, order: SplineOrder): void {
  if (order < 2 || n < 2) return;
  const z = POLE[order === 2 ? 2 : 3];
  const gain = (1.0 - z) * (1.0 - 1.0 / z);
  for (let i = 0; i < n; i++) c[i] = (c[i] as number) * gain;
  // causal init, reflect (half-sample symmetric) extension
  const zn = Math.pow(z, n);
  const c0 = c[0] as number;
  let acc = c0 + zn * (c[n - 1] as number);
  let zi = z;
  for (let i = 1; i < n; i++) {
    acc += zi * ((c[i] as number) + zn * (c[n - 1 - i] as number));
    zi *= z;
  }
  acc *= z / (1 - zn * zn);
  c[0] = acc + c0;
  for (let i = 1; i < n; i++) c[i] = (c[i] as number) + z * (c[i - 1] as number);
  c[n - 1] = (c[n - 1] as number) * (z / (z - 1));
  for (let i = n - 2; i >= 0; i--) c[i] = z * ((c[i + 1] as number) - (c[i] as number));
}

/** Per-output-index taps of one zoomed axis: first tap (already clamped per tap below) and weights. */
export interface AxisTaps {
  readonly order: SplineOrder;
  /** Output length. */
  readonly m: number;
  /** Length of the line the taps index (input length + 2·pad). */
  readonly len: number;
  /** m·(order+1) tap indices, clamped into [0, len) (mode 'nearest'). */
  readonly index: Int32Array;
  /** m·(order+1) weights. */
  readonly weight: Float64Array;
}

/** Taps of `ndi.zoom(grid_mode=True)` along one axis of length n → m, on a line pre-padded by `pad`. */
export function axisTaps(n: number, m: number, order: SplineOrder, pad: number): AxisTaps {
  const k1 = order + 1;
  const len = n + 2 * pad;
  const zoom = n / m;
  const index = new Int32Array(m * k1);
  const weight = new Float64Array(m * k1);
  for (let k = 0; k < m; k++) {
    let cc = k;
    cc += 0.5;
    cc *= zoom;
    cc -= 0.5;
    cc += pad;
    const start = splineStart(cc, order);
    for (let h = 0; h < k1; h++) {
      const idx = start + h;
      index[k * k1 + h] = idx < 0 ? 0 : idx > len - 1 ? len - 1 : idx;
    }
    splineWeights(cc, order, weight, k * k1);
  }
  return { order, m, len, index, weight };
}

/** Columns processed together when the axis is not the last one (keeps the work buffer in cache). */
const BLOCK = 64;

/**
 * Zooms one axis of a C-order 3-D array `src` (dims d0×d1×d2) from n = dims[axis] to m samples, writing
 * a new Float64Array. Lines along the axis are copied, `bw` at a time, into a (n + 2·pad) × bw work buffer
 * (edge-padded and prefiltered for order ≥ 2), then the taps are applied. Equal to scipy's N-D zoom up to
 * rounding, because edge padding, the 1-D prefilters and the tensor-product interpolation along
 * different axes all commute.
 */
export function zoomAxis(
  src: Float64Array,
  dims: readonly [number, number, number],
  axis: 0 | 1 | 2,
  m: number,
  order: SplineOrder,
): Float64Array {
  const n = dims[axis];
  const pad = order >= 2 ? NEAREST_PREPAD : 0;
  const taps = axisTaps(n, m, order, pad);
  const len = taps.len;
  const k1 = order + 1;
  const inner = axis === 2 ? 1 : axis === 1 ? dims[2] : dims[1] * dims[2];
  const outer = axis === 0 ? 1 : axis === 1 ? dims[0] : dims[0] * dims[1];
  const out = new Float64Array(outer * m * inner);
  const maxBw = Math.min(BLOCK, inner);
  const buf = new Float64Array(len * maxBw);
  const { index, weight } = taps;
  for (let o = 0; o < outer; o++) {
    const srcBase = o * n * inner;
    const dstBase = o * m * inner;
    for (let i0 = 0; i0 < inner; i0 += maxBw) {
      const bw = Math.min(maxBw, inner - i0);
      // buf row r (0 ≤ r < len) holds sample r − pad of columns i0 … i0 + bw − 1.
      for (let j = 0; j < n; j++) {
        const s = srcBase + j * inner + i0;
        const d = (pad + j) * bw;
        for (let c = 0; c < bw; c++) buf[d + c] = src[s + c] as number;
      }
      for (let j = 0; j < pad; j++) {
        buf.copyWithin(j * bw, pad * bw, (pad + 1) * bw);
        buf.copyWithin((pad + n + j) * bw, (pad + n - 1) * bw, (pad + n) * bw);
      }
      if (order >= 2) prefilterColumns(buf, len, bw, order);
      for (let k = 0; k < m; k++) {
        const d = dstBase + k * inner + i0;
        const b = k * k1;
        if (k1 === 4) {
          // Taps summed left to right, as scipy does.
          const r0 = (index[b] as number) * bw;
          const r1 = (index[b + 1] as number) * bw;
          const r2 = (index[b + 2] as number) * bw;
          const r3 = (index[b + 3] as number) * bw;
          const w0 = weight[b] as number;
          const w1 = weight[b + 1] as number;
          const w2 = weight[b + 2] as number;
          const w3 = weight[b + 3] as number;
          for (let c = 0; c < bw; c++) {
            out[d + c] =
              (buf[r0 + c] as number) * w0 +
              (buf[r1 + c] as number) * w1 +
              (buf[r2 + c] as number) * w2 +
              (buf[r3 + c] as number) * w3;
          }
          continue;
        }
        for (let c = 0; c < bw; c++) out[d + c] = 0;
        for (let h = 0; h < k1; h++) {
          const row = (index[b + h] as number) * bw;
          const w = weight[b + h] as number;
          for (let c = 0; c < bw; c++) out[d + c] = (out[d + c] as number) + (buf[row + c] as number) * w;
        }
      }
    }
  }
  return out;
}

/** `splinePrefilter` applied to each of the bw interleaved columns of a len × bw buffer. */
function prefilterColumns(buf: Float64Array, len: number, bw: number, order: SplineOrder): void {
  if (bw === 1) {
    splinePrefilter(buf, len, order);
    return;
  }
  const z = POLE[order === 2 ? 2 : 3];
  const gain = (1.0 - z) * (1.0 - 1.0 / z);
  const total = len * bw;
  for (let i = 0; i < total; i++) buf[i] = (buf[i] as number) * gain;
  const zn = Math.pow(z, len);
  const last = (len - 1) * bw;
  const acc = new Float64Array(bw);
  for (let c = 0; c < bw; c++) acc[c] = (buf[c] as number) + zn * (buf[last + c] as number);
  let zi = z;
  for (let i = 1; i < len; i++) {
    const r = i * bw;
    const rm = (len - 1 - i) * bw;
    for (let c = 0; c < bw; c++)
      acc[c] = (acc[c] as number) + zi * ((buf[r + c] as number) + zn * (buf[rm + c] as number));
    zi *= z;
  }
  const scale = z / (1 - zn * zn);
  for (let c = 0; c < bw; c++) buf[c] = (acc[c] as number) * scale + (buf[c] as number);
  for (let i = 1; i < len; i++) {
    const r = i * bw;
    for (let c = 0; c < bw; c++) buf[r + c] = (buf[r + c] as number) + z * (buf[r - bw + c] as number);
  }
  const endScale = z / (z - 1);
  for (let c = 0; c < bw; c++) buf[last + c] = (buf[last + c] as number) * endScale;
  for (let i = len - 2; i >= 0; i--) {
    const r = i * bw;
    for (let c = 0; c < bw; c++) buf[r + c] = z * ((buf[r + bw + c] as number) - (buf[r + c] as number));
  }
}
