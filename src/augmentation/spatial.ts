/**
 * Spatial augmentation: batchgenerators 0.25 augment_spatial (rotation, scaling, center crop) as nnU-Net
 * v1 nnUNetTrainerV2 configures it for 3-D (no elastic deformation, random_crop False), mirroring, and
 * get_patch_size (the enlarged patch the loader cuts so that rotated/scaled patches stay filled).
 */
import { fail } from '../util/errors.js';
import type { Rng } from '../util/random.js';
import {
  cubicCoefficients,
  sampleCubic,
  sampleLabelsLinear,
  type Affine3,
  type Mat3,
} from './interpolate.js';
import { halfBelowOne, uniform } from './rng.js';
import { checkSample, voxelCount, type Sample } from './sample.js';
import { map3, type Vec3 } from '../util/vec3.js';

export type Range = readonly [number, number];

export interface SpatialParams {
  /** Output patch (the network's patch size). */
  readonly patchSizeZYX: Vec3;
  /** Rotation ranges in radians about axes 0, 1, 2 (batchgenerators angle_x, angle_y, angle_z). */
  readonly rotationRad: readonly [Range, Range, Range];
  readonly pRotation: number;
  /** Per-axis probability once a rotation is drawn (p_rot_per_axis; 1 in nnU-Net). */
  readonly pRotationPerAxis: number;
  readonly scaleRange: Range;
  readonly pScale: number;
  /** Background of the data outside the input (border_cval_data). */
  readonly cvalData: number;
}

const DEG30 = (30 / 360) * 2 * Math.PI;

/** nnUNetTrainerV2.setup_DA_params + default_3D_augmentation_params for a 3-D patch. */
export function defaultSpatialParams(patchSizeZYX: Vec3): SpatialParams {
  const rot: Range = [-DEG30, DEG30];
  return {
    patchSizeZYX,
    rotationRad: [rot, rot, rot],
    pRotation: 0.2,
    pRotationPerAxis: 1,
    scaleRange: [0.7, 1.4],
    pScale: 0.2,
    cvalData: 0,
  };
}

/** The row vector v times m: Σ_e v_e · m[e][d], summed from 0 in e order (as a loop from 0 would). */
function rowTimes(v: Vec3, m: Mat3): Vec3 {
  const [v0, v1, v2] = v;
  const [m00, m01, m02, m10, m11, m12, m20, m21, m22] = m;
  return [
    0 + v0 * m00 + v1 * m10 + v2 * m20,
    0 + v0 * m01 + v1 * m11 + v2 * m21,
    0 + v0 * m02 + v1 * m12 + v2 * m22,
  ];
}

/** Row-major 3×3 product. */
function matMul(a: Mat3, b: Mat3): Mat3 {
  const [a00, a01, a02, a10, a11, a12, a20, a21, a22] = a;
  return [...rowTimes([a00, a01, a02], b), ...rowTimes([a10, a11, a12], b), ...rowTimes([a20, a21, a22], b)];
}

function transpose(m: Mat3): Mat3 {
  const [m00, m01, m02, m10, m11, m12, m20, m21, m22] = m;
  return [m00, m10, m20, m01, m11, m21, m02, m12, m22];
}

/**
 * batchgenerators rotate_coords_3d's matrix M = Rx(ax)·Ry(ay)·Rz(az); a coordinate (row vector) v maps
 * to v·M.
 */
export function rotationMatrix3d(ax: number, ay: number, az: number): Mat3 {
  const [cx, sx, cy, sy, cz, sz] = [
    Math.cos(ax),
    Math.sin(ax),
    Math.cos(ay),
    Math.sin(ay),
    Math.cos(az),
    Math.sin(az),
  ];
  const rx: Mat3 = [1, 0, 0, 0, cx, -sx, 0, sx, cx];
  const ry: Mat3 = [cy, 0, sy, 0, 1, 0, -sy, 0, cy];
  const rz: Mat3 = [cz, -sz, 0, sz, cz, 0, 0, 0, 1];
  return matMul(matMul(rx, ry), rz);
}

/**
 * batchgenerators get_patch_size: the box that holds `finalPatch` rotated by the largest angle about each
 * axis (capped at 90°), divided by min(scaleRange), truncated. nnUNetTrainerV2 passes scale (0.85, 1.25)
 * here, not the augmentation's (0.7, 1.4): 128³ with ±30° → 205³.
 */
export function getPatchSize(
  finalPatch: Vec3,
  rotationRad: readonly [Range, Range, Range],
  scaleRange: Range,
): Vec3 {
  const maxAngle = (r: Range): number => Math.min(Math.PI / 2, Math.max(Math.abs(r[0]), Math.abs(r[1])));
  const [rx, ry, rz] = [maxAngle(rotationRad[0]), maxAngle(rotationRad[1]), maxAngle(rotationRad[2])];
  let shape = finalPatch;
  for (const m of [rotationMatrix3d(rx, 0, 0), rotationMatrix3d(0, ry, 0), rotationMatrix3d(0, 0, rz)]) {
    const rotated = rowTimes(finalPatch, m);
    shape = map3(shape, (s, d) => Math.max(s, Math.abs(rotated[d])));
  }
  const minScale = Math.min(scaleRange[0], scaleRange[1]);
  return map3(shape, (s) => Math.trunc(s / minScale));
}

