/**
 * STU-Net direct inference on downstream datasets (uni-medical/STU-Net direct_inference/
 * direct_inference.py, map_all_data): entry i of the dataset's table (dict order) becomes label i+1 in
 * BOTH the prediction and the reference. The prediction's 104-class STU-Net labels of
 * label_mapping[name] ("agg:a,b" = several TotalSegmentator classes) and the reference's local labels
 * ("agg:1,2" = several) are written entry by entry, later entries overwriting earlier ones.
 *
 * Trap: the official tables for Task560_WORD, Task012_BTCV_Cervix and Task605_SegThor use names that
 * label_mapping lacks (e.g. "urinary_bladder", "trachea"), so the official script raises KeyError. Those
 * names are TotalSegmentator class names already; by default we use them as such (entry.fallback =
 * true), and `strict: true` throws as the official code would.
 */
import { fail } from '../../util/errors.js';
import data from './stunet-direct-inference.json' with { type: 'json' };
import stunet104 from './stunet-104.json' with { type: 'json' };

export interface DirectInferenceEntry {
  /** The label in the mapped (evaluation) space: entry index + 1. */
  readonly label: number;
  /** The table's class name, e.g. "right kidney". */
  readonly name: string;
  /** Reference label values merged into this entry. */
  readonly localLabels: readonly number[];
  /** TotalSegmentator class names the prediction contributes. */
  readonly stunetClasses: readonly string[];
  /** Their label values in STU-Net's 104-class order. */
  readonly stunetLabels: readonly number[];
  /** True when `name` is missing from label_mapping and was used as a class name directly. */
  readonly fallback: boolean;
}

export interface DirectInferenceOptions {
  /** Throw on names missing from label_mapping, as the official script does (KeyError). */
  readonly strict?: boolean;
}

const DATASETS: Readonly<Record<string, { table: string; entries: string[][] }>> = data.datasets;
const LABEL_MAPPING = new Map(data.labelMapping.map(([k = '', v = '']) => [k, v]));
const STUNET_INDEX = new Map(stunet104.names.map((n, i) => [n, i]));

/** Dataset keys of label_sys_dict, e.g. "Task011_BTCV", "Task032_AMOS22_Task1". */
export function directInferenceDatasets(): string[] {
  return Object.keys(DATASETS);
}

function parseAgg(text: string): string[] {
  return text.startsWith('agg:') ? text.slice(4).split(',') : [text];
}

/** The dataset's table (accepts the dataset key or its table name, e.g. "FLARE22_sys"). */
export function directInferenceTable(
  dataset: string,
  options: DirectInferenceOptions = {},
): DirectInferenceEntry[] {
  const ds = DATASETS[dataset] ?? Object.values(DATASETS).find((d) => d.table === dataset);
  if (ds === undefined) {
    fail(
      'NOT_FOUND',
      `labels: no direct-inference table for '${dataset}' (known: ${directInferenceDatasets().join(', ')})`,
    );
  }
  return ds.entries.map(([local = '', name = ''], i) => {
    const mapped = LABEL_MAPPING.get(name);
    const fallback = mapped === undefined;
    if (fallback && (options.strict === true || !STUNET_INDEX.has(name))) {
      fail(
        'NOT_FOUND',
        `labels: '${name}' (${dataset}) is not in STU-Net's label_mapping${STUNET_INDEX.has(name) ? ' (strict mode)' : ' nor a TotalSegmentator class'}`,
      );
    }
    const stunetClasses = parseAgg(mapped ?? name);
    const stunetLabels = stunetClasses.map((c) => {
      const v = STUNET_INDEX.get(c);
      if (v === undefined)
        fail('NOT_FOUND', `labels: label_mapping names '${c}', which is not one of STU-Net's 104 classes`);
      return v;
    });
    const localLabels = parseAgg(local).map(Number);
    if (localLabels.some((l) => !Number.isInteger(l) || l < 0))
      fail('BAD_INPUT', `labels: bad local label '${local}' in ${dataset}`);
    return { label: i + 1, name, localLabels, stunetClasses, stunetLabels, fallback };
  });
}

function applyTable(values: ArrayLike<number>, pairs: [readonly number[], number][]): Uint8Array {
  const max = Math.max(0, ...pairs.flatMap(([from]) => from));
  const lut = new Uint8Array(max + 1);
  for (const [from, to] of pairs) for (const v of from) lut[v] = to; // later entries win
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = lut[values[i] as number] ?? 0;
  return out;
}

/** A 104-class STU-Net prediction in the dataset's mapped label space (entry labels 1..n, else 0). */
export function mapPrediction(
  labels104: ArrayLike<number>,
  dataset: string,
  options: DirectInferenceOptions = {},
): Uint8Array {
  return applyTable(
    labels104,
    directInferenceTable(dataset, options).map((e) => [e.stunetLabels, e.label]),
  );
}

/** The dataset's reference labels in the same mapped space (unlisted local labels become 0). */
export function mapReference(
  reference: ArrayLike<number>,
  dataset: string,
  options: DirectInferenceOptions = {},
): Uint8Array {
  return applyTable(
    reference,
    directInferenceTable(dataset, options).map((e) => [e.localLabels, e.label]),
  );
}
