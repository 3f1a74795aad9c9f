/**
 * Post-processing as nnU-Net v1 does it (nnunet/postprocessing/connected_components.py, 1.7; STU-Net's
 * fork has the same): apply a postprocessing.json (load_remove_save), and determine one from validation
 * predictions and their references (determine_postprocessing). Dice is nnU-Net's: per case 2TP/(2TP+FP+FN),
 * NaN where a class is in neither map, averaged over cases with np.nanmean (postprocess-dice.ts, summary.ts).
 *
 * determine_postprocessing, with `classes` the dataset's foreground classes:
 * 1. all foreground classes as one group: keep its largest component in every case; taken when the mean
 *    Dice of at least one class rises by more than `diceThreshold` and none falls;
 * 2. (more than one class) on the result of 1 if taken, else on the raw predictions: keep the largest
 *    component of each class; a class is taken when its mean Dice rises by more than `diceThreshold`.
 * NaN compares as nnU-Net's Python does: neither better nor worse. With `advanced` (nnU-Net's
 * advanced_postprocessing) each step first measures, over all cases, the smallest largest component it
 * keeps, and then removes only components smaller than that (min_valid_object_sizes).
 */
import type { Vec3 } from '../util/vec3.js';
import { fail } from '../util/errors.js';
import type { LabelArray } from './confusion.js';
import { checkClass, keepLargestComponent, voxelVolume, type ClassOrGroup } from './connected-components.js';
import { labelOrRegionKey } from './metrics.js';
import { compactLabels, countChanges, countClasses, countsToMetrics } from './postprocess-dice.js';
import type { PostprocessDetermination, PostprocessSpec } from './postprocessing-json.js';
import { summarize, type CaseResult } from './summary.js';

/**
 * Applies a spec IN PLACE (as nnU-Net's remove_all_but_the_largest_connected_component) and returns
 * `labels`. `spacingZYX` (mm) is needed only when the spec has min_valid_object_sizes: sizes are voxels ×
 * the product of the spacing, as nnU-Net's volume_per_voxel.
 */
export function applyPostprocessing<T extends LabelArray>(
  labels: T,
  dimsZYX: Vec3,
  spec: PostprocessSpec,
  spacingZYX?: Vec3,
): T {
  const sizes = spec.minValidObjectSizes;
  if (sizes !== null && spacingZYX === undefined)
    fail('BAD_INPUT', 'post-processing: min_valid_object_sizes are in mm³; the voxel spacing is needed');
  keepLargestComponent(labels, dimsZYX, spec.forWhichClasses, {
    volumePerVoxel: spacingZYX === undefined ? 1 : voxelVolume(spacingZYX),
    minValidObjectSizes: sizes,
  });
  return labels;
}

/** One validation case: the raw prediction (never modified) and its reference, same grid. */
export interface PostprocessCase {
  readonly name?: string;
  readonly prediction: LabelArray;
  readonly reference: LabelArray;
  readonly dimsZYX: Vec3;
  /** mm, (z, y, x); default 1 mm (sizes only matter with `advanced`). */
  readonly spacingZYX?: Vec3;
}

/** A case, or a function that loads it: called once per pass, so a folder is never held whole. */
export type PostprocessCaseSource = PostprocessCase | (() => PostprocessCase);

export interface DeterminePostprocessingOptions {
  /** Improvement a step must exceed (nnU-Net's dice_threshold); default 0. */
  readonly diceThreshold?: number;
  /** nnU-Net's advanced_postprocessing: keep components above the smallest kept size (min_valid_object_sizes). */
  readonly advanced?: boolean;
  /** Recorded in the result as nnU-Net does; default 'validation_raw' and 'validation_final'. */
  readonly validationRaw?: string;
  readonly validationFinal?: string;
  /** Called after each case of each pass over the cases. */
  readonly onCase?: (pass: number, passes: number, index: number, total: number) => void;
}

export interface DeterminePostprocessingResult extends PostprocessDetermination {
  /** The classes, in nnU-Net's order (as str-sorted summary.json keys: 1, 10, 11, 2, …). */
  readonly classes: readonly number[];
  /** Mean Dice per class once the chosen post-processing is applied (nnU-Net's validation_final summary). */
  readonly dcPerClassFinal: Readonly<Record<string, number>>;
}

type Transform = (c: PostprocessCase, labels: LabelArray) => void;

/** A variant of the prediction: `steps` applied to a copy of the raw map, or of variant `from`'s result. */
interface Variant {
  readonly from?: number;
  readonly steps: readonly Transform[];
}

/** Kept sizes to measure: what `entries` keeps of variant `variant`'s result, with no size limit. */
interface Measure {
  readonly variant: number;
  readonly entries: readonly ClassOrGroup[];
}

interface PassOutput {
  /** Per variant: per-case metrics. */
  readonly results: CaseResult[][];
  /** Per measure: per key, the smallest largest-component size over the cases that have the key. */
  readonly minKept: Map<string, number>[];
}

