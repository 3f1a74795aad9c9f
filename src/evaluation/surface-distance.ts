/**
 * Surface distances, Normalized Surface Dice, average surface distance and robust Hausdorff — a port of
 * google-deepmind/surface-distance (surface_distance/metrics.py @ 1f805cea): compute_surface_distances,
 * compute_surface_dice_at_tolerance, compute_average_surface_distance, compute_robust_hausdorff.
 *
 * Surfels live on voxel corners: each corner's 2×2×2 neighbourhood gives an 8-bit code (the library's
 * kernel [[[128, 64], [32, 16]], [[8, 4], [2, 1]]], voxel (z−1, y−1, x−1) weighs 128); codes other than
 * 0 and 255 are surface, with an area from the library's table of marching-cubes normals. Distances are
 * the exact EDT from every surfel to the other mask's surfels. The library crops to the bounding box of
 * gt ∪ pred first; an exact EDT does not depend on that box as long as it holds every surfel, which lets
 * callers pass any box around the objects (see `surfaceDistancesInBox`).
 */
import { fail } from '../util/errors.js';
import { squaredEdt } from './edt.js';
import { numpySum } from './numpy-sum.js';
import normalsData from './surfel-normals.json' with { type: 'json' };

export type Shape3 = readonly [number, number, number];

export interface SurfaceDistances {
  /** mm, ascending (ties ordered by area, as the library's sorted(zip(distances, areas))). */
  readonly distancesGtToPred: Float64Array;
  /** mm², in the order of distancesGtToPred. */
  readonly surfelAreasGt: Float64Array;
  readonly distancesPredToGt: Float64Array;
  readonly surfelAreasPred: Float64Array;
}

/** Surfel area (mm²) per 2×2×2 neighbour code for a (z, y, x) spacing: create_table_neighbour_code_to_surface_area. */
export function surfelAreaTable(spacingMm: Shape3): Float64Array {
  const [s0, s1, s2] = spacingMm;
  const table = new Float64Array(256);
  normalsData.normals.forEach((normals, code) => {
    let sum = 0;
    for (const n of normals) {
      // The table is stored in eighths so it is integral; k/8 is exact, as are the library's floats.
      const a = ((n[0] ?? 0) / normalsData.scale) * s1 * s2;
      const b = ((n[1] ?? 0) / normalsData.scale) * s0 * s2;
      const c = ((n[2] ?? 0) / normalsData.scale) * s0 * s1;
      sum += Math.sqrt(a * a + b * b + c * c);
    }
    table[code] = sum;
  });
  return table;
}

/**
 * compute_surface_distances on full (Z, Y, X) masks (non-zero = inside). Both empty: all lists empty.
 * One empty: its lists are empty and the other's distances are all Infinity.
 */
export function computeSurfaceDistances(
  maskGt: ArrayLike<number>,
  maskPred: ArrayLike<number>,
  shapeZYX: Shape3,
  spacingMm: Shape3,
): SurfaceDistances {
  const [nz, ny, nx] = shapeZYX;
  if (maskGt.length !== nz * ny * nx || maskPred.length !== maskGt.length) {
    fail(
      'SHAPE_MISMATCH',
      `surface distance: masks of ${maskGt.length} and ${maskPred.length} voxels, shape [${shapeZYX.join(', ')}]`,
    );
  }
  let [loZ, loY, loX] = [nz, ny, nx];
  let [hiZ, hiY, hiX] = [-1, -1, -1];
  for (let z = 0, i = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++, i++) {
        if (maskGt[i] === 0 && maskPred[i] === 0) continue;
        if (z < loZ) loZ = z;
        if (z > hiZ) hiZ = z;
        if (y < loY) loY = y;
        if (y > hiY) hiY = y;
        if (x < loX) loX = x;
        if (x > hiX) hiX = x;
      }
    }
  }
  if (hiZ < 0) return emptySurfaceDistances();
  const box: Box = { lo: [loZ, loY, loX], hi: [hiZ, hiY, hiX] };
  const gt = cropPadded(box, shapeZYX, (i) => maskGt[i] !== 0);
  const pred = cropPadded(box, shapeZYX, (i) => maskPred[i] !== 0);
  return surfaceDistancesInBox(gt, pred, paddedShape(box), spacingMm);
}

/** Inclusive voxel bounds (z, y, x). */
export interface Box {
  readonly lo: Shape3;
  readonly hi: Shape3;
}

/** Shape of a box with one zero voxel added on every side. */
export function paddedShape(box: Box): Shape3 {
  return [box.hi[0] - box.lo[0] + 3, box.hi[1] - box.lo[1] + 3, box.hi[2] - box.lo[2] + 3];
}

