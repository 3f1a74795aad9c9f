/**
 * `stunet evaluate` on folders of a FileStore (nnU-Net v2 compute_metrics_on_folder): pair prediction and reference
 * NIfTI files by case name, check that each pair shares its geometry, compute per-case metrics one case
 * at a time (two label maps in memory, never the whole cohort) and summarise in nnU-Net's layout.
 */
import { fail } from '../util/errors.js';
import {
  computeCaseMetrics,
  summarize,
  type CaseResult,
  type LabelArray,
  type LabelOrRegion,
  type Summary,
} from '../evaluation/index.js';
import { el, type Mat4 } from '../io/geometry.js';
import { directInferenceTable, mapPrediction, mapReference } from '../io/labels/index.js';
import { readNifti, require3d, type NiftiImage } from '../io/nifti.js';
import { niftiToVolume } from '../io/nifti-volume.js';
import { readText, type FileStore } from './store.js';

const ENDINGS = ['.nii.gz', '.nii'] as const;

export interface CasePair {
  readonly caseName: string;
  readonly predictionFile: string;
  readonly referenceFile: string;
}

function caseFiles(store: FileStore, dir: string, what: string): Map<string, string> {
  if (!store.isDirectory(dir))
    fail('NOT_FOUND', `evaluate: ${what} folder '${dir}' does not exist or is not a folder`);
  const out = new Map<string, string>();
  for (const f of store.list(dir)) {
    const ending = ENDINGS.find((e) => f.endsWith(e));
    if (ending === undefined || f.startsWith('.')) continue;
    const name = f.slice(0, -ending.length);
    const seen = out.get(name);
    if (seen !== undefined)
      fail('BAD_INPUT', `evaluate: case '${name}' appears twice in ${what} folder '${dir}' (${seen}, ${f})`);
    out.set(name, store.join(dir, f));
  }
  return out;
}

/**
 * Pairs `<case>.nii.gz` (or .nii) files by name. As nnU-Net, every reference needs a prediction and every
 * prediction a reference; the error lists the unmatched cases.
 */
export function pairCases(store: FileStore, predDir: string, refDir: string): CasePair[] {
  const preds = caseFiles(store, predDir, 'prediction');
  const refs = caseFiles(store, refDir, 'reference');
  const list = (names: string[]): string =>
    names.slice(0, 5).join(', ') + (names.length > 5 ? `, … (${names.length} in all)` : '');
  const noPred = [...refs.keys()].filter((n) => !preds.has(n));
  if (noPred.length > 0)
    fail('NOT_FOUND', `evaluate: no prediction in '${predDir}' for reference case(s) ${list(noPred)}`);
  const noRef = [...preds.keys()].filter((n) => !refs.has(n));
  if (noRef.length > 0)
    fail('NOT_FOUND', `evaluate: no reference in '${refDir}' for predicted case(s) ${list(noRef)}`);
  if (refs.size === 0) fail('NOT_FOUND', `evaluate: no .nii.gz files in '${refDir}'`);
  return [...refs].map(([caseName, referenceFile]) => ({
    caseName,
    referenceFile,
    predictionFile: preds.get(caseName) ?? '',
  }));
}

/**
 * Throws unless both images have the same size and affine (elements within atol 1e-3 + rtol 1e-4: headers
 * store float32, so re-written files differ in the last bits). Names both files and what differs.
 */
export function checkSameGeometry(
  pred: NiftiImage,
  ref: NiftiImage,
  predFile: string,
  refFile: string,
): void {
  const a = require3d(pred, predFile);
  const b = require3d(ref, refFile);
  if (a.some((d, i) => d !== b[i])) {
    fail(
      'SHAPE_MISMATCH',
      `evaluate: geometry differs: prediction ${predFile} is ${a.join('×')} voxels, reference ${refFile} is ${b.join('×')}`,
    );
  }
  const bad = affineDifference(pred.affine, ref.affine);
  if (bad !== undefined) {
    fail(
      'SHAPE_MISMATCH',
      `evaluate: geometry differs: affine of prediction ${predFile} and reference ${refFile} differ at ` +
        `${bad} (prediction ${formatAffine(pred.affine)}, reference ${formatAffine(ref.affine)}); ` +
        'resample the prediction onto the reference grid',
    );
  }
}

