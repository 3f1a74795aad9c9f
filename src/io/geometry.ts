import { fail } from '../util/errors.js';
import type { NiftiHeader } from './nifti-header.js';

/**
 * Voxel-to-world geometry: 4×4 affines (RAS+ mm, as NIfTI and nibabel), the NIfTI-1 qform/sform rules,
 * and SimpleITK's view of the same geometry (LPS origin/direction, per-axis spacing).
 */
export type Triple = readonly [number, number, number];
export type Row4 = readonly [number, number, number, number];
/** Row-major 4×4 affine, voxel (i, j, k, 1) → world (x, y, z, 1) in mm, RAS+. Last row is 0 0 0 1. */
export type Mat4 = readonly [Row4, Row4, Row4, Row4];
export type AffineSource = 'sform' | 'qform' | 'pixdim';

export function el(m: Mat4, r: number, c: number): number {
  return m[r]?.[c] ?? NaN;
}

function row4(r: readonly number[]): Row4 {
  return [r[0] ?? 0, r[1] ?? 0, r[2] ?? 0, r[3] ?? 0];
}

/** Builds a Mat4 from a 3×4 (or 4×4) nested array; the last row is always 0 0 0 1. */
export function mat4(rows: readonly (readonly number[])[]): Mat4 {
  return [row4(rows[0] ?? []), row4(rows[1] ?? []), row4(rows[2] ?? []), [0, 0, 0, 1]];
}

export function matMul4(a: Mat4, b: Mat4): Mat4 {
  const rows: number[][] = [];
  for (let r = 0; r < 3; r++) {
    const row: number[] = [];
    for (let c = 0; c < 4; c++) {
      let s = c === 3 ? el(a, r, 3) : 0;
      for (let k = 0; k < 3; k++) s += el(a, r, k) * el(b, k, c);
      row.push(s);
    }
    rows.push(row);
  }
  return mat4(rows);
}

/** The 3×3 linear part as rows. */
export function linear3(m: Mat4): number[][] {
  return [0, 1, 2].map((r) => [el(m, r, 0), el(m, r, 1), el(m, r, 2)]);
}

function at3(m: readonly (readonly number[])[], r: number, c: number): number {
  return m[r]?.[c] ?? NaN;
}

export function det3(m: readonly (readonly number[])[]): number {
  const a = (r: number, c: number): number => at3(m, r, c);
  return (
    a(0, 0) * (a(1, 1) * a(2, 2) - a(1, 2) * a(2, 1)) -
    a(0, 1) * (a(1, 0) * a(2, 2) - a(1, 2) * a(2, 0)) +
    a(0, 2) * (a(1, 0) * a(2, 1) - a(1, 1) * a(2, 0))
  );
}

/** Inverse of a 3×3 (adjugate / det). Throws when |det| ≤ `minDet` (singular for our purposes). */
export function inv3(m: readonly (readonly number[])[], minDet = 1e-12): number[][] {
  const d = det3(m);
  if (!Number.isFinite(d) || Math.abs(d) <= minDet) {
    fail('BAD_INPUT', `geometry: singular 3×3 matrix (det ${d}); the image affine is degenerate`);
  }
  const a = (r: number, c: number): number => at3(m, r, c);
  const out: number[][] = [];
  for (let r = 0; r < 3; r++) {
    const row: number[] = [];
    for (let c = 0; c < 3; c++) {
      // cofactor of (c, r), cyclic indices give the sign for free
      const r1 = (c + 1) % 3;
      const r2 = (c + 2) % 3;
      const c1 = (r + 1) % 3;
      const c2 = (r + 2) % 3;
      row.push((a(r1, c1) * a(r2, c2) - a(r1, c2) * a(r2, c1)) / d);
    }
    out.push(row);
  }
  return out;
}

export function invertAffine(m: Mat4): Mat4 {
  const ri = inv3(linear3(m));
  const t = [el(m, 0, 3), el(m, 1, 3), el(m, 2, 3)];
  return mat4(ri.map((row) => [...row, -row.reduce((s, v, k) => s + v * (t[k] ?? 0), 0)]));
}

/** Column norms of the linear part: the voxel size along i, j, k in mm. */
export function voxelSizesMm(m: Mat4): Triple {
  const n = (c: number): number => Math.hypot(el(m, 0, c), el(m, 1, c), el(m, 2, c));
  return [n(0), n(1), n(2)];
}

/**
 * Nearest orthogonal matrix (the polar factor U·Vᵀ of the SVD U·S·Vᵀ), by the scaled Newton iteration
 * X ← (γX + X⁻ᵀ/γ)/2, γ = |det X|^(−1/3) (Higham), which converges in a few steps even for badly
 * conditioned X. nibabel gets the same matrix from numpy's SVD (`io_orientation`, `set_qform`).
 * Throws on a singular matrix (no unique answer).
 */
