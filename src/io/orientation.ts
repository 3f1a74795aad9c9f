import { fail } from '../util/errors.js';
import {
  bestAffine,
  linear3,
  mat4,
  matMul4,
  nearestOrthogonal,
  voxelSizesMm,
  type Mat4,
  type Triple,
} from './geometry.js';
import { headerWithGeometry, require3d, type NiftiImage } from './nifti.js';
import type { NiftiRawData } from './nifti-data.js';
import type { NiftiHeader } from './nifti-header.js';

/**
 * Axis orientation (nibabel's `io_orientation` / `aff2axcodes` / `as_closest_canonical`, which
 * TotalSegmentator uses): which world axis each voxel axis runs along, and reorienting a volume to RAS+
 * by axis permutation and flips only — never resampling, so the way back is exact.
 */
export interface AxisOrientation {
  /** World axis (0 = x/R–L, 1 = y/A–P, 2 = z/S–I) that this voxel axis runs along. */
  readonly axis: 0 | 1 | 2;
  /** +1 when the world coordinate increases with the voxel index (towards R, A, S). */
  readonly flip: 1 | -1;
}
/** Per voxel axis i, j, k. */
export type Orientation = readonly [AxisOrientation, AxisOrientation, AxisOrientation];

const POSITIVE = 'RAS';
const NEGATIVE = 'LPI';

/**
 * nibabel `io_orientation`: normalize the columns, take the nearest orthogonal matrix (so a sheared or
 * obliquely rotated affine picks its nearest axes), then for voxel axes i, j, k in turn take the world
 * axis with the largest |component| among those not taken yet.
 */
export function ioOrientation(affine: Mat4): Orientation {
  const zooms = voxelSizesMm(affine);
  const rs = linear3(affine).map((row) => row.map((v, c) => v / ((zooms[c] ?? 0) || 1)));
  const r = nearestOrthogonal(rs);
  const out: AxisOrientation[] = [];
  for (let inAx = 0; inAx < 3; inAx++) {
    let best = -1;
    let bestAbs = 0;
    for (let w = 0; w < 3; w++) {
      const v = Math.abs(r[w]?.[inAx] ?? 0);
      if (v > bestAbs) {
        best = w;
        bestAbs = v;
      }
    }
    if (best < 0 || bestAbs < 1e-8)
      fail('BAD_INPUT', `orientation: voxel axis ${inAx} has no direction (degenerate affine)`);
    const sign = (r[best]?.[inAx] ?? 0) < 0 ? -1 : 1;
    out.push({ axis: best as 0 | 1 | 2, flip: sign });
    const used = r[best];
    if (used !== undefined) used.fill(0); // that world axis is taken
  }
  return toOrientation(out);
}

/** Axis codes as nibabel's `aff2axcodes` joined: the direction each voxel axis increases towards ('RAS', 'LPS', 'PIR'). */
export function orientationCode(affine: Mat4): string {
  return ioOrientation(affine)
    .map((o) => (o.flip > 0 ? POSITIVE : NEGATIVE)[o.axis] ?? '?')
    .join('');
}

/** Parses a code like 'LPS' or 'PIR'; each of the three axes must appear once. */
export function orientationFromCode(code: string): Orientation {
  const out: AxisOrientation[] = [];
  for (const ch of code.toUpperCase()) {
    const p = POSITIVE.indexOf(ch);
    const n = NEGATIVE.indexOf(ch);
    const axis = p >= 0 ? p : n;
    if (axis < 0) fail('BAD_INPUT', `orientation: '${ch}' in '${code}' is not one of R L A P S I`);
    out.push({ axis: axis as 0 | 1 | 2, flip: p >= 0 ? 1 : -1 });
  }
  const a = out.map((o) => o.axis).sort();
  if (out.length !== 3 || a[0] !== 0 || a[1] !== 1 || a[2] !== 2) {
    fail('BAD_INPUT', `orientation: '${code}' must name each of R/L, A/P, S/I exactly once`);
  }
  return toOrientation(out);
}

function toOrientation(list: readonly AxisOrientation[]): Orientation {
  const [a, b, c] = list;
  if (a === undefined || b === undefined || c === undefined || list.length !== 3) {
    fail('BAD_INPUT', `orientation: expected 3 axes, got ${list.length}`);
  }
  return [a, b, c];
}

function isIdentity(o: Orientation): boolean {
  return o.every((a, i) => a.axis === i && a.flip === 1);
}

/**
 * Voxel map of a reorientation (nibabel `inv_ornt_aff`): old voxel = M · new voxel, so the new affine
 * is `affine · M`. Axis a goes to output axis o[a].axis, reversed when o[a].flip is −1.
 */
function voxelMap(o: Orientation, dims: Triple): Mat4 {
  const rows = [0, 1, 2].map((a) => {
    const oa = o[a as 0 | 1 | 2];
    const row = [0, 0, 0, oa.flip < 0 ? (dims[a] ?? 1) - 1 : 0];
    row[oa.axis] = oa.flip;
    return row;
  });
  return mat4(rows);
}

/** Sizes after reorienting: output axis o[a].axis has the size of input axis a. */
function reorientedDims(o: Orientation, dims: Triple): Triple {
  const out = [0, 0, 0];
  for (let a = 0; a < 3; a++) out[o[a as 0 | 1 | 2].axis] = dims[a] ?? 0;
  return [out[0] ?? 0, out[1] ?? 0, out[2] ?? 0];
}

/**
 * Visits every output voxel in storage order (i fastest) with the input voxel it takes, for a
 * permutation + flips of a (i, j, k) grid. `assign(outIndex, inIndex)`.
 */
