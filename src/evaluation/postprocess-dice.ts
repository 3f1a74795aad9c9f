/**
 * Per-class counts for determinePostprocessing: the raw prediction is counted once per case (TP, voxels
 * predicted, voxels in the reference), and each post-processed variant only by the voxels it changed —
 * a few thousand, not the whole volume. The metrics are those of `regionCounts` (metrics.ts: Dice =
 * 2TP/(2TP+FP+FN), NaN when TP+FP+FN = 0, as nnU-Net v1's evaluator), ready for `summarize`.
 */
import type { LabelArray } from './confusion.js';
import { labelOrRegionKey, type LabelMetrics } from './metrics.js';

/**
 * The labels in the smallest unsigned type that holds them (a copy): NIfTI maps arrive as float32, and
 * each variant of a case is a copy.
 */
export function compactLabels(labels: LabelArray): LabelArray {
  let max = 0;
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i] as number;
    if (v === 0) continue;
    if (!(v > 0 && (v | 0) === v)) return labels.slice(); // negative, fractional, NaN or ≥ 2³¹
    if (v > max) max = v;
  }
  const out = max < 256 ? new Uint8Array(labels.length) : max < 65536 ? new Uint16Array(labels.length) : null;
  if (out === null) return labels.slice();
  out.set(labels);
  return out;
}

export interface ClassCounts {
  readonly classes: readonly number[];
  /** value → slot in `classes`, −1 for any other value (a dense table over 0 … max class). */
  readonly slotOf: Int32Array;
  readonly tp: Float64Array;
  readonly nPred: Float64Array;
  readonly nRef: Float64Array;
  readonly total: number;
}

const slot = (table: Int32Array, v: number): number => table[v] ?? -1;

/** One pass over a (reference, prediction) pair. */
export function countClasses(
  reference: LabelArray,
  prediction: LabelArray,
  classes: readonly number[],
): ClassCounts {
  const slotOf = new Int32Array(Math.max(0, ...classes) + 1).fill(-1);
  classes.forEach((c, i) => {
    slotOf[c] = i;
  });
  const k = classes.length;
  const tp = new Float64Array(k);
  const nPred = new Float64Array(k);
  const nRef = new Float64Array(k);
  for (let i = 0; i < prediction.length; i++) {
    const p = prediction[i] as number;
    const r = reference[i] as number;
    if (p === 0 && r === 0) continue;
    const sp = slot(slotOf, p);
    const sr = slot(slotOf, r);
    if (sp >= 0) nPred[sp] = (nPred[sp] as number) + 1;
    if (sr >= 0) nRef[sr] = (nRef[sr] as number) + 1;
    if (sp >= 0 && p === r) tp[sp] = (tp[sp] as number) + 1;
  }
  return { classes, slotOf, tp, nPred, nRef, total: prediction.length };
}

/** The counts of `changed`, a copy of `base` with some voxels relabelled (post-processing). */
export function countChanges(
  counts: ClassCounts,
  reference: LabelArray,
  base: LabelArray,
  changed: LabelArray,
): ClassCounts {
  const tp = counts.tp.slice();
  const nPred = counts.nPred.slice();
  const { slotOf } = counts;
  for (let i = 0; i < base.length; i++) {
    const was = base[i] as number;
    const now = changed[i] as number;
    if (was === now) continue;
    const r = reference[i] as number;
    const a = slot(slotOf, was);
    const b = slot(slotOf, now);
    if (a >= 0) {
      nPred[a] = (nPred[a] as number) - 1;
      if (r === was) tp[a] = (tp[a] as number) - 1;
    }
    if (b >= 0) {
      nPred[b] = (nPred[b] as number) + 1;
      if (r === now) tp[b] = (tp[b] as number) + 1;
    }
  }
  return { ...counts, tp, nPred };
}

/** regionCounts' metrics per class, from the counts. */
export function countsToMetrics(c: ClassCounts): LabelMetrics[] {
  return c.classes.map((label, s) => {
    const tp = c.tp[s] as number;
    const nPred = c.nPred[s] as number;
    const nRef = c.nRef[s] as number;
    const fp = nPred - tp;
    const fn = nRef - tp;
    const empty = tp + fp + fn === 0;
    return {
      key: labelOrRegionKey(label),
      labelOrRegion: label,
      metrics: {
        Dice: empty ? NaN : (2 * tp) / (2 * tp + fp + fn),
        IoU: empty ? NaN : tp / (tp + fp + fn),
        FP: fp,
        TP: tp,
        FN: fn,
        TN: c.total - tp - fp - fn,
        n_pred: nPred,
        n_ref: nRef,
      },
    };
  });
}
