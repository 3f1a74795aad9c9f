/**
 * Per-case metrics as nnU-Net v2 computes them (nnunetv2/evaluation/evaluate_predictions.py,
 * compute_metrics): for every label or region, TP/FP/FN/TN over the voxels whose reference is not the
 * ignore label, Dice = 2TP/(2TP+FP+FN), IoU = TP/(TP+FP+FN), both NaN when TP+FP+FN = 0. A region is a
 * tuple of labels counted as one foreground in both maps. We add DeepMind's Normalized Surface Dice.
 */
import { fail } from '../util/errors.js';
import { computeConfusion, type Confusion, type LabelArray } from './confusion.js';
import {
  cropPadded,
  paddedShape,
  surfaceDiceAtTolerance,
  surfaceDistancesInBox,
  type Box,
  type Shape3,
  type SurfaceDistances,
} from './surface-distance.js';

/** A label, or a region: labels merged into one foreground (nnU-Net's tuples). */
export type LabelOrRegion = number | readonly number[];

/** Metric names as nnU-Net writes them; NSD is ours. (A type, not an interface, so it fits Record<string, number>.) */
export type RegionMetrics = {
  Dice: number;
  IoU: number;
  FP: number;
  TP: number;
  FN: number;
  TN: number;
  n_pred: number;
  n_ref: number;
  NSD?: number;
};

export interface LabelMetrics {
  /** nnU-Net's key: str(label) or str(tuple), e.g. "3", "(2, 3)", "(5,)". */
  readonly key: string;
  readonly labelOrRegion: LabelOrRegion;
  readonly metrics: RegionMetrics;
}

export interface CaseMetricsOptions {
  readonly labelsOrRegions: readonly LabelOrRegion[];
  /** Voxels whose REFERENCE has this value are left out of every count (and of both masks for NSD). */
  readonly ignoreLabel?: number;
  /** Voxel spacing in mm in array axis order (z, y, x); needed for NSD. */
  readonly spacingMm?: Shape3;
  /** Adds NSD at this tolerance (mm). */
  readonly nsdToleranceMm?: number;
}

/** Python's str() of an int or a tuple of ints. */
export function labelOrRegionKey(r: LabelOrRegion): string {
  if (typeof r === 'number') return String(r);
  return r.length === 1 ? `(${r[0]},)` : `(${r.join(', ')})`;
}

/** A reference/prediction pair read once (joint histogram and per-label boxes), ready for any region. */
export interface PreparedCase {
  readonly reference: LabelArray;
  readonly prediction: LabelArray;
  readonly shapeZYX: Shape3;
  readonly ignoreLabel: number | undefined;
  readonly confusion: Confusion;
}

export function prepareCase(
  reference: LabelArray,
  prediction: LabelArray,
  shapeZYX: Shape3,
  labelsOrRegions: readonly LabelOrRegion[],
  ignoreLabel?: number,
): PreparedCase {
  const labels = [...new Set(labelsOrRegions.flatMap((r) => (typeof r === 'number' ? [r] : [...r])))];
  const confusion = computeConfusion(reference, prediction, shapeZYX, labels, ignoreLabel);
  return { reference, prediction, shapeZYX, ignoreLabel, confusion };
}

function slotsOf(c: Confusion, r: LabelOrRegion): number[] {
  const members = typeof r === 'number' ? [r] : r;
  if (members.length === 0) fail('BAD_INPUT', 'evaluation: a region needs at least one label');
  return [...new Set(members)].map((l) => c.labels.indexOf(l));
}

