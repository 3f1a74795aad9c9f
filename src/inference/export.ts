/**
 * Export of a prediction, streamed: class probabilities (or v2 logits) on the network's grid, arriving as
 * z-slabs from `slidingWindowPredict`, are resampled back to the cropped original grid plane by plane and
 * handed on (argmax, probability writer) at once. Ports what nnU-Net v1 `save_segmentation_nifti_from_softmax`
 * does with the whole (K, Z', Y', X') softmax: `resample_data_or_seg(is_seg=False, order=1, order_z=0)` with
 * separate z decided from original_spacing, then spacing_after_resampling (> 3× anisotropy, one low-res axis).
 *
 * Order-1 resize (skimage, mode 'edge', no anti-aliasing) and the separate-z path (2-D order-1 per slice of
 * the low-res axis, nearest along it) are both separable per axis, so the result equals the whole-volume
 * resize up to float rounding: x then y inside a plane, then z between the two input planes it reads.
 *
 * Memory (K classes, output plane Yc × Xc, input plane Y' × X'): at most 3 in-plane-resampled input planes
 * (3 · K · Yc · Xc float32) plus one output plane (K · Yc · Xc) and two Y'/Yc × Xc float64 scratch rows.
 * Independent of the depth of either grid.
 */
import { fail } from '../util/errors.js';
import type { Slab } from './stitcher.js';
import type { Vec3 } from '../util/vec3.js';

/** Per axis: 'linear' (order 1) or 'nearest' (order 0, the low-res axis of the separate-z path). */
export type AxisKind = 'linear' | 'nearest';

/** Two taps per output index; i0 = i1 and w1 = 0 for 'nearest' and for an axis that keeps its length. */
export interface AxisTaps {
  readonly i0: Int32Array;
  readonly i1: Int32Array;
  readonly w0: Float64Array;
  readonly w1: Float64Array;
  readonly identity: boolean;
}

/** Output index k's taps (per plane, not per voxel: the voxel loops index the arrays directly). */
function tapAt(t: AxisTaps, k: number): { i0: number; i1: number; w0: number; w1: number } {
  const [i0, i1, w0, w1] = [t.i0[k], t.i1[k], t.w0[k], t.w1[k]];
  if (i0 === undefined || i1 === undefined || w0 === undefined || w1 === undefined)
    fail('RUNTIME', `resample back: output index ${k} is outside the ${t.i0.length} taps`);
  return { i0, i1, w0, w1 };
}

/**
 * scipy zoom (grid_mode, mode 'nearest') taps: output k reads input (k + 0.5)·(n/m) − 0.5, tap indices
 * clamped into [0, n). Nearest rounds half up (floor(c + 0.5)), as preprocessing's resampleAlongAxis.
 */
export function axisTaps(n: number, m: number, kind: AxisKind): AxisTaps {
  const i0 = new Int32Array(m);
  const i1 = new Int32Array(m);
  const w0 = new Float64Array(m);
  const w1 = new Float64Array(m);
  const identity = n === m;
  const clamp = (i: number): number => (i < 0 ? 0 : i > n - 1 ? n - 1 : i);
  const scale = n / m;
  for (let k = 0; k < m; k++) {
    if (identity) {
      i0[k] = k;
      i1[k] = k;
      w0[k] = 1;
      continue;
    }
    const cc = (k + 0.5) * scale - 0.5;
    if (kind === 'nearest') {
      const i = clamp(Math.floor(cc + 0.5));
      i0[k] = i;
      i1[k] = i;
      w0[k] = 1;
    } else {
      const f = Math.floor(cc);
      i0[k] = clamp(f);
      i1[k] = clamp(f + 1);
      w1[k] = cc - f;
      w0[k] = 1 - (cc - f);
    }
  }
  return { i0, i1, w0, w1, identity };
}

/**
 * Per-axis kinds of the v1 export resample. `lowResAxis` is null without separate z (order 1 on all axes);
 * otherwise that axis is nearest (order_z = 0) and the others order 1.
 */