function affineDifference(p: Mat4, r: Mat4): string | undefined {
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 4; j++) {
      const x = el(p, i, j);
      const y = el(r, i, j);
      if (!(Math.abs(x - y) <= 1e-3 + 1e-4 * Math.abs(y))) return `row ${i} column ${j}: ${x} vs ${y}`;
    }
  }
  return undefined;
}

function formatAffine(m: Mat4): string {
  return `[${[m[0], m[1], m[2]].map((row) => `[${row.map((v) => +v.toFixed(4)).join(', ')}]`).join(', ')}]`;
}

export interface EvaluateFoldersOptions {
  /** Labels or regions to evaluate. Default: with `map`, the table's labels 1..n; otherwise every
   * non-zero label present in any reference (minus the ignore label) — nnU-Net takes them from
   * dataset.json, which lists the same set when every class occurs in the references. */
  readonly labelsOrRegions?: readonly LabelOrRegion[];
  readonly ignoreLabel?: number;
  /** NSD tolerance (mm); undefined = no NSD. */
  readonly nsdToleranceMm?: number;
  /** A direct-inference dataset key (see directInferenceDatasets): predictions are 104-class STU-Net
   * maps and both maps are mapped into the dataset's label space, as STU-Net's direct_inference.py. */
  readonly map?: string;
  /** Bytes reading one image may take (readNifti's maxBytes; the Node CLI: the free memory). */
  readonly maxImageBytes?: number;
  /** Called after each case. */
  readonly onCase?: (result: CaseResult, index: number, total: number) => void;
}

export interface EvaluateFoldersResult {
  readonly summary: Summary;
  readonly labelsOrRegions: readonly LabelOrRegion[];
  /** With `map`: names of the mapped labels (index = label). */
  readonly labelNames?: readonly string[];
}

function readLabelImage(store: FileStore, path: string, what: string, maxBytes?: number): NiftiImage {
  const image = readNifti(store.read(path, what), maxBytes === undefined ? {} : { maxBytes });
  require3d(image, `${what} '${path}'`);
  return image;
}

/** Every non-zero value in the references (read once each, before evaluating). */
export function labelsInReferences(
  store: FileStore,
  pairs: readonly CasePair[],
  ignoreLabel?: number,
  maxImageBytes?: number,
): number[] {
  const seen = new Set<number>();
  for (const p of pairs) {
    const data = readLabelImage(store, p.referenceFile, 'reference', maxImageBytes).data;
    let last = NaN;
    for (const v of data) {
      if (v === last) continue; // runs of one label are the norm
      last = v;
      seen.add(v);
    }
  }
  const labels = [...seen].filter((v) => v !== 0 && v !== ignoreLabel).sort((a, b) => a - b);
  const bad = labels.find((v) => !Number.isInteger(v) || v < 0);
  if (bad !== undefined)
    fail('BAD_INPUT', `evaluate: references contain ${bad}, which is not a label (non-negative integer)`);
  return labels;
}

/** Maps one pair into the direct-inference label space; the ignore label of the reference survives. */
function mapPair(
  pred: Float32Array,
  ref: Float32Array,
  dataset: string,
  ignoreLabel: number | undefined,
): { pred: LabelArray; ref: LabelArray } {
  const mappedPred = mapPrediction(pred, dataset);
  const mappedRef = mapReference(ref, dataset);
  if (ignoreLabel === undefined) return { pred: mappedPred, ref: mappedRef };
  const withIgnore = Int32Array.from(mappedRef);
  for (let i = 0; i < ref.length; i++) if (ref[i] === ignoreLabel) withIgnore[i] = ignoreLabel;
  return { pred: mappedPred, ref: withIgnore };
}

