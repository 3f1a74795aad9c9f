import { fail } from '../../util/errors.js';
import { mat4, type Mat4 } from '../geometry.js';
import { getNumbers } from './parse.js';
import type { DicomSlice } from './series.js';

/**
 * A series' geometry with dcm2niix's semantics: slices sorted along the slice normal n = row × column
 * (ascending), spacing from the positions (not SliceThickness), the rows flipped (NIfTI j = rows − 1 − row),
 * and the RAS affine that dcm2niix writes for that voxel order.
 */
export interface SeriesGeometry {
  /** Slices in NIfTI k order. */
  readonly slices: readonly DicomSlice[];
  /** Voxel (i, j, k) → RAS mm. */
  readonly affine: Mat4;
  /** Distance between slice planes (mm). */
  readonly step: number;
  /** Gantry tilt: per slice, the in-plane offset (columns, rows, in pixels) of slice k from slice 0's grid. */
  readonly tilt?: { readonly degrees: number; readonly offsets: readonly (readonly [number, number])[] };
}

type V3 = readonly [number, number, number];

const dot = (a: V3, b: V3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a: V3, b: V3): V3 => [
  a[1] * b[2] - a[2] * b[1],
  a[2] * b[0] - a[0] * b[2],
  a[0] * b[1] - a[1] * b[0],
];
const v3 = (a: readonly number[], from = 0): V3 => [a[from] ?? 0, a[from + 1] ?? 0, a[from + 2] ?? 0];
const fmt = (a: readonly number[]): string => a.map((x) => Number(x.toFixed(4))).join('\\');

/** Position tolerance (mm) for "the same", "on the grid" and "in plane". */
const TOL_MM = 0.01;

function checkSameGrid(slices: readonly DicomSlice[]): void {
  const a = slices[0];
  if (a === undefined) fail('BAD_INPUT', 'dicom: an empty series');
  for (const b of slices) {
    if (a.orientation.some((v, i) => Math.abs(v - (b.orientation[i] ?? NaN)) > 1e-4)) {
      fail(
        'BAD_INPUT',
        `dicom: mixed orientations in one series: ${a.name} has ImageOrientationPatient ${fmt(a.orientation)}, ${b.name} has ${fmt(b.orientation)}`,
      );
    }
    if (b.info.rows !== a.info.rows || b.info.columns !== a.info.columns) {
      fail(
        'BAD_INPUT',
        `dicom: mixed image sizes in one series: ${a.name} is ${a.info.columns}×${a.info.rows}, ${b.name} is ${b.info.columns}×${b.info.rows}`,
      );
    }
    if (
      Math.abs(a.pixelSpacing[0] - b.pixelSpacing[0]) > 1e-4 ||
      Math.abs(a.pixelSpacing[1] - b.pixelSpacing[1]) > 1e-4
    ) {
      fail(
        'BAD_INPUT',
        `dicom: mixed pixel spacings in one series: ${a.name} has ${fmt(a.pixelSpacing)}, ${b.name} has ${fmt(b.pixelSpacing)}`,
      );
    }
  }
}

function checkSteps(sorted: readonly DicomSlice[], depth: readonly number[]): number {
  const steps = depth.slice(1).map((d, i) => d - (depth[i] ?? 0));
  steps.forEach((s, i) => {
    if (s < TOL_MM) {
      fail(
        'BAD_INPUT',
        `dicom: duplicate slice position: ${sorted[i]?.name} and ${sorted[i + 1]?.name} are both at ${fmt([depth[i] ?? 0])} mm along the slice normal (several acquisitions, echoes or time points in one series?)`,
      );
    }
  });
  const typical = [...steps].sort((a, b) => a - b)[Math.floor(steps.length / 2)] ?? 0;
  steps.forEach((s, i) => {
    if (Math.abs(s - typical) > Math.max(TOL_MM, 0.01 * typical)) {
      const kind = s > typical ? `a gap of ${fmt([s])} mm` : `slices only ${fmt([s])} mm apart`;
      fail(
        'BAD_INPUT',
        `dicom: uneven slice spacing: ${kind} between ${sorted[i]?.name} (${fmt([depth[i] ?? 0])} mm) and ${sorted[i + 1]?.name} (${fmt([depth[i + 1] ?? 0])} mm) where the others are ${fmt([typical])} mm apart${s > typical ? ' (missing slices?)' : ''}`,
      );
    }
  });
  return typical;
}

/** In-plane drift of each slice's position from slice 0's (mm along row, column directions). */
function drift(
  sorted: readonly DicomSlice[],
  depth: readonly number[],
  r: V3,
  c: V3,
  n: V3,
): (readonly [number, number])[] {
  const p0 = v3(sorted[0]?.position ?? []);
  const d0 = depth[0] ?? 0;
  return sorted.map((s, k) => {
    const p = v3(s.position);
    const dk = (depth[k] ?? 0) - d0;
    const o: V3 = [p[0] - p0[0] - dk * n[0], p[1] - p0[1] - dk * n[1], p[2] - p0[2] - dk * n[2]];
    return [dot(o, r), dot(o, c)];
  });
}