export function exportAxisKinds(lowResAxis: number | null): [AxisKind, AxisKind, AxisKind] {
  const k = (a: number): AxisKind => (a === lowResAxis ? 'nearest' : 'linear');
  return [k(0), k(1), k(2)];
}

/** Consumer of resampled planes: z on the output grid, values (K, Yc, Xc). */
export type PlaneSink = (z: number, values: Float32Array) => void | Promise<void>;

/**
 * Takes slabs of (K, dz, Y', X') in z order (exactly what slidingWindowPredict emits) and calls `sink`
 * for output planes 0…Zc−1 in order, each as soon as the input planes it needs have arrived.
 */
export class StreamingResampler {
  private readonly taps: [AxisTaps, AxisTaps, AxisTaps];
  private readonly cache = new Map<number, Float32Array>(); // input z → (K, Yc, Xc)
  private readonly needed: Uint8Array;
  private readonly rowX: Float64Array;
  private readonly plane: Float32Array;
  private nextOut = 0;
  private received = 0;

  constructor(
    readonly classes: number,
    readonly inShapeZYX: Vec3,
    readonly outShapeZYX: Vec3,
    kinds: readonly [AxisKind, AxisKind, AxisKind],
    private readonly sink: PlaneSink,
  ) {
    if ([...inShapeZYX, ...outShapeZYX, classes].some((v) => !Number.isInteger(v) || v < 1))
      fail('BAD_INPUT', 'resample back: shapes and class count must be positive integers');
    this.taps = [
      axisTaps(inShapeZYX[0], outShapeZYX[0], kinds[0]),
      axisTaps(inShapeZYX[1], outShapeZYX[1], kinds[1]),
      axisTaps(inShapeZYX[2], outShapeZYX[2], kinds[2]),
    ];
    this.needed = new Uint8Array(inShapeZYX[0]);
    const tz = this.taps[0];
    for (let k = 0; k < outShapeZYX[0]; k++) {
      const { i0, i1, w1 } = tapAt(tz, k);
      this.needed[i0] = 1;
      if (w1 !== 0) this.needed[i1] = 1;
    }
    this.rowX = new Float64Array(inShapeZYX[1] * outShapeZYX[2]);
    this.plane = new Float32Array(classes * outShapeZYX[1] * outShapeZYX[2]);
  }

  /** Feeds the next slab; it must start where the previous one ended. */
  async push(slab: Slab): Promise<void> {
    const [Zi, Yi, Xi] = this.inShapeZYX;
    if (slab.zStart !== this.received || slab.zEnd > Zi || slab.zEnd <= slab.zStart)
      fail(
        'RUNTIME',
        `resample back: slab ${slab.zStart}…${slab.zEnd} out of order (expected ${this.received})`,
      );
    if (slab.classes !== this.classes)
      fail('SHAPE_MISMATCH', `resample back: slab has ${slab.classes} classes, expected ${this.classes}`);
    const dz = slab.zEnd - slab.zStart;
    if (slab.values.length !== this.classes * dz * Yi * Xi)
      fail('SHAPE_MISMATCH', 'resample back: slab size does not match its shape');
    for (let z = slab.zStart; z < slab.zEnd; z++) {
      if (this.needed[z] === 0) continue;
      this.cache.set(z, this.resamplePlane(slab.values, dz, z - slab.zStart));
    }
    this.received = slab.zEnd;
    await this.emitReady();
  }

  /** Checks that every output plane went out. */
  finish(): void {
    if (this.nextOut !== this.outShapeZYX[0])
      fail('RUNTIME', `resample back: ${this.nextOut} of ${this.outShapeZYX[0]} planes produced`);
  }