/** Copies `inside(flat index)` over a box into a zero-bordered Uint8Array of paddedShape(box). */
export function cropPadded(box: Box, shapeZYX: Shape3, inside: (i: number) => boolean): Uint8Array {
  const [pz, py, px] = paddedShape(box);
  const out = new Uint8Array(pz * py * px);
  const [, ny, nx] = shapeZYX;
  for (let z = box.lo[0]; z <= box.hi[0]; z++) {
    for (let y = box.lo[1]; y <= box.hi[1]; y++) {
      let o = ((z - box.lo[0] + 1) * py + (y - box.lo[1] + 1)) * px + 1;
      let i = (z * ny + y) * nx + box.lo[2];
      for (let x = box.lo[2]; x <= box.hi[2]; x++, i++, o++) if (inside(i)) out[o] = 1;
    }
  }
  return out;
}

/**
 * The library's computation on zero-bordered masks of `padded` shape (every foreground voxel at least
 * one voxel from the edge). Corner (i, j, k) of the (pz−1, py−1, px−1) corner grid sits between padded
 * voxels i and i+1 on each axis.
 */
export function surfaceDistancesInBox(
  gtPadded: Uint8Array,
  predPadded: Uint8Array,
  padded: Shape3,
  spacingMm: Shape3,
): SurfaceDistances {
  const table = surfelAreaTable(spacingMm);
  const corners: Shape3 = [padded[0] - 1, padded[1] - 1, padded[2] - 1];
  const codesGt = neighbourCodes(gtPadded, padded);
  const codesPred = neighbourCodes(predPadded, padded);
  const borderGt = borders(codesGt);
  const borderPred = borders(codesPred);
  // Each EDT is only read at the other mask's surfels, so its last pass skips rows without any.
  const rows = corners[0] * corners[1];
  const distGt =
    borderGt.at.length > 0 && borderPred.at.length > 0
      ? squaredEdt(borderGt.mask, corners, spacingMm, rowsOf(borderPred, corners[2], rows))
      : null;
  const distPred =
    borderPred.at.length > 0 && borderGt.at.length > 0
      ? squaredEdt(borderPred.mask, corners, spacingMm, rowsOf(borderGt, corners[2], rows))
      : null;
  const gtToPred = gather(borderGt, codesGt, distPred, table);
  const predToGt = gather(borderPred, codesPred, distGt, table);
  return {
    distancesGtToPred: gtToPred.distances,
    surfelAreasGt: gtToPred.areas,
    distancesPredToGt: predToGt.distances,
    surfelAreasPred: predToGt.areas,
  };
}

function emptySurfaceDistances(): SurfaceDistances {
  const e = new Float64Array(0);
  return { distancesGtToPred: e, surfelAreasGt: e, distancesPredToGt: e, surfelAreasPred: e };
}

/** scipy.ndimage.correlate(mask, kernel, mode='constant') on the corner grid, as uint8 codes. */
function neighbourCodes(p: Uint8Array, padded: Shape3): Uint8Array {
  const [pz, py, px] = padded;
  const [cz, cy, cx] = [pz - 1, py - 1, px - 1];
  const codes = new Uint8Array(cz * cy * cx);
  const sz = py * px;
  let o = 0;
  for (let i = 0; i < cz; i++) {
    for (let j = 0; j < cy; j++) {
      const a = i * sz + j * px; // (i, j)
      const b = a + px; // (i, j+1)
      const c = a + sz; // (i+1, j)
      const d = c + px; // (i+1, j+1)
      for (let k = 0; k < cx; k++, o++) {
        codes[o] =
          ((p[a + k] as number) << 7) |
          ((p[a + k + 1] as number) << 6) |
          ((p[b + k] as number) << 5) |
          ((p[b + k + 1] as number) << 4) |
          ((p[c + k] as number) << 3) |
          ((p[c + k + 1] as number) << 2) |
          ((p[d + k] as number) << 1) |
          (p[d + k + 1] as number);
      }
    }
  }
  return codes;
}

interface Border {
  /** 1 at surface corners. */
  mask: Uint8Array;
  /** Flat indices of the surface corners, ascending. */
  at: Int32Array;
}

function borders(codes: Uint8Array): Border {
  const mask = new Uint8Array(codes.length);
  let count = 0;
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i] as number;
    if (c !== 0 && c !== 255) {
      mask[i] = 1;
      count++;
    }
  }
  const at = new Int32Array(count);
  for (let i = 0, n = 0; n < count; i++) if (mask[i] === 1) at[n++] = i;
  return { mask, at };
}

/** 1 for each (z, y) row of the corner grid that holds a surface corner: the rows whose distances we read. */
function rowsOf(border: Border, rowLength: number, rows: number): Uint8Array {
  const out = new Uint8Array(rows);
  for (const i of border.at) out[Math.floor(i / rowLength)] = 1;
  return out;
}