export function nearestOrthogonal(m: readonly (readonly number[])[]): number[][] {
  let x = m.map((r) => [...r]);
  for (let it = 0; it < 60; it++) {
    const d = det3(x);
    if (!Number.isFinite(d) || Math.abs(d) < 1e-300) {
      fail('BAD_INPUT', 'geometry: the affine is singular (two voxel axes are parallel or one is zero)');
    }
    const inv = inv3(x, 0);
    const g = it < 20 ? Math.cbrt(1 / Math.abs(d)) : 1;
    let delta = 0;
    x = x.map((row, r) =>
      row.map((v, c) => {
        const u = 0.5 * (g * v + at3(inv, c, r) / g);
        delta = Math.max(delta, Math.abs(u - v));
        return u;
      }),
    );
    if (delta < 1e-15) break;
  }
  return x;
}

/** NIfTI-1 method 2: quaternion + qoffset + pixdim, with qfac = pixdim[0] (nifti1_io quatern_to_mat44). */
export function qformAffine(h: NiftiHeader): Mat4 {
  let b = h.quatern_b;
  let c = h.quatern_c;
  let d = h.quatern_d;
  let a = 1 - (b * b + c * c + d * d);
  if (a < 1e-7) {
    // 180° rotation: (b, c, d) is renormalized and a = 0 (the spec's special case)
    const s = 1 / Math.sqrt(b * b + c * c + d * d);
    b *= s;
    c *= s;
    d *= s;
    a = 0;
  } else {
    a = Math.sqrt(a);
  }
  // nifti1_io replaces a non-positive voxel size by 1 (nibabel would keep it and make a singular affine)
  const pd = (i: number): number => {
    const v = h.pixdim[i] ?? 0;
    return v > 0 ? v : 1;
  };
  const xd = pd(1);
  const yd = pd(2);
  const zd = (h.pixdim[0] ?? 1) < 0 ? -pd(3) : pd(3);
  return mat4([
    [(a * a + b * b - c * c - d * d) * xd, 2 * (b * c - a * d) * yd, 2 * (b * d + a * c) * zd, h.qoffset_x],
    [2 * (b * c + a * d) * xd, (a * a + c * c - b * b - d * d) * yd, 2 * (c * d - a * b) * zd, h.qoffset_y],
    [2 * (b * d - a * c) * xd, 2 * (c * d + a * b) * yd, (a * a + d * d - c * c - b * b) * zd, h.qoffset_z],
  ]);
}

export function sformAffine(h: NiftiHeader): Mat4 {
  return mat4([h.srow_x, h.srow_y, h.srow_z]);
}

/** NIfTI-1 method 1 (both codes 0): x = pixdim[1]·i etc., no offset. (nibabel instead uses Analyze's
 * flipped-x, centred affine here; SimpleITK follows the spec.) */
export function pixdimAffine(h: NiftiHeader): Mat4 {
  const p = (i: number): number => h.pixdim[i] ?? 1;
  return mat4([
    [p(1), 0, 0, 0],
    [0, p(2), 0, 0],
    [0, 0, p(3), 0],
  ]);
}

/** sform when sform_code > 0, else qform when qform_code > 0, else the pixdim fallback (NIfTI-1). */
export function bestAffine(h: NiftiHeader): { affine: Mat4; source: AffineSource } {
  if (h.sform_code > 0) return { affine: sformAffine(h), source: 'sform' };
  if (h.qform_code > 0) return { affine: qformAffine(h), source: 'qform' };
  return { affine: pixdimAffine(h), source: 'pixdim' };
}

export interface Quatern {
  readonly quatern_b: number;
  readonly quatern_c: number;
  readonly quatern_d: number;
  readonly qoffset_x: number;
  readonly qoffset_y: number;
  readonly qoffset_z: number;
  /** pixdim[0]: −1 when the affine is left-handed (det < 0). */
  readonly qfac: 1 | -1;
  /** pixdim[1..3]: column norms of the affine. */
  readonly zooms: Triple;
}

/**
 * The qform that best represents an affine (nibabel `set_qform`, nifti1_io `mat44_to_quatern`): zooms
 * are the column norms, qfac fixes the handedness, and a sheared affine is replaced by its nearest
 * rotation — so a sheared image's qform is an approximation; its sform keeps the exact affine.
 */
