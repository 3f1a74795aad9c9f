/**
 * Per-epoch validation as nnU-Net v2 (nnUNetTrainer.validation_step / on_validation_epoch_end): the
 * full-resolution output on a few validation batches → argmax → per foreground class TP/FP/FN summed
 * over all batches → Dice 2TP/(2TP+FP+FN) per class ("pseudo Dice": patches, not whole cases) → mean
 * over classes (NaN classes skipped) → EMA 0.9·old + 0.1·new. And the 5-fold split of nnU-Net.
 */
import type { TrainingBatch } from '../augmentation/pipeline.js';
import { computeCaseMetrics, type LabelArray, type LabelMetrics } from '../evaluation/index.js';
import { predictVolume, type PredictVolumeOptions } from '../inference/predictor.js';
import type { Volume } from '../io/volume.js';
import type { Backend } from '../engine/backend.js';
import { Engine, TensorParams } from '../engine/engine.js';
import type { NetworkFn } from '../inference/tta.js';
import type { StunetArchitecture } from '../model/architecture.js';
import { StuNet } from '../model/stunet.js';
import { Tensor } from '../engine/tensor.js';
import { fail } from '../util/errors.js';
import type { TrainingState } from './train-step.js';
import type { Vec3 } from '../util/vec3.js';

/** numpy.random.RandomState's MT19937 (init_genrand for a scalar seed) — only what the split needs. */
class Mt19937 {
  private readonly mt = new Uint32Array(624);
  private i = 624;
  constructor(seed: number) {
    this.mt[0] = seed >>> 0;
    for (let k = 1; k < 624; k++) {
      const p = this.mt[k - 1] as number;
      this.mt[k] = (Math.imul(1812433253, p ^ (p >>> 30)) + k) >>> 0;
    }
  }
  nextUint32(): number {
    const mt = this.mt;
    if (this.i >= 624) {
      for (let k = 0; k < 624; k++) {
        const y = ((mt[k] as number) & 0x80000000) | ((mt[(k + 1) % 624] as number) & 0x7fffffff);
        mt[k] = (mt[(k + 397) % 624] as number) ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      this.i = 0;
    }
    let y = mt[this.i++] as number;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }
  /** numpy random_interval(max): masked rejection sampling in [0, max]. */
  interval(max: number): number {
    if (max === 0) return 0;
    let mask = max;
    for (const s of [1, 2, 4, 8, 16]) mask |= mask >>> s;
    let v: number;
    do v = (this.nextUint32() & mask) >>> 0;
    while (v > max);
    return v;
  }
}

/** np.random.RandomState(seed).shuffle(np.arange(n)). */
export function numpyShuffledRange(n: number, seed: number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  const rng = new Mt19937(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.interval(i);
    const [ai, aj] = [a[i], a[j]];
    if (ai === undefined || aj === undefined) fail('RUNTIME', `shuffle: index ${j} outside 0…${i}`);
    a[i] = aj;
    a[j] = ai;
  }
  return a;
}

export interface FoldSplit {
  readonly train: string[];
  readonly val: string[];
}

/** nnU-Net's default split seed (generate_crossval_split / do_split). */
export const SPLIT_SEED = 12345;

/**
 * nnU-Net's 5-fold split: sklearn KFold(5, shuffle=True, random_state=12345) over the SORTED case ids
 * (the first n % 5 folds get one case more); train keys in sorted order, val keys in shuffled order.
 * Numbers are numpy's (MT19937 + random_interval), so the folds equal nnU-Net's splits_final.json.
 */
export function crossValidationSplits(ids: readonly string[], folds = 5, seed = SPLIT_SEED): FoldSplit[] {
  const sorted = [...ids].sort();
  if (sorted.length < folds)
    fail(
      'BAD_INPUT',
      `${folds}-fold cross-validation needs at least ${folds} cases, the dataset has ${sorted.length}`,
    );
  const perm = numpyShuffledRange(sorted.length, seed);
  const out: FoldSplit[] = [];
  let start = 0;
  for (let f = 0; f < folds; f++) {
    const size = Math.floor(sorted.length / folds) + (f < sorted.length % folds ? 1 : 0);
    const testIdx = perm.slice(start, start + size);
    start += size;
    const test = new Set(testIdx);
    out.push({
      train: sorted.filter((_, i) => !test.has(i)),
      val: testIdx.map((i) => sorted[i] as string),
    });
  }
  return out;
}

/** TP, FP, FN per foreground class (index c − 1 for class c), summed over batches. */
export interface DiceCounts {
  readonly tp: Float64Array;
  readonly fp: Float64Array;
  readonly fn: Float64Array;
}

export function emptyCounts(numClasses: number): DiceCounts {
  const n = numClasses - 1;
  return { tp: new Float64Array(n), fp: new Float64Array(n), fn: new Float64Array(n) };
}

/** Adds argmax(logits) vs target of one batch; logits (N, K, …), target (N, 1, …). */
export function accumulateCounts(counts: DiceCounts, logits: Tensor, target: ArrayLike<number>): void {
  const [N, K] = logits.shape as [number, number];
  const S = logits.size / (N * K);
  if (target.length !== N * S) fail('SHAPE_MISMATCH', 'validation: target does not match the logits');
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) {
      let best = 0;
      let bestV = -Infinity;
      for (let k = 0; k < K; k++) {
        const v = logits.data[(n * K + k) * S + s] as number;
        if (v > bestV) {
          bestV = v;
          best = k;
        }
      }
      const t = target[n * S + s] as number;
      if (best === t) {
        if (t > 0) counts.tp[t - 1] = (counts.tp[t - 1] as number) + 1;
      } else {
        if (best > 0) counts.fp[best - 1] = (counts.fp[best - 1] as number) + 1;
        if (t > 0) counts.fn[t - 1] = (counts.fn[t - 1] as number) + 1;
      }
    }
  }
}

