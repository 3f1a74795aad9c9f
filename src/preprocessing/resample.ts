/**
 * Ports nnU-Net v1.7.1 preprocessing.py `resample_patient`, `resample_data_or_seg`, `get_do_separate_z`
 * and `get_lowres_axis` (STU-Net nnUNet-1.7.1). Arrays are (C, Z, Y, X), spacings (Z, Y, X) in mm.
 */
import { fail } from '../util/errors.js';
import type { Volume } from '../io/volume.js';
import { resizeImage, resizeSegmentation } from './resize.js';
import type { Vec3 } from '../util/vec3.js';
import { roundHalfEven } from '../util/rounding.js';

/** nnU-Net's RESAMPLING_SEPARATE_Z_ANISO_THRESHOLD. */
export const SEPARATE_Z_ANISOTROPY_THRESHOLD = 3;

/** `np.round((original_spacing / target_spacing) * shape).astype(int)`, in that float order. */
export function computeNewShape(
  shapeZYX: Vec3,
  originalSpacing: Vec3,
  targetSpacing: Vec3,
): [number, number, number] {
  const r = (i: 0 | 1 | 2): number => roundHalfEven((originalSpacing[i] / targetSpacing[i]) * shapeZYX[i]);
  return [r(0), r(1), r(2)];
}

/** `get_do_separate_z`: max(spacing) / min(spacing) > threshold. */
export function getDoSeparateZ(spacing: Vec3, threshold = SEPARATE_Z_ANISOTROPY_THRESHOLD): boolean {
  return Math.max(...spacing) / Math.min(...spacing) > threshold;
}

/** `get_lowres_axis`: the axes whose spacing equals the largest (may be 1, 2 or 3 axes). */
export function getLowresAxis(spacing: Vec3): number[] {
  const max = Math.max(...spacing);
  return ([0, 1, 2] as const).filter((i) => max / spacing[i] === 1);
}

export interface ResampleOptions {
  /** The low-resolution axis (0, 1 or 2 of Z, Y, X); only used when doSeparateZ. */
  readonly axis: number | null;
  /** In-plane (or full 3-D) spline order. */
  readonly order: number;
  readonly doSeparateZ: boolean;
  /** Order along the low-resolution axis when doSeparateZ: 0 (nnU-Net's default) or 1 (data only). */
  readonly orderZ: number;
}

type Shape4 = readonly [number, number, number, number];

function sliceDims(d: Vec3, axis: 0 | 1 | 2): Vec3 {
  return axis === 0 ? [1, d[1], d[2]] : axis === 1 ? [1, d[0], d[2]] : [1, d[0], d[1]];
}

/** Copies slice `s` along `axis` of a (d0, d1, d2) array into dst (a (1, a, b) array) or back. */
function copySlice(
  vol: ArrayLike<number>,
  d: Vec3,
  axis: 0 | 1 | 2,
  s: number,
  dst: { [i: number]: number },
): void {
  let o = 0;
  for (let i = 0; i < d[0]; i++) {
    if (axis === 0 && i !== s) continue;
    for (let j = 0; j < d[1]; j++) {
      if (axis === 1 && j !== s) continue;
      const base = (i * d[1] + j) * d[2];
      if (axis === 2) dst[o++] = vol[base + s] as number;
      else for (let k = 0; k < d[2]; k++) dst[o++] = vol[base + k] as number;
    }
  }
}

function writeSlice(
  vol: { [i: number]: number },
  d: Vec3,
  axis: 0 | 1 | 2,
  s: number,
  src: ArrayLike<number>,
): void {
  let o = 0;
  for (let i = 0; i < d[0]; i++) {
    if (axis === 0 && i !== s) continue;
    for (let j = 0; j < d[1]; j++) {
      if (axis === 1 && j !== s) continue;
      const base = (i * d[1] + j) * d[2];
      if (axis === 2) vol[base + s] = src[o++] as number;
      else for (let k = 0; k < d[2]; k++) vol[base + k] = src[o++] as number;
    }
  }
}

/**
 * The step along the low-resolution axis of the separate-z path: `map_coordinates(order=orderZ,
 * mode='nearest')` with coordinates scale·(k + 0.5) − 0.5; the in-plane coordinates are integers.
 */
