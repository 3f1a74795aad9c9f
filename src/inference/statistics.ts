/**
 * Per-class statistics of a label map as TotalSegmentator computes them (`statistics.py`
 * `get_basic_statistics`, what `stunet predict --statistics` writes): volume (voxel count × the product of
 * the header's float32 spacings, in mm³), intensity of the image cast to int16 (numpy's `astype(np.int16)`:
 * truncated toward zero; values beyond int16 are clamped here), aggregated as mean or median, and masks
 * that touch the image border — any voxel in the first or last 3 slices of any axis — reported as
 * incomplete and zeroed unless asked. One pass over the voxels and one over the border shell; sums in
 * float64; the median from a histogram of the int16 values, never a copy of the masked voxels.
 */
import { fail } from '../util/errors.js';
import { roundHalfEven } from '../util/rounding.js';
import type { Vec3 } from '../util/vec3.js';

/** TotalSegmentator's `touches_border`: the slabs this thick at each end of every axis. */
export const BORDER_SLICES = 3;

export interface LabelStatisticsEntry {
  /** The label value in the map. */
  readonly label: number;
  readonly voxels: number;
  /** voxels × the voxel volume in mm³ (float32 spacing product, as TotalSegmentator's numpy does). */
  readonly volumeMm3: number;
  /** volumeMm3 / 1000 (mL = cm³). */
  readonly volumeMl: number;
  /** Mean / median of the int16-cast intensities under the label; null without an image or when absent. */
  readonly meanIntensity: number | null;
  readonly medianIntensity: number | null;
  /** A voxel of the label lies in the first or last BORDER_SLICES slices of some axis. */
  readonly touchesBorder: boolean;
}

export interface LabelStatistics {
  /** Volume of one voxel in mm³. */
  readonly voxelVolumeMm3: number;
  /** Keyed by class name. Every named label 1..names.length−1 is listed (voxels 0 when absent); a
   * present label without a name appears as `label_<n>`. Background (0) is left out. */
  readonly labels: Readonly<Record<string, LabelStatisticsEntry>>;
}

type Labels = Uint8Array | Uint16Array;

/** numpy `float → int16` for the values a CT holds: truncation toward zero (clamped beyond the range). */
function toInt16(v: number): number {
  const t = Math.trunc(v);
  return t < -32768 ? -32768 : t > 32767 ? 32767 : t;
}

function checkInputs(labels: Labels, intensities: Float32Array | null, shape: Vec3, spacing: Vec3): void {
  if (shape[0] * shape[1] * shape[2] !== labels.length)
    fail('SHAPE_MISMATCH', `statistics: the label map has ${labels.length} voxels, not ${shape.join('×')}`);
  if (intensities !== null && intensities.length !== labels.length)
    fail(
      'SHAPE_MISMATCH',
      `statistics: the label map has ${labels.length} voxels but the image has ${intensities.length}`,
    );
  if (spacing.some((s) => !Number.isFinite(s) || s <= 0))
    fail('BAD_INPUT', `statistics: spacing must be positive mm values, got [${spacing.join(', ')}]`);
}

/** Which label values occur in the border shell (first/last BORDER_SLICES slices of each axis). */
function borderLabels(labels: Labels, [Z, Y, X]: Vec3, size: number): Uint8Array {
  const seen = new Uint8Array(size);
  const b = BORDER_SLICES;
  const mark = (from: number, to: number): void => {
    for (let i = from; i < to; i++) seen[labels[i] as number] = 1;
  };
  for (let z = 0; z < Z; z++) {
    const plane = z * Y * X;
    if (z < b || z >= Z - b) {
      mark(plane, plane + Y * X);
      continue;
    }
    for (let y = 0; y < Y; y++) {
      const row = plane + y * X;
      if (y < b || y >= Y - b) mark(row, row + X);
      else {
        mark(row, row + Math.min(b, X));
        mark(row + Math.max(Math.min(b, X), X - b), row + X);
      }
    }
  }
  return seen;
}

/** Counts, sums and int16 histograms (range [lo, hi] of the image) per label value. */
function accumulate(
  labels: Labels,
  intensities: Float32Array | null,
  size: number,
): { counts: Float64Array; sums: Float64Array; hist: Map<number, Uint32Array>; lo: number } {
  const counts = new Float64Array(size);
  for (let i = 0; i < labels.length; i++)
    counts[labels[i] as number] = (counts[labels[i] as number] ?? 0) + 1;
  const sums = new Float64Array(size);
  const hist = new Map<number, Uint32Array>();
  if (intensities === null) return { counts, sums, hist, lo: 0 };
  let lo = 32767;
  let hi = -32768;
  for (let i = 0; i < intensities.length; i++) {
    const v = toInt16(intensities[i] as number);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  for (let l = 1; l < size; l++) if ((counts[l] ?? 0) > 0) hist.set(l, new Uint32Array(hi - lo + 1));
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i] as number;
    if (l === 0) continue;
    const v = toInt16(intensities[i] as number);
    sums[l] = (sums[l] as number) + v;
    const h = hist.get(l) as Uint32Array;
    h[v - lo] = (h[v - lo] as number) + 1;
  }
  return { counts, sums, hist, lo };
}