function forEachVoxel(o: Orientation, dims: Triple, assign: (out: number, inp: number) => void): void {
  const strideIn = [1, dims[0], dims[0] * dims[1]];
  const outDims = reorientedDims(o, dims);
  const step = [0, 0, 0];
  let start = 0;
  for (let a = 0; a < 3; a++) {
    const oa = o[a as 0 | 1 | 2];
    const s = strideIn[a] ?? 0;
    step[oa.axis] = oa.flip * s;
    if (oa.flip < 0) start += ((dims[a] ?? 1) - 1) * s;
  }
  const [s0, s1, s2] = [step[0] ?? 0, step[1] ?? 0, step[2] ?? 0];
  let out = 0;
  for (let k = 0, pk = start; k < outDims[2]; k++, pk += s2) {
    for (let j = 0, pj = pk; j < outDims[1]; j++, pj += s1) {
      for (let i = 0, p = pj; i < outDims[0]; i++, p += s0) assign(out++, p);
    }
  }
}

function reorientRaw<T extends NiftiRawData>(src: T, o: Orientation, dims: Triple): T {
  const dst = src.slice() as T;
  if (dst instanceof BigInt64Array || dst instanceof BigUint64Array) {
    const s = src as BigInt64Array | BigUint64Array;
    forEachVoxel(o, dims, (out, inp) => {
      dst[out] = s[inp] ?? 0n;
    });
  } else {
    const s = src as Exclude<NiftiRawData, BigInt64Array | BigUint64Array>;
    forEachVoxel(o, dims, (out, inp) => {
      dst[out] = s[inp] ?? 0;
    });
  }
  return dst;
}

/** Reorients data and affine by `o` (permutation + flips of the three spatial axes). */
export function reorient(image: NiftiImage, o: Orientation): NiftiImage {
  const dims = require3d(image);
  const newDims = reorientedDims(o, dims);
  const affine = matMul4(image.affine, voxelMap(o, dims));
  return {
    ...image,
    header: headerWithGeometry(image.header, newDims, affine),
    dims: newDims,
    affine,
    data: reorientRaw(image.data, o, dims),
    raw: reorientRaw(image.raw, o, dims),
  };
}

export interface CanonicalTransform {
  /** How the original voxel axes map to the canonical (RAS) ones. */
  readonly orientation: Orientation;
  /** The original image's header (its geometry is restored exactly by `fromCanonical`). */
  readonly originalHeader: NiftiHeader;
  readonly originalDims: readonly number[];
  readonly originalAffine: Mat4;
}

/**
 * nibabel `as_closest_canonical`: reorient so voxel axes run along +R, +A, +S as closely as the affine
 * allows. An image already in RAS is returned as it is (same object, like nibabel).
 */
export function toClosestCanonical(image: NiftiImage): { image: NiftiImage; transform: CanonicalTransform } {
  require3d(image);
  const orientation = ioOrientation(image.affine);
  const transform = {
    orientation,
    originalHeader: image.header,
    originalDims: image.dims,
    originalAffine: image.affine,
  };
  return { image: isIdentity(orientation) ? image : reorient(image, orientation), transform };
}

/** Header fields that describe the grid; `fromCanonical` restores these from the original. */
function geometryOf(h: NiftiHeader): Partial<NiftiHeader> {
  const { dim, pixdim, dim_info, qform_code, sform_code, quatern_b, quatern_c, quatern_d } = h;
  const { qoffset_x, qoffset_y, qoffset_z, srow_x, srow_y, srow_z } = h;
  return {
    dim,
    pixdim,
    dim_info,
    qform_code,
    sform_code,
    quatern_b,
    quatern_c,
    quatern_d,
    qoffset_x,
    qoffset_y,
    qoffset_z,
    srow_x,
    srow_y,
    srow_z,
  };
}

export function invertOrientation(o: Orientation): Orientation {
  const inv: AxisOrientation[] = [];
  for (let q = 0; q < 3; q++) {
    const a = o.findIndex((x) => x.axis === q);
    const oa = o[a as 0 | 1 | 2];
    if (a < 0) fail('BAD_INPUT', `orientation: world axis ${q} is not used (not a permutation)`);
    inv.push({ axis: a as 0 | 1 | 2, flip: oa.flip });
  }
  return toOrientation(inv);
}

/**
 * Back from canonical to the original voxel order: data permuted back, and the original affine and
 * header geometry restored exactly (not recomputed). `image` is the canonical image or any image on the
 * same grid (e.g. a segmentation of it); its datatype and other header fields are kept.
 */
export function fromCanonical(image: NiftiImage, transform: CanonicalTransform): NiftiImage {
  const dims = require3d(image);
  const o = transform.orientation;
  const expected = reorientedDims(o, require3d({ dims: transform.originalDims }));
  if (dims.some((d, i) => d !== expected[i])) {
    fail(
      'SHAPE_MISMATCH',
      `orientation: image is ${dims.join('×')} but the canonical grid of the transform is ${expected.join('×')}`,
    );
  }
  const inv = invertOrientation(o);
  return {
    ...image,
    header: { ...image.header, ...geometryOf(transform.originalHeader) },
    dims: transform.originalDims,
    affine: transform.originalAffine,
    affineSource: bestAffine(transform.originalHeader).source,
    // identity (the image was already RAS): the arrays are returned as they are, like toClosestCanonical
    data: isIdentity(inv) ? image.data : reorientRaw(image.data, inv, dims),
    raw: isIdentity(inv) ? image.raw : reorientRaw(image.raw, inv, dims),
  };
}