/** center_crop_aug: lower bound (in − out) // 2 on each axis; the input must be at least the output. */
export function centerCrop(s: Sample, outShape: Vec3): Sample {
  const [n0, n1, n2] = s.shapeZYX;
  const [m0, m1, m2] = outShape;
  if (m0 > n0 || m1 > n1 || m2 > n2)
    fail('SHAPE_MISMATCH', `cannot center-crop (${s.shapeZYX.join(', ')}) to (${outShape.join(', ')})`);
  const [l0, l1, l2] = [Math.floor((n0 - m0) / 2), Math.floor((n1 - m1) / 2), Math.floor((n2 - m2) / 2)];
  const nOut = m0 * m1 * m2;
  const data = new Float32Array(s.channels * nOut);
  const seg = new Int16Array(nOut);
  const nIn = voxelCount(s.shapeZYX);
  for (let c = 0; c <= s.channels; c++) {
    for (let a = 0; a < m0; a++) {
      for (let b = 0; b < m1; b++) {
        const from = ((a + l0) * n1 + (b + l1)) * n2 + l2;
        const to = (a * m1 + b) * m2;
        if (c < s.channels) data.set(s.data.subarray(c * nIn + from, c * nIn + from + m2), c * nOut + to);
        else seg.set(s.seg.subarray(from, from + m2), to);
      }
    }
  }
  return { channels: s.channels, shapeZYX: outShape, data, seg };
}

/** The draws of one augment_spatial call: angles (rad, about axes 0, 1, 2) and scale, or null if skipped. */
export interface SpatialDraw {
  readonly angles: Vec3 | null;
  readonly scale: number | null;
}

/** The random part of augment_spatial, in batchgenerators' order (rotation check, 3 angles, scale). */
export function drawSpatial(p: SpatialParams, rng: Rng): SpatialDraw {
  let angles: Vec3 | null = null;
  if (rng.next() < p.pRotation) {
    // in axis order (array elements are evaluated left to right), as batchgenerators draws them
    const draw = (r: Range): number => (rng.next() <= p.pRotationPerAxis ? uniform(rng, r[0], r[1]) : 0);
    angles = [draw(p.rotationRad[0]), draw(p.rotationRad[1]), draw(p.rotationRad[2])];
  }
  const scale = rng.next() < p.pScale ? halfBelowOne(rng, p.scaleRange) : null;
  return { angles, scale };
}

/**
 * Resamples `s` on the patch grid rotated by `angles` and scaled by `scale` about the input's centre
 * (random_crop False: ctr = n/2 − 0.5): data order 3, constant `cvalData`; seg order 1 per label.
 */
export function applySpatial(s: Sample, draw: SpatialDraw, p: SpatialParams): Sample {
  checkSample(s);
  if (draw.angles === null && draw.scale === null) return centerCrop(s, p.patchSizeZYX);
  const [ax, ay, az] = draw.angles ?? [0, 0, 0];
  const m = rotationMatrix3d(ax, ay, az);
  const sc = draw.scale ?? 1;
  const out = p.patchSizeZYX;
  // coords_d = sc · Σ_e (i_e − (out_e − 1)/2) · M[e][d] + (n_d/2 − 0.5)
  const affine: Affine3 = {
    center: map3(out, (m0) => (m0 - 1) / 2),
    matrix: transpose(m),
    scale: sc,
    offset: map3(s.shapeZYX, (n) => n / 2 - 0.5),
  };
  const nIn = voxelCount(s.shapeZYX);
  const nOut = voxelCount(out);
  const data = new Float32Array(s.channels * nOut);
  for (let c = 0; c < s.channels; c++) {
    const coef = cubicCoefficients(s.data.subarray(c * nIn, (c + 1) * nIn), s.shapeZYX);
    sampleCubic(coef, s.shapeZYX, affine, out, p.cvalData, data, c * nOut);
  }
  const seg = new Int16Array(nOut);
  sampleLabelsLinear(s.seg, s.shapeZYX, affine, out, seg);
  return { channels: s.channels, shapeZYX: out, data, seg };
}

/** augment_spatial for one sample. */
export function augmentSpatial(s: Sample, p: SpatialParams, rng: Rng): Sample {
  return applySpatial(s, drawSpatial(p, rng), p);
}

/** Flips `s` in place along the given spatial axes (0 = Z, 1 = Y, 2 = X), data and seg together. */
export function flipAxes(s: Sample, axes: readonly (0 | 1 | 2)[]): void {
  const [n0, n1, n2] = s.shapeZYX;
  const n = n0 * n1 * n2;
  const flip = (arr: Float32Array | Int16Array, base: number, axis: 0 | 1 | 2): void => {
    if (axis === 2) {
      for (let r = 0; r < n0 * n1; r++) arr.subarray(base + r * n2, base + (r + 1) * n2).reverse();
      return;
    }
    const [outer, len, inner] = axis === 0 ? [1, n0, n1 * n2] : [n0, n1, n2];
    const tmp = arr.slice(0, inner);
    for (let o = 0; o < outer; o++) {
      for (let i = 0, j = len - 1; i < j; i++, j--) {
        const pi = base + (o * len + i) * inner;
        const pj = base + (o * len + j) * inner;
        tmp.set(arr.subarray(pi, pi + inner));
        arr.copyWithin(pi, pj, pj + inner);
        arr.set(tmp, pj);
      }
    }
  };
  for (const axis of axes) {
    for (let c = 0; c < s.channels; c++) flip(s.data, c * n, axis);
    flip(s.seg, 0, axis);
  }
}

/** augment_mirroring as MirrorTransform(axes) calls it: each axis flipped with probability ½, in place. */
export function augmentMirror(s: Sample, axes: readonly (0 | 1 | 2)[], rng: Rng): (0 | 1 | 2)[] {
  const flipped = ([0, 1, 2] as const).filter((a) => axes.includes(a) && rng.next() < 0.5);
  flipAxes(s, flipped);
  return flipped;
}
