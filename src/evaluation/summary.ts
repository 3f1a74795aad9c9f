/**
 * summary.json as nnU-Net v2 writes it (evaluate_predictions.py: compute_metrics_on_folder,
 * save_summary_json): `metric_per_case` [{metrics: {key: {...}}, prediction_file, reference_file}],
 * `mean` per key = np.nanmean over cases, `foreground_mean` per metric = np.mean over every key but 0
 * (so one all-NaN key, e.g. a label absent everywhere, makes it NaN — as nnU-Net). Keys are str(label)
 * or str(tuple); files are sorted-key, 4-space JSON with NaN literals (see python-json.ts).
 */
import { fail } from '../util/errors.js';
import type { LabelMetrics, RegionMetrics } from './metrics.js';
import { numpySum } from './numpy-sum.js';
import { parsePythonJson, writePythonJson, type JsonParsed, type PyJsonValue } from './python-json.js';

export interface CaseResult {
  readonly reference_file: string;
  readonly prediction_file: string;
  readonly metrics: readonly LabelMetrics[];
}

export type MetricName = keyof RegionMetrics;

export interface Summary {
  readonly metric_per_case: readonly CaseResult[];
  /** Per label/region key, in the order of the first case. */
  readonly mean: readonly { readonly key: string; readonly metrics: Readonly<Record<string, number>> }[];
  readonly foreground_mean: Readonly<Record<string, number>>;
}

/** Counts are numpy ints in nnU-Net's per-case entries (written `12`); everything else is a float. */
const INT_METRICS: ReadonlySet<string> = new Set(['TP', 'FP', 'FN', 'TN', 'n_pred', 'n_ref']);

/** np.nanmean: mean of the non-NaN values, NaN if there are none. */
function nanmean(values: readonly number[]): number {
  const kept = values.map((v) => (Number.isNaN(v) ? 0 : v));
  const count = values.filter((v) => !Number.isNaN(v)).length;
  return numpySum(kept) / count;
}

export function summarize(cases: readonly CaseResult[]): Summary {
  const first = cases[0];
  if (first === undefined) fail('BAD_INPUT', 'evaluation: no cases to summarise');
  const firstEntry = first.metrics[0];
  if (firstEntry === undefined) fail('BAD_INPUT', 'evaluation: no labels or regions were evaluated');
  // nnU-Net takes the metric names from the first case's first label.
  const metricNames = Object.keys(firstEntry.metrics);
  const mean = first.metrics.map(({ key }) => {
    const metrics: Record<string, number> = {};
    for (const m of metricNames) {
      metrics[m] = nanmean(
        cases.map((c) => {
          const entry = c.metrics.find((e) => e.key === key);
          if (entry === undefined)
            fail('BAD_INPUT', `evaluation: case ${c.prediction_file} has no result for ${key}`);
          const values: Readonly<Record<string, number | undefined>> = entry.metrics;
          return values[m] ?? NaN;
        }),
      );
    }
    return { key, metrics };
  });
  const foreground = mean.filter((e) => e.key !== '0');
  const foreground_mean: Record<string, number> = {};
  for (const m of metricNames) {
    foreground_mean[m] = numpySum(foreground.map((e) => e.metrics[m] ?? NaN)) / foreground.length;
  }
  return { metric_per_case: cases, mean, foreground_mean };
}