/** compute_tp_fp_fn_tn + Dice/IoU for one label or region. */
export function regionCounts(p: PreparedCase, r: LabelOrRegion): RegionMetrics {
  const c = p.confusion;
  const S = c.labels.length + 1;
  const inR = new Uint8Array(S);
  for (const s of slotsOf(c, r)) inR[s] = 1;
  let tp = 0;
  let nRef = 0;
  let nPred = 0;
  // hist is (S, S): reference slot a, prediction slot b at a·S + b
  for (const [h, v] of c.hist.entries()) {
    const a = Math.floor(h / S);
    const b = h - a * S;
    if (inR[a] === 1) nRef += v;
    if (inR[b] === 1) nPred += v;
    if (inR[a] === 1 && inR[b] === 1) tp += v;
  }
  const fp = nPred - tp;
  const fn = nRef - tp;
  const tn = c.total - tp - fp - fn;
  const empty = tp + fp + fn === 0;
  return {
    Dice: empty ? NaN : (2 * tp) / (2 * tp + fp + fn),
    IoU: empty ? NaN : tp / (tp + fp + fn),
    FP: fp,
    TP: tp,
    FN: fn,
    TN: tn,
    n_pred: nPred,
    n_ref: nRef,
  };
}

/**
 * DeepMind compute_surface_distances for one label or region, evaluated on the union of the label's
 * boxes in both maps (what the library's own crop would find). Ignored voxels are outside both masks.
 * Both masks empty: all lists empty (NSD NaN, as the library).
 */
export function regionSurfaceDistances(
  p: PreparedCase,
  r: LabelOrRegion,
  spacingMm: Shape3,
): SurfaceDistances {
  const c = p.confusion;
  const slots = slotsOf(c, r);
  let box: Box | null = null;
  for (const s of slots) box = union(union(box, c.refBoxes[s] ?? null), c.predBoxes[s] ?? null);
  if (box === null) {
    const e = new Float64Array(0);
    return { distancesGtToPred: e, surfelAreasGt: e, distancesPredToGt: e, surfelAreasPred: e };
  }
  // Membership by table lookup: this runs once per voxel of the box.
  const members = typeof r === 'number' ? [r] : r;
  const isMember = new Uint8Array(
    Math.max(0, ...members.filter((l) => Number.isInteger(l) && l >= 0 && l < 65536)) + 1,
  );
  for (const l of members) if (Number.isInteger(l) && l >= 0 && l < 65536) isMember[l] = 1;
  const { reference, prediction, ignoreLabel } = p;
  const gt = cropPadded(
    box,
    p.shapeZYX,
    (i) => isMember[reference[i] as number] === 1 && reference[i] !== ignoreLabel,
  );
  const pred = cropPadded(
    box,
    p.shapeZYX,
    (i) => isMember[prediction[i] as number] === 1 && reference[i] !== ignoreLabel,
  );
  return surfaceDistancesInBox(gt, pred, paddedShape(box), spacingMm);
}

function union(a: Box | null, b: Box | null): Box | null {
  if (a === null) return b;
  if (b === null) return a;
  return {
    lo: [Math.min(a.lo[0], b.lo[0]), Math.min(a.lo[1], b.lo[1]), Math.min(a.lo[2], b.lo[2])],
    hi: [Math.max(a.hi[0], b.hi[0]), Math.max(a.hi[1], b.hi[1]), Math.max(a.hi[2], b.hi[2])],
  };
}

/** compute_metrics for one case: one entry per label/region, in the given order. */
export function computeCaseMetrics(
  reference: LabelArray,
  prediction: LabelArray,
  shapeZYX: Shape3,
  options: CaseMetricsOptions,
): LabelMetrics[] {
  const { labelsOrRegions, ignoreLabel, spacingMm, nsdToleranceMm } = options;
  if (nsdToleranceMm !== undefined && spacingMm === undefined) {
    fail('BAD_INPUT', 'evaluation: NSD needs the voxel spacing (spacingMm, in array axis order z, y, x)');
  }
  const p = prepareCase(reference, prediction, shapeZYX, labelsOrRegions, ignoreLabel);
  return labelsOrRegions.map((r) => {
    const metrics = regionCounts(p, r);
    if (nsdToleranceMm !== undefined && spacingMm !== undefined) {
      metrics.NSD = surfaceDiceAtTolerance(regionSurfaceDistances(p, r, spacingMm), nsdToleranceMm);
    }
    return { key: labelOrRegionKey(r), labelOrRegion: r, metrics };
  });
}