function tiltOf(
  sorted: readonly DicomSlice[],
  depth: readonly number[],
  offsets: readonly (readonly [number, number])[],
  allowTilt: boolean,
): SeriesGeometry['tilt'] {
  const last = offsets[offsets.length - 1] ?? [0, 0];
  const span = (depth[depth.length - 1] ?? 0) - (depth[0] ?? 0);
  // in plane, a drift under a tenth of a pixel (rounding in the positions) is not a tilt
  const px = sorted[0]?.pixelSpacing ?? [1, 1];
  const tol = Math.max(TOL_MM, 0.1 * Math.min(px[0], px[1]));
  if (offsets.every((o) => Math.hypot(o[0], o[1]) <= tol)) return undefined;
  // a tilt moves the positions linearly with depth; anything else is not one stack
  const rate = [last[0] / span, last[1] / span] as const;
  offsets.forEach((o, k) => {
    const d = (depth[k] ?? 0) - (depth[0] ?? 0);
    if (Math.hypot(o[0] - rate[0] * d, o[1] - rate[1] * d) > tol) {
      fail(
        'BAD_INPUT',
        `dicom: the slice positions do not lie on a line: ${sorted[k]?.name} is ${fmt(o)} mm off in plane from ${sorted[0]?.name}`,
      );
    }
  });
  const degrees = (Math.atan(Math.hypot(rate[0], rate[1])) * 180) / Math.PI;
  if (!allowTilt) {
    fail(
      'BAD_INPUT',
      `dicom: gantry tilt of ${degrees.toFixed(2)}°: the slice positions move ${fmt([Math.hypot(last[0], last[1])])} mm in plane over the stack (${sorted[0]?.name} → ${sorted[sorted.length - 1]?.name}); pass allowTilt (--allow-tilt) to resample onto a regular grid`,
    );
  }
  const s = sorted[0]?.pixelSpacing ?? [1, 1];
  return { degrees, offsets: offsets.map((o) => [o[0] / s[1], o[1] / s[0]] as const) };
}

/** Sorts a series along its normal and checks it is one regular stack; the dcm2niix affine. */
export function seriesGeometry(
  slices: readonly DicomSlice[],
  options: { allowTilt?: boolean } = {},
): SeriesGeometry {
  checkSameGrid(slices);
  const first = slices[0];
  if (first === undefined) fail('BAD_INPUT', 'dicom: an empty series');
  const r = v3(first.orientation, 0);
  const c = v3(first.orientation, 3);
  const n = cross(r, c);
  if (Math.abs(Math.hypot(...n) - 1) > 1e-3 || Math.abs(dot(r, c)) > 1e-3) {
    fail(
      'BAD_INPUT',
      `dicom: ${first.name}: ImageOrientationPatient ${fmt(first.orientation)} is not two orthogonal unit vectors`,
    );
  }
  const sorted = [...slices].sort(
    (a, b) => dot(v3(a.position), n) - dot(v3(b.position), n) || (a.name < b.name ? -1 : 1),
  );
  const depth = sorted.map((s) => dot(v3(s.position), n));
  let step: number;
  let tilt: SeriesGeometry['tilt'];
  if (sorted.length === 1) {
    step = getNumbers(first.ds, 0x00180088)?.[0] ?? getNumbers(first.ds, 0x00180050)?.[0] ?? 1;
  } else {
    step = checkSteps(sorted, depth);
    tilt = tiltOf(sorted, depth, drift(sorted, depth, r, c, n), options.allowTilt === true);
  }
  const [rs, cs] = first.pixelSpacing;
  const rows = first.info.rows;
  const p0 = v3(sorted[0]?.position ?? []);
  const pN = v3(sorted[sorted.length - 1]?.position ?? []);
  // k: from the first to the last position (dcm2niix), or step·n for one slice or a corrected tilt
  const kcol = [0, 1, 2].map((a) =>
    sorted.length > 1 && tilt === undefined
      ? ((pN[a] ?? 0) - (p0[a] ?? 0)) / (sorted.length - 1)
      : step * (n[a] ?? 0),
  );
  const lps = [0, 1, 2].map((a) => {
    const [ra, ca, pa] = [r[a] ?? 0, c[a] ?? 0, p0[a] ?? 0];
    return [cs * ra, -rs * ca, kcol[a] ?? 0, pa + (rows - 1) * rs * ca];
  });
  const ras = lps.map((row, a) => (a < 2 ? row.map((v) => 0 - v) : row));
  return { slices: sorted, affine: mat4(ras), step, ...(tilt !== undefined ? { tilt } : {}) };
}