/** The summary as nnU-Net's save_summary_json writes it (json.dump, sort_keys=True, indent=4). */
export function summaryToJson(summary: Summary): string {
  const floats = (m: Readonly<Record<string, number>>): Map<string, PyJsonValue> =>
    new Map(Object.entries(m));
  const perCase = summary.metric_per_case.map(
    (c): PyJsonValue =>
      new Map<string, PyJsonValue>([
        [
          'metrics',
          new Map(
            c.metrics.map((e) => [
              e.key,
              new Map(
                Object.entries(e.metrics).map(([k, v]: [string, number]): [string, PyJsonValue] => [
                  k,
                  INT_METRICS.has(k) && Number.isInteger(v) ? BigInt(v) : v,
                ]),
              ),
            ]),
          ),
        ],
        ['prediction_file', c.prediction_file],
        ['reference_file', c.reference_file],
      ]),
  );
  return writePythonJson(
    new Map<string, PyJsonValue>([
      ['foreground_mean', floats(summary.foreground_mean)],
      ['mean', new Map(summary.mean.map((e) => [e.key, floats(e.metrics)]))],
      ['metric_per_case', perCase],
    ]),
  );
}

/** Reads a summary.json written by nnU-Net or by us (NaN literals allowed); keys stay strings. */
export function parseSummaryJson(text: string): Summary {
  const root = parsePythonJson(text);
  const obj = (v: JsonParsed | undefined, what: string): { [k: string]: JsonParsed } => {
    if (v === null || typeof v !== 'object' || Array.isArray(v))
      fail('BAD_INPUT', `summary.json: ${what} is not an object`);
    return v;
  };
  const nums = (v: JsonParsed | undefined, what: string): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const [k, x] of Object.entries(obj(v, what))) {
      if (typeof x !== 'number') fail('BAD_INPUT', `summary.json: ${what}.${k} is not a number`);
      out[k] = x;
    }
    return out;
  };
  const r = obj(root, 'the file');
  const perCase = r.metric_per_case;
  if (!Array.isArray(perCase)) fail('BAD_INPUT', 'summary.json: metric_per_case is not a list');
  const cases = perCase.map((c, i): CaseResult => {
    const o = obj(c, `metric_per_case[${i}]`);
    const metrics = Object.entries(obj(o.metrics, `metric_per_case[${i}].metrics`)).map(([key, m]) => ({
      key,
      labelOrRegion: keyToLabelOrRegion(key),
      metrics: toRegionMetrics(
        nums(m, `metric_per_case[${i}].metrics.${key}`),
        `metric_per_case[${i}].metrics.${key}`,
      ),
    }));
    const file = (k: string): string => {
      const v = o[k];
      if (typeof v !== 'string')
        fail('BAD_INPUT', `summary.json: metric_per_case[${i}].${k} is not a string`);
      return v;
    };
    return { reference_file: file('reference_file'), prediction_file: file('prediction_file'), metrics };
  });
  const mean = Object.entries(obj(r.mean, 'mean')).map(([key, m]) => ({
    key,
    metrics: nums(m, `mean.${key}`),
  }));
  return { metric_per_case: cases, mean, foreground_mean: nums(r.foreground_mean, 'foreground_mean') };
}

function toRegionMetrics(r: Record<string, number>, what: string): RegionMetrics {
  const get = (k: string): number => {
    const v = r[k];
    if (v === undefined) fail('BAD_INPUT', `summary.json: ${what} has no ${k}`);
    return v;
  };
  const m: RegionMetrics = {
    Dice: get('Dice'),
    IoU: get('IoU'),
    FP: get('FP'),
    TP: get('TP'),
    FN: get('FN'),
    TN: get('TN'),
    n_pred: get('n_pred'),
    n_ref: get('n_ref'),
  };
  if (r.NSD !== undefined) m.NSD = r.NSD;
  return m;
}

/** nnU-Net's key_to_label_or_region: "3" → 3, "(2, 3)" → [2, 3]. */
export function keyToLabelOrRegion(key: string): number | number[] {
  if (/^-?\d+$/.test(key)) return Number(key);
  const parts = key
    .replace(/[()]/g, '')
    .split(',')
    .filter((s) => s.trim().length > 0);
  const labels = parts.map((s) => Number(s.trim()));
  if (labels.some((l) => !Number.isInteger(l)))
    fail('BAD_INPUT', `summary.json: '${key}' is neither a label nor a region`);
  return labels;
}