export function affineToQuatern(m: Mat4): Quatern {
  const zooms = voxelSizesMm(m);
  const r = linear3(m).map((row) => row.map((v, c) => v / ((zooms[c] ?? 1) || 1)));
  const qfac = det3(r) < 0 ? -1 : 1;
  if (qfac < 0) for (const row of r) row[2] = -(row[2] ?? 0);
  // a degenerate affine has no rotation; the qform then says "axis-aligned" (the sform stays exact)
  const q =
    Math.abs(det3(r)) > 1e-12
      ? nearestOrthogonal(r)
      : [
          [1, 0, 0],
          [0, 1, 0],
          [0, 0, 1],
        ];
  const g = (i: number, j: number): number => at3(q, i, j);
  let a: number;
  let b: number;
  let c: number;
  let d: number;
  const trace = g(0, 0) + g(1, 1) + g(2, 2) + 1;
  if (trace > 0.5) {
    a = 0.5 * Math.sqrt(trace);
    b = (0.25 * (g(2, 1) - g(1, 2))) / a;
    c = (0.25 * (g(0, 2) - g(2, 0))) / a;
    d = (0.25 * (g(1, 0) - g(0, 1))) / a;
  } else {
    const xd = 1 + g(0, 0) - (g(1, 1) + g(2, 2));
    const yd = 1 + g(1, 1) - (g(0, 0) + g(2, 2));
    const zd = 1 + g(2, 2) - (g(0, 0) + g(1, 1));
    if (xd > 1) {
      b = 0.5 * Math.sqrt(xd);
      c = (0.25 * (g(0, 1) + g(1, 0))) / b;
      d = (0.25 * (g(0, 2) + g(2, 0))) / b;
      a = (0.25 * (g(2, 1) - g(1, 2))) / b;
    } else if (yd > 1) {
      c = 0.5 * Math.sqrt(yd);
      b = (0.25 * (g(0, 1) + g(1, 0))) / c;
      d = (0.25 * (g(1, 2) + g(2, 1))) / c;
      a = (0.25 * (g(0, 2) - g(2, 0))) / c;
    } else {
      d = 0.5 * Math.sqrt(zd);
      b = (0.25 * (g(0, 2) + g(2, 0))) / d;
      c = (0.25 * (g(1, 2) + g(2, 1))) / d;
      a = (0.25 * (g(1, 0) - g(0, 1))) / d;
    }
    if (a < 0) {
      b = -b;
      c = -c;
      d = -d;
    }
  }
  return {
    quatern_b: b,
    quatern_c: c,
    quatern_d: d,
    qoffset_x: el(m, 0, 3),
    qoffset_y: el(m, 1, 3),
    qoffset_z: el(m, 2, 3),
    qfac,
    zooms,
  };
}

/** SimpleITK's view of a geometry: LPS+ world, index order (i, j, k) = ITK (x, y, z). */
export interface LpsGeometry {
  /** SimpleITK GetOrigin(): world position of voxel (0, 0, 0) in LPS mm. */
  readonly originLPS: Triple;
  /** SimpleITK GetDirection(): 3×3 row-major, column c = unit direction of index axis c (i, j, k), LPS. */
  readonly directionLPS: readonly number[];
}

/**
 * RAS affine → SimpleITK origin/direction: negate the x and y rows (RAS → LPS), normalize columns.
 * With a sheared affine the columns are not orthogonal, which ITK cannot represent (it falls back to
 * the qform); we report the normalized columns as they are.
 */
export function lpsFromAffine(m: Mat4): LpsGeometry {
  const sizes = voxelSizesMm(m);
  const sign = [-1, -1, 1];
  const direction: number[] = [];
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) direction.push(((sign[r] ?? 1) * el(m, r, c)) / ((sizes[c] ?? 1) || 1));
  }
  return { originLPS: [-el(m, 0, 3), -el(m, 1, 3), el(m, 2, 3)], directionLPS: direction };
}

/** SimpleITK spacing (reversed: Z, Y, X), origin and direction (LPS) → RAS affine. */
export function affineFromLps(spacingZYX: Triple, geometry: LpsGeometry): Mat4 {
  const spacingIJK = [spacingZYX[2], spacingZYX[1], spacingZYX[0]];
  const sign = [-1, -1, 1];
  const o = geometry.originLPS;
  const rows: number[][] = [];
  for (let r = 0; r < 3; r++) {
    const row: number[] = [];
    for (let c = 0; c < 3; c++) {
      row.push((sign[r] ?? 1) * (geometry.directionLPS[3 * r + c] ?? NaN) * (spacingIJK[c] ?? NaN));
    }
    row.push((sign[r] ?? 1) * (o[r] ?? NaN));
    rows.push(row);
  }
  return mat4(rows);
}