  private async emitReady(): Promise<void> {
    const tz = this.taps[0];
    const n = this.plane.length;
    while (this.nextOut < this.outShapeZYX[0]) {
      const k = this.nextOut;
      const { i0: a, i1: b, w0, w1 } = tapAt(tz, k);
      if (Math.max(a, w1 === 0 ? a : b) >= this.received) return;
      const pa = this.cache.get(a);
      const pb = w1 === 0 ? pa : this.cache.get(b);
      if (pa === undefined || pb === undefined) fail('RUNTIME', `resample back: plane ${a}/${b} missing`);
      if (w1 === 0) this.plane.set(pa);
      else {
        for (let i = 0; i < n; i++) this.plane[i] = (pa[i] as number) * w0 + (pb[i] as number) * w1;
      }
      await this.sink(k, this.plane);
      this.nextOut = k + 1;
      // Input planes below the next output's first tap are no longer read (taps are monotone).
      const low = k + 1 < this.outShapeZYX[0] ? tapAt(tz, k + 1).i0 : Infinity;
      for (const z of [...this.cache.keys()]) if (z < low) this.cache.delete(z);
    }
  }

  /** Input plane `zi` of a (K, dz, Y', X') slab resized in-plane to (K, Yc, Xc): x first, then y. */
  private resamplePlane(values: Float32Array, dz: number, zi: number): Float32Array {
    const [, Yi, Xi] = this.inShapeZYX;
    const [, Yo, Xo] = this.outShapeZYX;
    const [, ty, tx] = this.taps;
    const out = new Float32Array(this.classes * Yo * Xo);
    const row = this.rowX;
    for (let c = 0; c < this.classes; c++) {
      const src = (c * dz + zi) * Yi * Xi;
      for (let y = 0; y < Yi; y++) {
        const s = src + y * Xi;
        const r = y * Xo;
        for (let x = 0; x < Xo; x++) {
          const w1 = tx.w1[x] as number;
          const v0 = values[s + (tx.i0[x] as number)] as number;
          row[r + x] =
            w1 === 0 ? v0 : v0 * (tx.w0[x] as number) + (values[s + (tx.i1[x] as number)] as number) * w1;
        }
      }
      const dst = c * Yo * Xo;
      for (let y = 0; y < Yo; y++) {
        const a = (ty.i0[y] as number) * Xo;
        const b = (ty.i1[y] as number) * Xo;
        const w0 = ty.w0[y] as number;
        const w1 = ty.w1[y] as number;
        const o = dst + y * Xo;
        if (w1 === 0) for (let x = 0; x < Xo; x++) out[o + x] = row[a + x] as number;
        else
          for (let x = 0; x < Xo; x++) out[o + x] = (row[a + x] as number) * w0 + (row[b + x] as number) * w1;
      }
    }
    return out;
  }
}

/** Argmax over K of one (K, P) plane into `out` at `offset`; the first class wins ties (numpy). */
export function argmaxPlane(
  values: Float32Array,
  classes: number,
  out: Uint8Array | Uint16Array,
  offset: number,
): void {
  const P = values.length / classes;
  for (let p = 0; p < P; p++) {
    let best = 0;
    let bestValue = values[p] as number;
    for (let k = 1; k < classes; k++) {
      const v = values[k * P + p] as number;
      if (v > bestValue) {
        bestValue = v;
        best = k;
      }
    }
    out[offset + p] = best;
  }
}

/** Softmax over K of one (K, P) plane, in place (v2 logits → probabilities after resampling). */
export function softmaxPlaneInPlace(values: Float32Array, classes: number): void {
  const P = values.length / classes;
  for (let p = 0; p < P; p++) {
    let max = -Infinity;
    for (let k = 0; k < classes; k++) max = Math.max(max, values[k * P + p] as number);
    let sum = 0;
    for (let k = 0; k < classes; k++) {
      const e = Math.exp((values[k * P + p] as number) - max);
      values[k * P + p] = e;
      sum += e;
    }
    for (let k = 0; k < classes; k++) values[k * P + p] = (values[k * P + p] as number) / sum;
  }
}