/** numpy's median of the values a histogram counts (the mean of the two middle ones for an even count). */
function histogramMedian(h: Uint32Array, lo: number, n: number): number {
  const at = (rank: number): number => {
    let seen = 0;
    for (let b = 0; b < h.length; b++) {
      seen += h[b] as number;
      if (seen > rank) return b + lo;
    }
    return NaN;
  };
  return n % 2 === 1 ? at((n - 1) / 2) : (at(n / 2 - 1) + at(n / 2)) / 2;
}

/**
 * `names[i]` is the name of label i (names[0], background, is not reported). `labels` is (Z, Y, X) of
 * `shapeZYX`; `intensities` (same voxel order, e.g. the input image in HU) may be null; `spacingZYX` in mm
 * as the header stores it (float32).
 */
export function computeLabelStatistics(
  labels: Labels,
  intensities: Float32Array | null,
  shapeZYX: Vec3,
  spacingZYX: Vec3,
  names: readonly string[],
): LabelStatistics {
  checkInputs(labels, intensities, shapeZYX, spacingZYX);
  const size = labels instanceof Uint8Array ? 256 : 65536;
  const { counts, sums, hist, lo } = accumulate(labels, intensities, size);
  const border = borderLabels(labels, shapeZYX, size);
  // TotalSegmentator: spacing[0] * spacing[1] * spacing[2] of nibabel's float32 zooms (x, y, z), in float32.
  const f = Math.fround;
  const voxelVolumeMm3 = f(f(f(spacingZYX[2]) * f(spacingZYX[1])) * f(spacingZYX[0]));
  const out: Record<string, LabelStatisticsEntry> = {};
  let last = names.length - 1;
  for (let l = last + 1; l < size; l++) if ((counts[l] ?? 0) > 0) last = l;
  for (let l = 1; l <= last; l++) {
    const voxels = counts[l] ?? 0;
    const name = names[l];
    if (name === undefined && voxels === 0) continue;
    const key = name ?? `label_${l}`;
    if (out[key] !== undefined) fail('BAD_INPUT', `statistics: class name '${key}' is used twice`);
    const h = hist.get(l);
    out[key] = {
      label: l,
      voxels,
      volumeMm3: voxels * voxelVolumeMm3,
      volumeMl: (voxels * voxelVolumeMm3) / 1000,
      meanIntensity: h === undefined ? null : (sums[l] ?? NaN) / voxels,
      medianIntensity: h === undefined ? null : histogramMedian(h, lo, voxels),
      touchesBorder: border[l] === 1,
    };
  }
  return { voxelVolumeMm3, labels: out };
}

/** TotalSegmentator's `statistics.json` entry (`volume`, `intensity`) and ours beside it. */
export interface TotalsegStatisticsEntry {
  /** mm³; 0 for an absent or an excluded (border-touching) mask. */
  readonly volume: number;
  /** The chosen aggregation (mean by default) of the int16 intensities, rounded to 5 decimals; 0 likewise. */
  readonly intensity: number;
  readonly volume_ml: number;
  readonly intensity_mean: number;
  readonly intensity_median: number;
  /** The mask touches the image border: it may be cut off, so it is zeroed unless includeIncomplete. */
  readonly touches_border: boolean;
}

export interface TotalsegStatisticsOptions {
  /** TotalSegmentator's `--stats_aggregation` (default 'mean'). */
  readonly aggregation?: 'mean' | 'median';
  /** TotalSegmentator's `--stats_include_incomplete`: measure border-touching masks too (default false). */
  readonly includeIncomplete?: boolean;
  /** TotalSegmentator's `--roi_subset`: only these classes are listed (default: every class). */
  readonly classes?: readonly string[];
}

/**
 * The statistics in TotalSegmentator's layout: `{ name: { volume, intensity, … } }` for every class, volume
 * in mm³ as numpy computes it, intensity rounded to 5 decimals; absent and (unless includeIncomplete)
 * border-touching masks get 0. `volume_ml`, `intensity_mean`, `intensity_median` and `touches_border` are
 * ours; TotalSegmentator's readers ignore them.
 */
export function totalsegStatistics(
  stats: LabelStatistics,
  opts: TotalsegStatisticsOptions = {},
): Record<string, TotalsegStatisticsEntry> {
  // numpy's `.round(5)`: scale, round half to even, scale back
  const round = (v: number | null): number => (v === null ? 0 : roundHalfEven(v * 1e5) / 1e5);
  const keep = opts.classes === undefined ? null : new Set(opts.classes);
  const out: Record<string, TotalsegStatisticsEntry> = {};
  for (const [name, e] of Object.entries(stats.labels)) {
    if (keep !== null && !keep.has(name)) continue;
    const excluded = e.touchesBorder && opts.includeIncomplete !== true;
    const mean = excluded ? 0 : round(e.meanIntensity);
    const median = excluded ? 0 : round(e.medianIntensity);
    out[name] = {
      volume: excluded ? 0 : e.volumeMm3,
      intensity: opts.aggregation === 'median' ? median : mean,
      volume_ml: excluded ? 0 : e.volumeMl,
      intensity_mean: mean,
      intensity_median: median,
      touches_border: e.touchesBorder,
    };
  }
  return out;
}
