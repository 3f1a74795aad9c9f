/**
 * Per-class volume and mean intensity of a label map (what `stunet predict --statistics` writes, in the
 * spirit of TotalSegmentator's statistics.json). One pass over the voxels; sums in float64.
 */
import { fail } from '../util/errors.js';

export interface LabelStatisticsEntry {
  /** The label value in the map. */
  readonly label: number;
  readonly voxels: number;
  /** voxels × voxelVolumeMl. */
  readonly volumeMl: number;
  /** Mean of the intensities under the label; null without an image or when the label is absent. */
  readonly meanIntensity: number | null;
}

export interface LabelStatistics {
  /** Volume of one voxel in mL (= cm³): spacing product in mm³ / 1000. */
  readonly voxelVolumeMl: number;
  /** Keyed by class name. Every named label 1..names.length−1 is listed (voxels 0 when absent); a
   * present label without a name appears as `label_<n>`. Background (0) is left out. */
  readonly labels: Readonly<Record<string, LabelStatisticsEntry>>;
}

/**
 * `names[i]` is the name of label i (names[0], background, is not reported). `intensities` (same voxel
 * order as `labels`, e.g. the input image in HU) may be null. `spacingZYX` in mm.
 */
export function computeLabelStatistics(
  labels: Uint8Array | Uint16Array,
  intensities: Float32Array | null,
  spacingZYX: readonly [number, number, number],
  names: readonly string[],
): LabelStatistics {
  if (intensities !== null && intensities.length !== labels.length) {
    fail(
      'SHAPE_MISMATCH',
      `statistics: the label map has ${labels.length} voxels but the image has ${intensities.length}`,
    );
  }
  if (spacingZYX.some((s) => !Number.isFinite(s) || s <= 0)) {
    fail('BAD_INPUT', `statistics: spacing must be positive mm values, got [${spacingZYX.join(', ')}]`);
  }
  const size = labels instanceof Uint8Array ? 256 : 65536;
  const counts = new Float64Array(size);
  const sums = new Float64Array(intensities === null ? 0 : size);
  if (intensities === null) {
    for (let i = 0; i < labels.length; i++) {
      const l = labels[i] as number;
      counts[l] = (counts[l] as number) + 1;
    }
  } else {
    for (let i = 0; i < labels.length; i++) {
      const l = labels[i] as number;
      counts[l] = (counts[l] as number) + 1;
      sums[l] = (sums[l] as number) + (intensities[i] as number);
    }
  }
  const voxelVolumeMl = (spacingZYX[0] * spacingZYX[1] * spacingZYX[2]) / 1000;
  const out: Record<string, LabelStatisticsEntry> = {};
  let last = names.length - 1;
  for (let l = last + 1; l < size; l++) if ((counts[l] ?? 0) > 0) last = l;
  for (let l = 1; l <= last; l++) {
    const voxels = counts[l] ?? 0;
    const name = names[l];
    if (name === undefined && voxels === 0) continue;
    const key = name ?? `label_${l}`;
    if (out[key] !== undefined) fail('BAD_INPUT', `statistics: class name '${key}' is used twice`);
    out[key] = {
      label: l,
      voxels,
      volumeMl: voxels * voxelVolumeMl,
      meanIntensity: intensities === null || voxels === 0 ? null : (sums[l] ?? NaN) / voxels,
    };
  }
  return { voxelVolumeMl, labels: out };
}

/** TotalSegmentator's statistics.json entry: volume in mm³, mean intensity (0 where the class is absent). */
export interface TotalsegStatisticsEntry {
  readonly volume: number;
  readonly intensity: number;
}

/**
 * The statistics in TotalSegmentator's layout (`statistics.json`: `{ name: { volume, intensity } }`, every
 * class, volume in mm³ rounded to 4 decimals, intensity rounded to 5 as it does).
 */
export function totalsegStatistics(stats: LabelStatistics): Record<string, TotalsegStatisticsEntry> {
  const round = (v: number, digits: number): number => Number(v.toFixed(digits));
  const out: Record<string, TotalsegStatisticsEntry> = {};
  for (const [name, e] of Object.entries(stats.labels))
    out[name] = { volume: round(e.volumeMl * 1000, 4), intensity: round(e.meanIntensity ?? 0, 5) };
  return out;
}