function resampleAlongAxis<T extends Float32Array | Int16Array>(
  src: T,
  d: Vec3,
  axis: 0 | 1 | 2,
  m: number,
  orderZ: number,
  make: (n: number) => T,
): T {
  const n = d[axis];
  const outDims: [number, number, number] = [d[0], d[1], d[2]];
  outDims[axis] = m;
  const out = make(outDims[0] * outDims[1] * outDims[2]);
  const inner = axis === 2 ? 1 : axis === 1 ? d[2] : d[1] * d[2];
  const outer = axis === 0 ? 1 : axis === 1 ? d[0] : d[0] * d[1];
  const scale = n / m;
  for (let k = 0; k < m; k++) {
    const cc = scale * (k + 0.5) - 0.5;
    const clamp = (i: number): number => (i < 0 ? 0 : i > n - 1 ? n - 1 : i);
    const i0 = clamp(orderZ === 0 ? Math.floor(cc + 0.5) : Math.floor(cc));
    const i1 = clamp(Math.floor(cc) + 1);
    const w0 = 1.0 - (cc - Math.floor(cc));
    const w1 = 1.0 - w0;
    for (let o = 0; o < outer; o++) {
      const s0 = (o * n + i0) * inner;
      const s1 = (o * n + i1) * inner;
      const dst = (o * m + k) * inner;
      if (orderZ === 0) for (let i = 0; i < inner; i++) out[dst + i] = src[s0 + i] as number;
      else
        for (let i = 0; i < inner; i++)
          out[dst + i] = (src[s0 + i] as number) * w0 + (src[s1 + i] as number) * w1;
    }
  }
  return out;
}

function checkArgs(shape: Shape4, newShape: Vec3, opts: ResampleOptions, isSeg: boolean): 0 | 1 | 2 | null {
  if (newShape.some((v) => !Number.isInteger(v) || v < 1)) {
    fail('BAD_INPUT', `resample: new shape [${newShape.join(', ')}] must be positive integers`);
  }
  if (shape[0] < 1) fail('BAD_INPUT', 'resample: volume has no channels');
  if (!opts.doSeparateZ) return null;
  const axis = opts.axis;
  if (axis !== 0 && axis !== 1 && axis !== 2)
    fail('BAD_INPUT', 'resample: separate z needs one low-res axis (0, 1 or 2)');
  if (opts.orderZ !== 0 && (isSeg || opts.orderZ !== 1)) {
    fail(
      'UNSUPPORTED',
      `resample: order_z ${opts.orderZ} is not supported (${isSeg ? 'seg: 0' : 'data: 0 or 1'})`,
    );
  }
  return axis;
}

/**
 * `resample_data_or_seg(data, new_shape, is_seg=False, ...)`: skimage resize per channel in float64, cast
 * back to float32; with doSeparateZ, a 2-D resize per slice of the low-res axis (cast to float32, clipped
 * per slice) followed by `map_coordinates` along that axis. Returns the input as is when nothing changes.
 */
export function resampleData(data: Volume, newShape: Vec3, opts: ResampleOptions): Volume {
  const [c, ...sp] = data.shape;
  const d: Vec3 = sp;
  const axis = checkArgs(data.shape, newShape, opts, false);
  if (d[0] === newShape[0] && d[1] === newShape[1] && d[2] === newShape[2]) return data;
  const n = d[0] * d[1] * d[2];
  const outN = newShape[0] * newShape[1] * newShape[2];
  const out = new Float32Array(c * outN);
  for (let ch = 0; ch < c; ch++) {
    const chan = data.data.subarray(ch * n, (ch + 1) * n);
    if (axis === null) {
      out.set(resizeImage(chan, d, newShape, opts.order), ch * outN);
      continue;
    }
    const mid: [number, number, number] = [newShape[0], newShape[1], newShape[2]];
    mid[axis] = d[axis];
    const midVol = new Float32Array(mid[0] * mid[1] * mid[2]);
    const inSlice = sliceDims(d, axis);
    const outSlice = sliceDims(mid, axis);
    const buf = new Float64Array(inSlice[1] * inSlice[2]);
    for (let s = 0; s < d[axis]; s++) {
      copySlice(chan, d, axis, s, buf);
      writeSlice(midVol, mid, axis, s, resizeImage(buf, inSlice, outSlice, opts.order));
    }
    const res =
      d[axis] === newShape[axis]
        ? midVol
        : resampleAlongAxis(midVol, mid, axis, newShape[axis], opts.orderZ, (k) => new Float32Array(k));
    out.set(res, ch * outN);
  }
  return { data: out, shape: [c, newShape[0], newShape[1], newShape[2]] };
}

/**
 * `resample_data_or_seg(seg, new_shape, is_seg=True, ...)`: batchgenerators `resize_segmentation` per
 * channel (per slice, then nearest along the low-res axis, when doSeparateZ).
 */
