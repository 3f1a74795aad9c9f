/**
 * Dataset fingerprint, nnU-Net v2 (dataset_fingerprint/fingerprint_extractor.py): per case, crop to the
 * nonzero region, record spacing and cropped shape (Z, Y, X), and draw foreground intensities per channel
 * (with replacement, so small cases are not under-represented); then statistics over all drawn values.
 * The sampling RNG is ours (mulberry32, seed 1234 per case like nnU-Net's RandomState(1234)), so the drawn
 * values differ from numpy's, but the estimator is the same; `samplesPerCase: 'all'` uses every
 * foreground voxel (exact statistics, used by tests).
 */
import { fail } from '../util/errors.js';
import type { Volume } from '../io/volume.js';
import { cropToNonzero } from '../preprocessing/crop.js';
import { selectRanks } from '../util/order-statistics.js';
import { Rng } from '../util/random.js';

/** nnU-Net: "let's use 10e7 voxels in total (for the entire dataset)". */
export const FOREGROUND_VOXELS_FOR_INTENSITY_STATS = 10e7;
export const FINGERPRINT_SEED = 1234;

export interface IntensityStats {
  mean: number;
  median: number;
  std: number;
  min: number;
  max: number;
  percentile_99_5: number;
  percentile_00_5: number;
}

/** dataset_fingerprint.json with nnU-Net's keys; spacings and shapes are (Z, Y, X) as SimpleITK gives. */
export interface DatasetFingerprint {
  spacings: [number, number, number][];
  shapes_after_crop: [number, number, number][];
  /** Keyed "0", "1", … (JSON object keys) like nnU-Net's json dump of an int-keyed dict. */
  foreground_intensity_properties_per_channel: Record<string, IntensityStats>;
  median_relative_size_after_cropping: number;
}

export interface CaseFingerprint {
  readonly spacingZYX: [number, number, number];
  readonly shapeAfterCrop: [number, number, number];
  readonly relativeSizeAfterCropping: number;
  /** Drawn foreground intensities per channel. */
  readonly samples: Float32Array[];
}

export function samplesPerCase(numCases: number): number {
  return Math.floor(FOREGROUND_VOXELS_FOR_INTENSITY_STATS / numCases);
}

/**
 * analyze_case: `images` (C, Z, Y, X), `seg` (1, Z, Y, X) labels; foreground = label > 0 after cropping
 * (voxels outside the nonzero mask become −1, so they never count).
 */
export function analyzeCase(
  images: Volume,
  seg: Volume<Int16Array>,
  spacingZYX: readonly [number, number, number],
  numSamples: number | 'all',
  seed = FINGERPRINT_SEED,
): CaseFingerprint {
  const [c, z, y, x] = images.shape;
  const cropped = cropToNonzero(images, seg, -1);
  const [, cz, cy, cx] = cropped.data.shape;
  const n = cz * cy * cx;
  const fg: number[] = [];
  const s = cropped.seg.data;
  for (let i = 0; i < n; i++) if ((s[i] ?? 0) > 0) fg.push(i);
  const rng = new Rng(seed);
  const samples: Float32Array[] = [];
  for (let ch = 0; ch < c; ch++) {
    const d = cropped.data.data.subarray(ch * n, (ch + 1) * n);
    if (fg.length === 0) {
      samples.push(new Float32Array(0));
    } else if (numSamples === 'all') {
      samples.push(Float32Array.from(fg, (i) => d[i] ?? 0));
    } else {
      const out = new Float32Array(numSamples);
      for (let k = 0; k < numSamples; k++) out[k] = d[fg[Math.floor(rng.next() * fg.length)] ?? 0] ?? 0;
      samples.push(out);
    }
  }
  return {
    spacingZYX: [spacingZYX[0], spacingZYX[1], spacingZYX[2]],
    shapeAfterCrop: [cz, cy, cx],
    relativeSizeAfterCropping: n / (z * y * x),
    samples,
  };
}

/** Sorted positions numpy.percentile(q) interpolates between (n > 0), and the weight of the upper one. */
function percentilePositions(n: number, q: number): { lo: number; hi: number; frac: number } {
  const pos = (q / 100) * (n - 1);
  const lo = Math.floor(pos);
  return { lo, hi: Math.min(lo + 1, n - 1), frac: pos - lo };
}

/** numpy.percentile with the default linear interpolation, on a sorted array. */
export function percentileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const { lo, hi, frac } = percentilePositions(n, q);
  const a = sorted[lo] ?? NaN;
  const b = sorted[hi] ?? NaN;
  return a + (b - a) * frac;
}

/** numpy.median over rows, per column (np.median(x, 0)). */
export function medianPerAxis(rows: readonly (readonly number[])[]): number[] {
  const first = rows[0];
  if (first === undefined) fail('BAD_INPUT', 'fingerprint: no cases');
  return first.map((_, a) =>
    percentileSorted(
      rows.map((r) => r[a] ?? NaN).sort((p, q) => p - q),
      50,
    ),
  );
}

/**
 * nnU-Net's foreground intensity statistics (np.mean, np.median, np.std, min, max, np.percentile 99.5 and
 * 0.5). The order statistics come from a radix select (exact, no sort of the up to 10e7 samples).
 */
export function intensityStats(values: Float32Array): IntensityStats {
  const n = values.length;
  if (n === 0) {
    fail('BAD_INPUT', 'fingerprint: no foreground voxels in any case; the labels are all background');
  }
  // The sorted array at the ranks numpy.percentile reads (min, max, and both sides of each percentile).
  const ranks = [
    0,
    n - 1,
    ...[50, 99.5, 0.5].flatMap((q) => {
      const { lo, hi } = percentilePositions(n, q);
      return [lo, hi];
    }),
  ];
  const picked = selectRanks(values, ranks);
  const sorted: ArrayLike<number> = { length: n, ...Object.fromEntries(ranks.map((r, i) => [r, picked[i]])) };
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i] as number;
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = (values[i] as number) - mean;
    ss += d * d;
  }
  return {
    mean,
    median: percentileSorted(sorted, 50),
    std: Math.sqrt(ss / n), // np.std: population (ddof 0)
    min: sorted[0] ?? NaN,
    max: sorted[n - 1] ?? NaN,
    percentile_99_5: percentileSorted(sorted, 99.5),
    percentile_00_5: percentileSorted(sorted, 0.5),
  };
}

/** DatasetFingerprintExtractor.run: combine the cases. */
export function combineFingerprints(
  cases: readonly CaseFingerprint[],
  numChannels: number,
): DatasetFingerprint {
  if (cases.length === 0) fail('BAD_INPUT', 'fingerprint: the dataset has no cases');
  const props: Record<string, IntensityStats> = {};
  for (let ch = 0; ch < numChannels; ch++) {
    const total = cases.reduce((s, c) => s + (c.samples[ch]?.length ?? 0), 0);
    const all = new Float32Array(total);
    let o = 0;
    for (const c of cases) {
      const s = c.samples[ch] ?? new Float32Array(0);
      all.set(s, o);
      o += s.length;
    }
    props[String(ch)] = intensityStats(all);
  }
  return {
    spacings: cases.map((c) => c.spacingZYX),
    shapes_after_crop: cases.map((c) => c.shapeAfterCrop),
    foreground_intensity_properties_per_channel: props,
    median_relative_size_after_cropping: percentileSorted(
      cases.map((c) => c.relativeSizeAfterCropping).sort((a, b) => a - b),
      50,
    ),
  };
}