const load = (s: PostprocessCaseSource): PostprocessCase => (typeof s === 'function' ? s() : s);
const vpvOf = (c: PostprocessCase): number => (c.spacingZYX === undefined ? 1 : voxelVolume(c.spacingZYX));

/** One pass over the cases: the Dice per class of every variant, and the kept sizes asked for. */
function runPass(
  sources: readonly PostprocessCaseSource[],
  classes: readonly number[],
  variants: readonly Variant[],
  measure: readonly Measure[],
  progress: (index: number) => void,
): PassOutput {
  const results = variants.map((): CaseResult[] => []);
  const minKept = measure.map(() => new Map<string, number>());
  sources.forEach((source, index) => {
    const c = load(source);
    const base = compactLabels(c.prediction);
    const counts = countClasses(c.reference, base, classes);
    const kept: (LabelArray | undefined)[] = [];
    variants.forEach((variant, v) => {
      const input = variant.from === undefined ? base : kept[variant.from];
      if (input === undefined) fail('RUNTIME', `post-processing: variant ${v} needs a later one`);
      const labels = variant.steps.length === 0 ? input : input.slice();
      for (const t of variant.steps) t(c, labels);
      if (variants.some((w) => w.from === v)) kept[v] = labels;
      measure.forEach((m, mi) => {
        if (m.variant !== v) return;
        const r = keepLargestComponent(labels.slice(), c.dimsZYX, m.entries, { volumePerVoxel: vpvOf(c) });
        const into = minKept[mi] as Map<string, number>;
        for (const [k, s] of r.keptSize) if (s !== null) into.set(k, Math.min(into.get(k) ?? Infinity, s));
      });
      const metrics = countsToMetrics(
        labels === base ? counts : countChanges(counts, c.reference, base, labels),
      );
      const name = c.name ?? String(index);
      results[v]?.push({ reference_file: name, prediction_file: name, metrics });
    });
    progress(index);
  });
  return { results, minKept };
}

function meanDice(cases: readonly CaseResult[], classes: readonly number[]): Record<string, number> {
  const mean = summarize(cases).mean;
  const out: Record<string, number> = {};
  for (const c of classes) out[String(c)] = mean.find((e) => e.key === String(c))?.metrics.Dice ?? NaN;
  return out;
}

const keep =
  (entries: readonly ClassOrGroup[], sizes: ReadonlyMap<string, number> | null): Transform =>
  (c, labels) => {
    keepLargestComponent(labels, c.dimsZYX, entries, {
      volumePerVoxel: vpvOf(c),
      minValidObjectSizes: sizes === null ? null : completeSizes(sizes, entries),
    });
  };

/** Sizes for every entry: one no case has (hence nothing to compare with) gets 0. */
function completeSizes(
  sizes: ReadonlyMap<string, number>,
  entries: readonly ClassOrGroup[],
): Map<string, number> {
  const out = new Map(sizes);
  for (const e of entries) if (!out.has(labelOrRegionKey(e))) out.set(labelOrRegionKey(e), 0);
  return out;
}

/** nnU-Net's classes order: str keys of a summary.json saved with sort_keys. */
function nnunetOrder(classes: readonly number[]): number[] {
  return [...new Set(classes)].sort((a, b) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0));
}

/**
 * nnU-Net v1's determine_postprocessing over (prediction, reference) pairs of `classes` (the dataset's
 * foreground classes). Predictions are not modified. Default: one pass over the cases; `advanced`: three.
 */
export function determinePostprocessing(
  cases: readonly PostprocessCaseSource[],
  classes: readonly number[],
  options: DeterminePostprocessingOptions = {},
): DeterminePostprocessingResult {
  if (cases.length === 0) fail('BAD_INPUT', 'post-processing: no cases to determine it from');
  if (classes.length === 0) fail('BAD_INPUT', 'post-processing: no foreground classes');
  for (const c of classes) checkClass(c, 'post-processing');
  const thr = options.diceThreshold ?? 0;
  if (!Number.isFinite(thr))
    fail('BAD_INPUT', `post-processing: the Dice threshold must be a number, got ${thr}`);
  const order = nnunetOrder(classes);
  const advanced = options.advanced === true;
  const passes = advanced ? 3 : 1;
  let pass = 0;
  const run = (variants: readonly Variant[], measure: readonly Measure[] = []): PassOutput => {
    pass++;
    return runPass(cases, order, variants, measure, (i) => options.onCase?.(pass, passes, i, cases.length));
  };
  const decided = advanced ? determineAdvanced(order, thr, run) : determineDefault(order, thr, run);
  return {
    ...decided,
    classes: order,
    numSamples: cases.length,
    validationRaw: options.validationRaw ?? 'validation_raw',
    validationFinal: options.validationFinal ?? 'validation_final',
  };
}