export function resampleSeg(
  seg: Volume<Int16Array>,
  newShape: Vec3,
  opts: ResampleOptions,
): Volume<Int16Array> {
  const [c, ...sp] = seg.shape;
  const d: Vec3 = sp;
  const axis = checkArgs(seg.shape, newShape, opts, true);
  if (d[0] === newShape[0] && d[1] === newShape[1] && d[2] === newShape[2]) return seg;
  const n = d[0] * d[1] * d[2];
  const outN = newShape[0] * newShape[1] * newShape[2];
  const out = new Int16Array(c * outN);
  for (let ch = 0; ch < c; ch++) {
    const chan = seg.data.subarray(ch * n, (ch + 1) * n);
    if (axis === null) {
      out.set(resizeSegmentation(chan, d, newShape, opts.order), ch * outN);
      continue;
    }
    // In-plane: a 3-D zoom whose low-res axis keeps its length is, for order ≤ 1, exactly the per-slice
    // 2-D resize (that axis gets weights [1, 0] and labels are resized per slice-independent one-hot).
    const mid: [number, number, number] = [newShape[0], newShape[1], newShape[2]];
    mid[axis] = d[axis];
    const midVol = perSliceSeg(chan, d, mid, axis, opts.order);
    const res =
      d[axis] === newShape[axis]
        ? midVol
        : resampleAlongAxis(midVol, mid, axis, newShape[axis], 0, (k) => new Int16Array(k));
    out.set(res, ch * outN);
  }
  return { data: out, shape: [c, newShape[0], newShape[1], newShape[2]] };
}

function perSliceSeg(chan: Int16Array, d: Vec3, mid: Vec3, axis: 0 | 1 | 2, order: number): Int16Array {
  const out = new Int16Array(mid[0] * mid[1] * mid[2]);
  const inSlice = sliceDims(d, axis);
  const outSlice = sliceDims(mid, axis);
  const buf = new Int16Array(inSlice[1] * inSlice[2]);
  for (let s = 0; s < d[axis]; s++) {
    copySlice(chan, d, axis, s, buf);
    writeSlice(out, mid, axis, s, resizeSegmentation(buf, inSlice, outSlice, order));
  }
  return out;
}

export interface ResamplePatientOptions {
  readonly orderData?: number;
  readonly orderSeg?: number;
  /** null: decide from the spacings (what preprocessing uses); true/false: always/never. Default false, as official. */
  readonly forceSeparateZ?: boolean | null;
  readonly orderZData?: number;
  readonly orderZSeg?: number;
  readonly separateZAnisotropyThreshold?: number;
}

/** How `resample_patient` resamples: the new shape and whether/along which axis it goes separate-z. */
export function planResampling(
  shapeZYX: Vec3,
  originalSpacing: Vec3,
  targetSpacing: Vec3,
  forceSeparateZ: boolean | null,
  threshold = SEPARATE_Z_ANISOTROPY_THRESHOLD,
): { newShape: [number, number, number]; doSeparateZ: boolean; axis: number | null } {
  const newShape = computeNewShape(shapeZYX, originalSpacing, targetSpacing);
  let doSeparateZ: boolean;
  let axes: number[] | null;
  if (forceSeparateZ !== null) {
    doSeparateZ = forceSeparateZ;
    axes = forceSeparateZ ? getLowresAxis(originalSpacing) : null;
  } else if (getDoSeparateZ(originalSpacing, threshold)) {
    doSeparateZ = true;
    axes = getLowresAxis(originalSpacing);
  } else if (getDoSeparateZ(targetSpacing, threshold)) {
    doSeparateZ = true;
    axes = getLowresAxis(targetSpacing);
  } else {
    doSeparateZ = false;
    axes = null;
  }
  // Two or three equally coarse axes (e.g. 0.24, 1.25, 1.25): no separate z.
  if (axes !== null && axes.length !== 1) doSeparateZ = false;
  return { newShape, doSeparateZ, axis: axes?.length === 1 ? (axes[0] ?? null) : null };
}

/** `resample_patient(data, seg, original_spacing, target_spacing, ...)` with the official defaults. */
export function resamplePatient(
  data: Volume | null,
  seg: Volume<Int16Array> | null,
  originalSpacing: Vec3,
  targetSpacing: Vec3,
  opts: ResamplePatientOptions = {},
): { data: Volume | null; seg: Volume<Int16Array> | null } {
  const ref = data ?? seg;
  if (ref === null) fail('BAD_INPUT', 'resample_patient: need data or seg');
  const plan = planResampling(
    [ref.shape[1], ref.shape[2], ref.shape[3]],
    originalSpacing,
    targetSpacing,
    opts.forceSeparateZ === undefined ? false : opts.forceSeparateZ,
    opts.separateZAnisotropyThreshold,
  );
  const common = { axis: plan.axis, doSeparateZ: plan.doSeparateZ };
  return {
    data:
      data &&
      resampleData(data, plan.newShape, {
        ...common,
        order: opts.orderData ?? 3,
        orderZ: opts.orderZData ?? 0,
      }),
    seg:
      seg &&
      resampleSeg(seg, plan.newShape, { ...common, order: opts.orderSeg ?? 0, orderZ: opts.orderZSeg ?? 0 }),
  };
}
