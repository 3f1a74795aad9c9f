/**
 * The normalisation half of nnU-Net v1.7.1 `GenericPreprocessor.resample_and_normalize`, per channel of
 * a float32 (C, Z, Y, X) volume. Float32 arithmetic is reproduced by rounding each step with
 * Math.fround, including NumPy's blocked pairwise float32 summation for means and stds.
 */
import { fail } from '../util/errors.js';
import type { Volume } from '../io/volume.js';

/** Per-modality intensity statistics from the plans (`dataset_properties.intensityproperties[c]`). */
export interface IntensityProperties {
  readonly mean: number;
  readonly sd: number;
  readonly percentile_00_5: number;
  readonly percentile_99_5: number;
}

export interface NormalizationOptions {
  /** Per channel: 'CT', 'CT2', 'noNorm'; anything else ('nonCT', 'MRI', …) is per-image z-scoring. */
  readonly schemes: readonly string[];
  /** Per channel: normalise only inside seg[-1] ≥ 0 and set the rest to 0. */
  readonly useNonzeroMask: readonly boolean[];
  /** Required for 'CT' / 'CT2'. */
  readonly intensityProperties?: readonly IntensityProperties[] | null;
}

const f = Math.fround;

/** NumPy's float32 `pairwise_sum` (loops_utils.h): 8 running sums in blocks of ≤ 128, halves above. */
function pairwiseSumF32(a: Float32Array, start: number, n: number): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res = f(res + (a[start + i] as number));
    return res;
  }
  if (n <= 128) {
    let r0 = a[start] as number;
    let r1 = a[start + 1] as number;
    let r2 = a[start + 2] as number;
    let r3 = a[start + 3] as number;
    let r4 = a[start + 4] as number;
    let r5 = a[start + 5] as number;
    let r6 = a[start + 6] as number;
    let r7 = a[start + 7] as number;
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      const p = start + i;
      r0 = f(r0 + (a[p] as number));
      r1 = f(r1 + (a[p + 1] as number));
      r2 = f(r2 + (a[p + 2] as number));
      r3 = f(r3 + (a[p + 3] as number));
      r4 = f(r4 + (a[p + 4] as number));
      r5 = f(r5 + (a[p + 5] as number));
      r6 = f(r6 + (a[p + 6] as number));
      r7 = f(r7 + (a[p + 7] as number));
    }
    let res = f(f(f(r0 + r1) + f(r2 + r3)) + f(f(r4 + r5) + f(r6 + r7)));
    for (; i < n; i++) res = f(res + (a[start + i] as number));
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return f(pairwiseSumF32(a, start, n2) + pairwiseSumF32(a, start + n2, n - n2));
}

/**
 * `np.add.reduce` of a contiguous float32 array: the iterator hands the loop chunks of 8192 (NPY_BUFSIZE)
 * elements, each summed pairwise, accumulated in float32.
 */
export function numpySumF32(a: Float32Array): number {
  let acc = 0;
  for (let s = 0; s < a.length; s += 8192) acc = f(acc + pairwiseSumF32(a, s, Math.min(8192, a.length - s)));
  return acc;
}

/** float32 `x.mean()` and `x.std()` (ddof 0) of the selected values, reproducing NumPy's arithmetic. */
function meanStd(x: Float32Array, select: ((i: number) => boolean) | null): { mean: number; std: number } {
  let vals = x;
  if (select) {
    // x[mask] is a compacted copy in NumPy too.
    const picked: number[] = [];
    for (let i = 0; i < x.length; i++) if (select(i)) picked.push(x[i] as number);
    vals = Float32Array.from(picked);
  }
  const n = vals.length;
  const mean = f(numpySumF32(vals) / n);
  const sq = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const d = f((vals[i] as number) - mean);
    sq[i] = d * d;
  }
  return { mean, std: f(Math.sqrt(f(numpySumF32(sq) / n))) };
}

function intensity(opts: NormalizationOptions, c: number, scheme: string): IntensityProperties {
  const p = opts.intensityProperties?.[c];
  if (p === undefined)
    fail(
      'BAD_INPUT',
      `normalize: scheme '${scheme}' for channel ${c} needs intensity properties from the plans`,
    );
  return p;
}

/**
 * Returns a new float32 volume. `seg` is needed only where a channel uses the nonzero mask; its last
 * channel is the mask marker (−1 outside).
 */
export function normalizeIntensities(
  data: Volume,
  seg: Volume<Int16Array> | null,
  opts: NormalizationOptions,
): Volume {
  const [c, d0, d1, d2] = data.shape;
  const n = d0 * d1 * d2;
  if (opts.schemes.length !== c || opts.useNonzeroMask.length !== c) {
    fail('BAD_INPUT', `normalize: need one scheme and one use_nonzero_mask per channel (${c} channels)`);
  }
  const out = new Float32Array(data.data);
  let marker: Int16Array | null = null;
  if (seg !== null) {
    if (seg.shape[1] !== d0 || seg.shape[2] !== d1 || seg.shape[3] !== d2) {
      fail(
        'SHAPE_MISMATCH',
        `normalize: seg shape [${seg.shape.join(', ')}] does not match data [${data.shape.join(', ')}]`,
      );
    }
    const last = seg.shape[0] - 1;
    marker = seg.data.subarray(last * n, (last + 1) * n);
  }
  for (let ch = 0; ch < c; ch++) {
    const x = out.subarray(ch * n, (ch + 1) * n);
    const scheme = opts.schemes[ch] as string;
    const useMask = opts.useNonzeroMask[ch] === true;
    if (useMask && marker === null)
      fail('BAD_INPUT', `normalize: channel ${ch} uses the nonzero mask but no seg was given`);
    const m = marker;
    if (scheme === 'CT') {
      // Clip to the foreground percentiles, z-score with the dataset foreground mean/sd (float32 ops).
      const p = intensity(opts, ch, scheme);
      const lo = f(p.percentile_00_5);
      const hi = f(p.percentile_99_5);
      const mean = f(p.mean);
      const sd = f(p.sd);
      for (let i = 0; i < n; i++) {
        const v = x[i] as number;
        x[i] = f(f((v < lo ? lo : v > hi ? hi : v) - mean) / sd);
      }
      if (useMask && m) for (let i = 0; i < n; i++) if ((m[i] as number) < 0) x[i] = 0;
    } else if (scheme === 'CT2') {
      const p = intensity(opts, ch, scheme);
      const lo = f(p.percentile_00_5);
      const hi = f(p.percentile_99_5);
      const inRange = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const v = x[i] as number;
        inRange[i] = v > lo && v < hi ? 1 : 0;
        x[i] = v < lo ? lo : v > hi ? hi : v;
      }
      const { mean, std } = meanStd(x, (i) => inRange[i] === 1);
      for (let i = 0; i < n; i++) x[i] = f(f((x[i] as number) - mean) / std);
      if (useMask && m) for (let i = 0; i < n; i++) if ((m[i] as number) < 0) x[i] = 0;
    } else if (scheme === 'noNorm') {
      continue;
    } else if (useMask && m) {
      const inside = (i: number): boolean => (m[i] as number) >= 0;
      const { mean, std } = meanStd(x, inside);
      const div = f(std + 1e-8);
      for (let i = 0; i < n; i++) x[i] = inside(i) ? f(f((x[i] as number) - mean) / div) : 0;
    } else {
      const { mean, std } = meanStd(x, null);
      const div = f(std + 1e-8);
      for (let i = 0; i < n; i++) x[i] = f(f((x[i] as number) - mean) / div);
    }
  }
  return { data: out, shape: data.shape };
}