/** Dice per foreground class (NaN where the class is absent from both). */
export function diceFromCounts(c: DiceCounts): number[] {
  return Array.from(c.tp, (tp, i) => {
    const [fp, fn] = [c.fp[i], c.fn[i]];
    if (fp === undefined || fn === undefined)
      fail('BAD_INPUT', 'dice counts: tp, fp and fn differ in length');
    const den = 2 * tp + fp + fn;
    return den === 0 ? NaN : (2 * tp) / den;
  });
}

/** np.nanmean; NaN when every entry is NaN. */
export function nanMean(xs: readonly number[]): number {
  const v = xs.filter((x) => !Number.isNaN(x));
  return v.length === 0 ? NaN : v.reduce((a, b) => a + b, 0) / v.length;
}

/** nnU-Net v2's ema_fg_dice update; the first epoch takes the value itself. */
export function emaDice(previous: number | null, current: number): number {
  if (previous === null || Number.isNaN(previous)) return current;
  return Number.isNaN(current) ? previous : 0.9 * previous + 0.1 * current;
}

export interface PseudoDiceResult {
  readonly perClass: number[];
  readonly mean: number;
}

/** The network as a NetworkFn for inference: full-resolution output only. */
export function evalNetwork(
  arch: StunetArchitecture,
  weights: ReadonlyMap<string, Tensor>,
  backend: Backend,
): NetworkFn {
  const engine = new Engine(backend);
  const net = new StuNet(arch);
  const params = new TensorParams(weights);
  return (x) => Promise.resolve(net.forward(engine, params, x, { deepSupervision: false }));
}

/** Forward (no deep supervision) over the batches and the pooled per-class Dice. */
export function pseudoDice(state: TrainingState, batches: readonly TrainingBatch[]): PseudoDiceResult {
  const counts = emptyCounts(state.net.arch.numClasses);
  const engine = new Engine(state.backend);
  const params = new TensorParams(state.params);
  for (const b of batches) {
    const x = new Tensor(b.shapeBCZYX, b.data);
    const [logits] = state.net.forward(engine, params, x, { deepSupervision: false });
    const target = b.targets[0];
    if (logits === undefined || target === undefined) fail('RUNTIME', 'validation: no output or target');
    accumulateCounts(counts, logits, target.data);
  }
  const perClass = diceFromCounts(counts);
  return { perClass, mean: nanMean(perClass) };
}

export interface CaseValidation {
  /** (Z, Y, X) on the case's own grid. */
  readonly labels: Uint8Array | Uint16Array;
  readonly metrics: LabelMetrics[];
}

/**
 * The final validation of one case (nnU-Net's validate / perform_actual_validation): sliding-window
 * prediction exactly as `stunet predict` runs it, then Dice & co. against the reference for every
 * foreground label. `volume` (C, Z, Y, X), `reference` (Z, Y, X).
 */
export async function validateCase(
  volume: Volume,
  spacingZYX: Vec3,
  reference: LabelArray,
  labels: readonly number[],
  opts: PredictVolumeOptions,
): Promise<CaseValidation> {
  const r = await predictVolume(volume, spacingZYX, opts);
  const metrics = computeCaseMetrics(reference, r.labels, r.shapeZYX, {
    labelsOrRegions: labels,
    spacingMm: spacingZYX,
  });
  return { labels: r.labels, metrics };
}