type Run = (variants: readonly Variant[], measure?: readonly Measure[]) => PassOutput;

type Decided = Omit<
  DeterminePostprocessingResult,
  'classes' | 'numSamples' | 'validationRaw' | 'validationFinal'
>;

/** The all-foreground decision: some class better by more than the threshold, none worse. */
function foregroundHelps(
  raw: Record<string, number>,
  all: Record<string, number>,
  classes: readonly number[],
  thr: number,
): boolean {
  const k = classes.map(String);
  return (
    k.some((c) => (all[c] as number) > (raw[c] as number) + thr) &&
    !k.some((c) => (all[c] as number) < (raw[c] as number))
  );
}

/** The per-class decision and the final Dice: chosen classes take the per-class step's, the rest the source's. */
function perClassChoice(
  source: Record<string, number>,
  perClass: Record<string, number>,
  classes: readonly number[],
  thr: number,
) {
  const chosen = classes.filter((c) => (perClass[String(c)] as number) > (source[String(c)] as number) + thr);
  const final: Record<string, number> = { ...source };
  for (const c of chosen) final[String(c)] = perClass[String(c)] as number;
  return { chosen, final };
}

function determineDefault(classes: readonly number[], thr: number, run: Run): Decided {
  const fg = keep([classes], null);
  const pc = keep(classes, null);
  const multi = classes.length > 1;
  // One pass: raw, all-foreground, and the per-class step on either source (the choice comes after).
  const raw0: Variant = { steps: [] };
  const all0: Variant = { steps: [fg] };
  const out = run(multi ? [raw0, all0, { steps: [pc] }, { from: 1, steps: [pc] }] : [raw0, all0]);
  const dice = out.results.map((r) => meanDice(r, classes));
  const [raw = {}, all = {}] = dice;
  const doFg = foregroundHelps(raw, all, classes, thr);
  const source = doFg ? all : raw;
  const perClassDice = multi ? ((doFg ? dice[3] : dice[2]) ?? {}) : {};
  const { chosen, final } = multi
    ? perClassChoice(source, perClassDice, classes, thr)
    : { chosen: [], final: source };
  return {
    forWhichClasses: [...(doFg ? [classes] : []), ...chosen],
    minValidObjectSizes: null,
    dcPerClassRaw: raw,
    dcPerClassPpAll: all,
    dcPerClassPpPerClass: perClassDice,
    dcPerClassFinal: final,
  };
}

function determineAdvanced(classes: readonly number[], thr: number, run: Run): Decided {
  const fgKey = labelOrRegionKey(classes);
  // Pass 1: the smallest largest-foreground component over the cases.
  const fgSizes =
    run([{ steps: [] }], [{ variant: 0, entries: [classes] }]).minKept[0] ?? new Map<string, number>();
  const fg = keep([classes], fgSizes);
  const multi = classes.length > 1;
  // Pass 2: raw and all-foreground Dice; the smallest largest component per class on either source.
  const second = run(
    [{ steps: [] }, { steps: [fg] }],
    multi
      ? [
          { variant: 0, entries: classes },
          { variant: 1, entries: classes },
        ]
      : [],
  );
  const [raw = {}, all = {}] = second.results.map((r) => meanDice(r, classes));
  const doFg = foregroundHelps(raw, all, classes, thr);
  const sizes = new Map<string, number>();
  const fgMin = fgSizes.get(fgKey);
  if (doFg && fgMin !== undefined) sizes.set(fgKey, fgMin);
  const sourceDice = doFg ? all : raw;
  if (!multi) return done([...(doFg ? [classes] : [])], sizes, raw, all, {}, sourceDice);
  // Pass 3: the per-class step with those sizes, on the chosen source.
  const pcSizes = second.minKept[doFg ? 1 : 0] ?? new Map<string, number>();
  const pc = keep(classes, pcSizes);
  const third = run([{ steps: doFg ? [fg, pc] : [pc] }]);
  const perClassDice = meanDice(third.results[0] ?? [], classes);
  const { chosen, final } = perClassChoice(sourceDice, perClassDice, classes, thr);
  for (const c of chosen) {
    const s = pcSizes.get(String(c));
    if (s !== undefined) sizes.set(String(c), s);
  }
  return done([...(doFg ? [classes] : []), ...chosen], sizes, raw, all, perClassDice, final);
}

function done(
  forWhichClasses: ClassOrGroup[],
  minValidObjectSizes: Map<string, number>,
  raw: Record<string, number>,
  all: Record<string, number>,
  perClass: Record<string, number>,
  final: Record<string, number>,
): Decided {
  return {
    forWhichClasses,
    minValidObjectSizes,
    dcPerClassRaw: raw,
    dcPerClassPpAll: all,
    dcPerClassPpPerClass: perClass,
    dcPerClassFinal: final,
  };
}