export function evaluateFolders(
  store: FileStore,
  predDir: string,
  refDir: string,
  options: EvaluateFoldersOptions = {},
): EvaluateFoldersResult {
  const { ignoreLabel, nsdToleranceMm, map } = options;
  const table = map === undefined ? undefined : directInferenceTable(map); // bad names fail before any I/O
  const pairs = pairCases(store, predDir, refDir);
  const labelsOrRegions =
    options.labelsOrRegions ??
    (table !== undefined
      ? table.map((e) => e.label)
      : labelsInReferences(store, pairs, ignoreLabel, options.maxImageBytes));
  if (labelsOrRegions.length === 0)
    fail('BAD_INPUT', 'evaluate: the references contain no foreground label; pass --labels to choose some');
  const cases: CaseResult[] = [];
  pairs.forEach((p, index) => {
    const ref = readLabelImage(store, p.referenceFile, 'reference', options.maxImageBytes);
    const pred = readLabelImage(store, p.predictionFile, 'prediction', options.maxImageBytes);
    checkSameGeometry(pred, ref, p.predictionFile, p.referenceFile);
    const { volume, spacingZYX } = niftiToVolume(ref);
    const [, z, y, x] = volume.shape;
    const maps =
      map === undefined ? { pred: pred.data, ref: ref.data } : mapPair(pred.data, ref.data, map, ignoreLabel);
    const metrics = computeCaseMetrics(maps.ref, maps.pred, [z, y, x], {
      labelsOrRegions,
      spacingMm: spacingZYX,
      ...(ignoreLabel === undefined ? {} : { ignoreLabel }),
      ...(nsdToleranceMm === undefined ? {} : { nsdToleranceMm }),
    });
    const result: CaseResult = {
      reference_file: p.referenceFile,
      prediction_file: p.predictionFile,
      metrics,
    };
    cases.push(result);
    options.onCase?.(result, index, pairs.length);
  });
  const summary = summarize(cases);
  return {
    summary,
    labelsOrRegions,
    ...(table === undefined ? {} : { labelNames: ['background', ...table.map((e) => e.name)] }),
  };
}

/**
 * Label names for display from an nnU-Net dataset.json in the reference folder or one up (the raw
 * layout: Dataset/labelsTr + Dataset/dataset.json). v2 {"name": label | [labels]} and v1 {"label": "name"}
 * are both read; anything unreadable gives undefined (names are cosmetic here).
 */
export function datasetLabelNames(store: FileStore, refDir: string): string[] | undefined {
  for (const path of [store.join(refDir, 'dataset.json'), store.join(refDir, '..', 'dataset.json')]) {
    let labels: unknown;
    try {
      labels = (JSON.parse(readText(store, path)) as { labels?: unknown }).labels;
    } catch {
      continue;
    }
    if (labels === null || typeof labels !== 'object') continue;
    const names: string[] = [];
    for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
      if (typeof v === 'number' && Number.isInteger(v) && v >= 0)
        names[v] = k; // v2
      else if (typeof v === 'string' && /^\d+$/.test(k)) names[Number(k)] = v; // v1
    }
    return Array.from({ length: names.length }, (_, i) => names[i] ?? '');
  }
  return undefined;
}

/** Labels or regions that no case has in its prediction or its reference (a --labels typo, most likely). */
export function absentLabels(summary: Summary): string[] {
  const seen = new Map<string, boolean>();
  for (const c of summary.metric_per_case)
    for (const m of c.metrics)
      seen.set(m.key, (seen.get(m.key) ?? false) || m.metrics.n_ref + m.metrics.n_pred > 0);
  return [...seen].filter(([, any]) => !any).map(([key]) => key);
}
