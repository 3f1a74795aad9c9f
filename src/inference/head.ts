/**
 * The final 1×1×1 classification head (`seg_outputs`) applied outside the network. A network that returns
 * its last decoder feature map (C channels) instead of the K-class logits lets the sliding window apply
 * the head, the softmax and the Gaussian-weighted accumulation a few tile planes at a time, so no
 * (K × patch) array exists: with K = 105 that array alone is 0.9 GB per copy at 128³.
 */
import { fail } from '../util/errors.js';

export interface ClassHead {
  /** K: logits per voxel. */
  readonly classes: number;
  /** C: feature channels the network returns. */
  readonly channels: number;
  /** (C, d, h, w) features, channel-major → (K, d, h, w) logits: bias + W·f per voxel (float32 result). */
  apply(
    features: Float32Array,
    dims: readonly [number, number, number],
  ): Float32Array | Promise<Float32Array>;
  /**
   * Optional fused v1 step (nnU-Net v1's softmax per TTA pass, averaged, Gaussian-weighted, added):
   * `features` holds one (C, n) chunk per TTA pass (already flipped back), `weight` n Gaussian values
   * (null = 1), `sums` the running sums of those n voxels, voxel-major (n, K). Returns
   * sums + weight · Σ_p softmax(head(features_p)) / P, float32 as torch computes it, voxel-major (n, K):
   * `sums` itself or another array (valid until the next call). Used for v1 aggregation when set.
   */
  accumulateSoftmax?(
    features: readonly Float32Array[],
    n: number,
    weight: Float32Array | null,
    sums: Float32Array,
  ): Promise<Float32Array>;
}

/** Voxels of a (C, d, h, w) feature block, checked against its length. */
export function headVoxels(
  features: Float32Array,
  channels: number,
  dims: readonly [number, number, number],
): number {
  const voxels = dims[0] * dims[1] * dims[2];
  if (features.length !== channels * voxels)
    fail('SHAPE_MISMATCH', `class head: expected ${channels}×${voxels} features, got ${features.length}`);
  return voxels;
}

/**
 * Plain-JS head from the weights of `seg_outputs.<last>` (weight (K, C, 1, 1, 1), bias (K)); float32
 * products summed in float64, rounded once.
 */
export function jsClassHead(weight: Float32Array, bias: Float32Array): ClassHead {
  const classes = bias.length;
  if (classes < 1 || weight.length % classes !== 0)
    fail('SHAPE_MISMATCH', `class head: weight of ${weight.length} values does not fit ${classes} classes`);
  const channels = weight.length / classes;
  return {
    classes,
    channels,
    apply(features: Float32Array, dims: readonly [number, number, number]): Float32Array {
      const voxels = headVoxels(features, channels, dims);
      const out = new Float32Array(classes * voxels);
      const acc = new Float64Array(voxels);
      for (const [k, b] of bias.entries()) {
        acc.fill(b);
        for (let c = 0; c < channels; c++) {
          const w = weight[k * channels + c] as number;
          const f = c * voxels;
          for (let i = 0; i < voxels; i++) acc[i] = (acc[i] as number) + w * (features[f + i] as number);
        }
        out.set(acc, k * voxels);
      }
      return out;
    },
  };
}

const POW2 = Float64Array.from({ length: 1100 }, (_, i) => Math.pow(2, i - 1080));
const LN2_HI = 6.9314718036912382e-1;
const LN2_LO = 1.9082149292705877e-10;

/**
 * e^x for x ≤ 0 (softmax after subtracting the max), relative error < 1e-9 — far below float32's 6e-8,
 * where the probabilities end — at about twice the speed of Math.exp in V8. Range reduction
 * x = k·ln 2 + r (|r| ≤ ln 2 / 2, ln 2 in two parts), degree-8 Taylor for e^r, 2^k from a table.
 */
export function expNonPositive(x: number): number {
  if (!(x > -745)) return x === x ? 0 : NaN;
  const k = (x * Math.LOG2E - 0.5) | 0;
  const r = x - k * LN2_HI - k * LN2_LO;
  const p =
    1 +
    r *
      (1 +
        r * (0.5 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720 + r * (1 / 5040 + r / 40320)))))));
  return p * (POW2[k + 1080] as number);
}

/** Scratch of softmaxAccumulate, reused across calls of the same size. */
export interface SoftmaxScratch {
  exps: Float64Array;
  max: Float64Array;
  sum: Float64Array;
}

/**
 * out += scale · softmax over K of (K, n) logits, per voxel: max, exponentials and their sum in float64,
 * each probability rounded to float32 before scaling (what softmaxChannels + the TTA mean compute). Loops
 * run class-major over contiguous voxels (cache-friendly for large K).
 */
export function softmaxAccumulate(
  logits: Float32Array,
  K: number,
  n: number,
  scale: number,
  out: Float32Array,
  scratch: SoftmaxScratch | null,
): SoftmaxScratch {
  const s =
    scratch !== null && scratch.exps.length === K * n
      ? scratch
      : { exps: new Float64Array(K * n), max: new Float64Array(n), sum: new Float64Array(n) };
  const { exps, max, sum } = s;
  max.fill(-Infinity);
  sum.fill(0);
  for (let k = 0; k < K; k++) {
    const o = k * n;
    for (let i = 0; i < n; i++) {
      const v = logits[o + i] as number;
      if (v > (max[i] as number)) max[i] = v;
    }
  }
  for (let k = 0; k < K; k++) {
    const o = k * n;
    for (let i = 0; i < n; i++) {
      const e = expNonPositive((logits[o + i] as number) - (max[i] as number));
      exps[o + i] = e;
      sum[i] = (sum[i] as number) + e;
    }
  }
  for (let k = 0; k < K; k++) {
    const o = k * n;
    for (let i = 0; i < n; i++)
      out[o + i] = (out[o + i] as number) + scale * Math.fround((exps[o + i] as number) / (sum[i] as number));
  }
  return s;
}