/** Distances (mm) and areas at one mask's surfels, sorted by (distance, area). */
function gather(
  border: Border,
  codes: Uint8Array,
  squaredDist: Float64Array | null,
  table: Float64Array,
): { distances: Float64Array; areas: Float64Array } {
  const n = border.at.length;
  const d = new Float64Array(n);
  const c = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    const i = border.at[k] as number;
    d[k] = squaredDist === null ? Infinity : Math.sqrt(squaredDist[i] as number);
    c[k] = codes[i] as number;
  }
  const order = sortByDistanceThenArea(d, c, table);
  return {
    distances: Float64Array.from(order, (i) => d[i] as number),
    areas: Float64Array.from(order, (i) => table[c[i] as number] as number),
  };
}

/**
 * The permutation that sorts surfels by (distance, area) — the library's sorted(zip(...)) — in linear
 * time: two stable counting sorts, by area rank (at most 256 areas) then by rank among the distinct
 * distances (few: sums of squared multiples of the spacing).
 */
function sortByDistanceThenArea(d: Float64Array, codes: Uint8Array, table: Float64Array): Int32Array {
  const n = d.length;
  const byArea = Array.from({ length: 256 }, (_, code) => code).sort(
    (a, b) => (table[a] as number) - (table[b] as number),
  );
  const areaRank = new Int32Array(256);
  byArea.forEach((code, rank) => (areaRank[code] = rank));
  const first = countingSort(
    Int32Array.from({ length: n }, (_, i) => i),
    (i) => areaRank[codes[i] as number] as number,
    256,
  );
  const unique = d.slice().sort();
  let u = 0;
  for (let i = 0; i < unique.length; i++)
    if (i === 0 || unique[i] !== unique[u - 1]) unique[u++] = unique[i] as number;
  const distinct = unique.subarray(0, u);
  const rankOf = new Int32Array(n);
  for (let i = 0; i < n; i++) rankOf[i] = lowerBound(distinct, d[i] as number);
  return countingSort(first, (i) => rankOf[i] as number, u);
}

function countingSort(items: Int32Array, key: (item: number) => number, buckets: number): Int32Array {
  const start = new Int32Array(buckets + 1);
  for (const it of items) {
    const k = key(it) + 1;
    start[k] = (start[k] as number) + 1;
  }
  for (let b = 0; b < buckets; b++) start[b + 1] = (start[b + 1] as number) + (start[b] as number);
  const out = new Int32Array(items.length);
  for (const it of items) {
    const k = key(it);
    const at = start[k] as number;
    out[at] = it;
    start[k] = at + 1;
  }
  return out;
}

function lowerBound(sorted: Float64Array, v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as number) < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** compute_surface_dice_at_tolerance: surfel area within tolerance on both sides / total area (NaN if none). */
export function surfaceDiceAtTolerance(sd: SurfaceDistances, toleranceMm: number): number {
  const overlapGt = numpySum(sd.surfelAreasGt, 0, prefixWithin(sd.distancesGtToPred, toleranceMm));
  const overlapPred = numpySum(sd.surfelAreasPred, 0, prefixWithin(sd.distancesPredToGt, toleranceMm));
  return (overlapGt + overlapPred) / (numpySum(sd.surfelAreasGt) + numpySum(sd.surfelAreasPred));
}

/** Number of sorted distances ≤ tol (they form a prefix). */
function prefixWithin(sorted: Float64Array, tol: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as number) <= tol) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** compute_average_surface_distance: area-weighted mean distance gt→pred and pred→gt (mm). */
export function averageSurfaceDistance(sd: SurfaceDistances): { gtToPred: number; predToGt: number } {
  const weighted = (d: Float64Array, a: Float64Array): number =>
    numpySum(d.map((v, i) => v * (a[i] as number))) / numpySum(a);
  return {
    gtToPred: weighted(sd.distancesGtToPred, sd.surfelAreasGt),
    predToGt: weighted(sd.distancesPredToGt, sd.surfelAreasPred),
  };
}

/** compute_robust_hausdorff: max over both directions of the area-weighted `percent` percentile (mm). */
export function robustHausdorff(sd: SurfaceDistances, percent: number): number {
  return Math.max(
    percentile(sd.distancesGtToPred, sd.surfelAreasGt, percent),
    percentile(sd.distancesPredToGt, sd.surfelAreasPred, percent),
  );
}

function percentile(d: Float64Array, a: Float64Array, percent: number): number {
  if (d.length === 0) return Infinity;
  const total = numpySum(a);
  const target = percent / 100;
  // np.searchsorted(np.cumsum(a) / total, target): first index whose running fraction reaches target.
  let cum = 0;
  for (let i = 0; i < d.length; i++) {
    cum += a[i] as number;
    if (cum / total >= target) return d[i] as number;
  }
  return d[d.length - 1] ?? Infinity; // (d is not empty here)
}
