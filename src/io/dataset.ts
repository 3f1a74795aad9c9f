/**
 * nnU-Net v2 raw dataset format, browser-safe (names and JSON in, typed description out):
 *   dataset.json              {channel_names, labels, numTraining, file_ending[, regions_class_order]}
 *   imagesTr/{case}_{XXXX}{file_ending}   one file per channel XXXX = 0000, 0001, …
 *   labelsTr/{case}{file_ending}
 * Label rules follow nnU-Net v2's LabelManager (label_handling.py): "background" must be 0, a label whose
 * value is a list is a region (then regions_class_order is required), "ignore" is an integer one above
 * every other label. File walking lives in src/node/dataset-files.ts.
 */
import { fail } from '../util/errors.js';

/** One problem found in a dataset; validation collects all of them instead of stopping at the first. */
export interface DatasetProblem {
  readonly kind:
    | 'dataset-json'
    | 'missing-file'
    | 'unreadable-file'
    | 'channel-count'
    | 'num-training'
    | 'labels-not-consecutive'
    | 'undeclared-label'
    | 'geometry'
    | 'nan';
  /** Case identifier, when the problem belongs to one case. */
  readonly caseId?: string;
  readonly message: string;
}

export interface DatasetLabels {
  /** Name → value(s) exactly as declared (a list is a region). */
  readonly declared: Readonly<Record<string, number | readonly number[]>>;
  /** Every integer label value used (regions expanded, "ignore" excluded), sorted: LabelManager.all_labels. */
  readonly allLabels: readonly number[];
  readonly ignoreLabel: number | null;
  /** Regions (label sets, background regions dropped) in declaration order; null for plain labels. */
  readonly regions: readonly (readonly number[])[] | null;
  readonly regionsClassOrder: readonly number[] | null;
}

export interface DatasetJson {
  /** Channel index ("0", "1", …) → name; "CT" selects CT normalization. */
  readonly channelNames: readonly string[];
  readonly labels: DatasetLabels;
  readonly numTraining: number;
  readonly fileEnding: string;
  /** The parsed object as read, for copying through unchanged. */
  readonly raw: Readonly<Record<string, unknown>>;
}

export interface DatasetCase {
  readonly id: string;
  /** Paths relative to the dataset root, one per channel in channel order (imagesTr/{id}_XXXX…). */
  readonly images: readonly string[];
  /** labelsTr/{id}{fileEnding}; null when absent. */
  readonly label: string | null;
}

export interface DatasetDescription {
  readonly json: DatasetJson;
  readonly cases: readonly DatasetCase[];
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isInt(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x);
}

/** Parses a dataset.json text (or object); every problem found goes to `problems`. Null when unusable. */
export function parseDatasetJson(input: unknown, problems: DatasetProblem[]): DatasetJson | null {
  const bad = (message: string): null => {
    problems.push({ kind: 'dataset-json', message: `dataset.json: ${message}` });
    return null;
  };
  let obj: unknown = input;
  if (typeof input === 'string') {
    try {
      obj = JSON.parse(input);
    } catch (e) {
      return bad(`not valid JSON (${(e as Error).message})`);
    }
  }
  if (!isRecord(obj)) return bad('must be a JSON object');
  const missing = ['labels', 'numTraining', 'file_ending'].filter((k) => !(k in obj));
  if (!('channel_names' in obj) && !('modality' in obj)) missing.unshift('channel_names');
  if (missing.length > 0) {
    bad(
      `missing required keys ${missing.join(', ')} (nnU-Net v2 needs channel_names, labels, numTraining, file_ending)`,
    );
  }
  const channels = obj['channel_names'] ?? obj['modality'];
  let channelNames: string[] = [];
  if (channels !== undefined) {
    if (!isRecord(channels) || Object.keys(channels).length === 0) {
      bad('channel_names must be an object like {"0": "CT"}');
    } else {
      const keys = Object.keys(channels);
      const expected = keys.map((_, i) => String(i));
      if ([...keys].sort((a, b) => Number(a) - Number(b)).join() !== expected.join()) {
        bad(`channel_names keys must be "0".."${keys.length - 1}", got ${keys.join(', ')}`);
      }
      channelNames = expected.map((k) => {
        const name = channels[k];
        if (typeof name === 'string' && name !== '') return name;
        bad(`channel_names["${k}"] must be a non-empty string like "CT", got ${JSON.stringify(name)}`);
        return '';
      });
    }
  }
  const labels = obj['labels'] === undefined ? null : parseLabels(obj['labels'], obj, problems);
  const numTraining = obj['numTraining'];
  if (numTraining !== undefined && (!isInt(numTraining) || numTraining < 0)) {
    bad(`numTraining must be a non-negative integer, got ${JSON.stringify(numTraining)}`);
  }
  const fileEnding = obj['file_ending'];
  if (fileEnding !== undefined && (typeof fileEnding !== 'string' || !fileEnding.startsWith('.'))) {
    bad(`file_ending must be a string like ".nii.gz", got ${JSON.stringify(fileEnding)}`);
  }
  if (labels === null || channelNames.length === 0 || !isInt(numTraining) || typeof fileEnding !== 'string') {
    return null;
  }
  return { channelNames, labels, numTraining, fileEnding, raw: obj };
}

function parseLabels(
  input: unknown,
  obj: Record<string, unknown>,
  problems: DatasetProblem[],
): DatasetLabels | null {
  const start = problems.length;
  const bad = (message: string): void => {
    problems.push({ kind: 'dataset-json', message: `dataset.json labels: ${message}` });
  };
  if (!isRecord(input)) {
    bad('must be an object {"background": 0, "name": 1, …}');
    return null;
  }
  const declared: Record<string, number | readonly number[]> = {};
  for (const [name, v] of Object.entries(input)) {
    if (isInt(v) && v >= 0) declared[name] = v;
    else if (Array.isArray(v) && v.length > 0 && v.every((x) => isInt(x) && x >= 0))
      declared[name] = v as number[];
    else
      bad(`'${name}' must be a non-negative integer or a list of them (a region), got ${JSON.stringify(v)}`);
  }
  const bg = declared['background'];
  if (bg === undefined) bad('"background" is not declared (it must be label 0)');
  else if (bg !== 0) bad(`"background" must be 0, got ${JSON.stringify(bg)}`);
  const ignore = declared['ignore'];
  let ignoreLabel: number | null = null;
  if (ignore !== undefined) {
    if (typeof ignore !== 'number') bad('"ignore" must be an integer, not a region');
    else ignoreLabel = ignore;
  }
  const values = new Set<number>();
  for (const [name, v] of Object.entries(declared)) {
    if (name === 'ignore') continue;
    for (const x of typeof v === 'number' ? [v] : v) values.add(x);
  }
  const allLabels = [...values].sort((a, b) => a - b);
  if (ignoreLabel !== null && ignoreLabel !== (allLabels[allLabels.length - 1] ?? -1) + 1) {
    bad(
      `"ignore" (${ignoreLabel}) must be the highest label, one above the others (${allLabels.join(', ')})`,
    );
  }
  const hasRegions = Object.values(declared).some((v) => typeof v !== 'number' && v.length > 1);
  let regions: number[][] | null = null;
  let regionsClassOrder: number[] | null = null;
  if (hasRegions) {
    regions = [];
    for (const [name, v] of Object.entries(declared)) {
      const r = typeof v === 'number' ? [v] : [...v];
      if (name === 'ignore' || r.every((x) => x === 0)) continue;
      regions.push(r);
    }
    const order = obj['regions_class_order'];
    if (!Array.isArray(order) || !order.every(isInt)) {
      bad(
        'labels with list values are regions; region-based training needs "regions_class_order" (a list of ints)',
      );
    } else if (order.length !== regions.length) {
      bad(`regions_class_order has ${order.length} entries but there are ${regions.length} regions`);
    } else {
      regionsClassOrder = order;
    }
  }
  if (problems.length > start) return null;
  return { declared, allLabels, ignoreLabel, regions, regionsClassOrder };
}

/** The label values a label file may contain: allLabels plus the ignore label. */
export function expectedLabelValues(labels: DatasetLabels): number[] {
  return labels.ignoreLabel === null ? [...labels.allLabels] : [...labels.allLabels, labels.ignoreLabel];
}

/** verify_dataset_integrity: label values (with ignore) must be 0, 1, 2, … without gaps. */
export function checkConsecutiveLabels(labels: DatasetLabels): DatasetProblem[] {
  const values = expectedLabelValues(labels);
  const gaps = values.filter((v, i) => i > 0 && v !== (values[i - 1] ?? 0) + 1);
  if (gaps.length === 0 && values[0] === 0) return [];
  return [
    {
      kind: 'labels-not-consecutive',
      message:
        `dataset.json labels must be consecutive (0, 1, 2, …); got ${values.join(', ')}` +
        (gaps.length > 0 ? ` — ${gaps.join(', ')} follow a gap` : ''),
    },
  ];
}

const CHANNEL_RE = /^(.+)_(\d{4})$/;

/**
 * Groups imagesTr file names into cases as nnU-Net does (get_filenames_of_train_images_and_targets):
 * a case is the name minus `_XXXX{fileEnding}`. Hidden files (`.`, `._` junk) are skipped.
 */
export function describeDataset(
  json: DatasetJson,
  imageNames: readonly string[],
  labelNames: readonly string[],
): DatasetDescription {
  const byCase = new Map<string, Map<number, string>>();
  for (const name of imageNames) {
    if (name.startsWith('.') || !name.endsWith(json.fileEnding)) continue;
    const m = CHANNEL_RE.exec(name.slice(0, -json.fileEnding.length));
    if (m === null) continue;
    const [, id = '', ch = ''] = m;
    const channels = byCase.get(id) ?? new Map<number, string>();
    channels.set(Number(ch), `imagesTr/${name}`);
    byCase.set(id, channels);
  }
  const labelSet = new Set(labelNames.filter((n) => !n.startsWith('.')));
  const cases = [...byCase.keys()].sort().map((id): DatasetCase => {
    const channels = byCase.get(id) ?? new Map<number, string>();
    const images = [...channels.keys()].sort((a, b) => a - b).map((c) => channels.get(c) ?? '');
    const labelName = `${id}${json.fileEnding}`;
    return { id, images, label: labelSet.has(labelName) ? `labelsTr/${labelName}` : null };
  });
  return { json, cases };
}

/**
 * Files nnU-Net would not read (not hidden, but without the dataset's file ending, or an image without the
 * `_XXXX` channel suffix): listed so that a misnamed case is seen instead of silently missing.
 */
export function strayFiles(
  json: DatasetJson,
  imageNames: readonly string[],
  labelNames: readonly string[],
): string[] {
  const visible = (n: string): boolean => !n.startsWith('.');
  const images = imageNames
    .filter(
      (n) =>
        visible(n) && (!n.endsWith(json.fileEnding) || !CHANNEL_RE.test(n.slice(0, -json.fileEnding.length))),
    )
    .map((n) => `imagesTr/${n}`);
  const labels = labelNames
    .filter((n) => visible(n) && !n.endsWith(json.fileEnding))
    .map((n) => `labelsTr/${n}`);
  return [...images, ...labels];
}

/** Problems visible from names alone: numTraining, missing labels, missing/extra channel files. */
export function checkDatasetFiles(desc: DatasetDescription, labelNames: readonly string[]): DatasetProblem[] {
  const { json, cases } = desc;
  const problems: DatasetProblem[] = [];
  if (cases.length !== json.numTraining) {
    problems.push({
      kind: 'num-training',
      message: `dataset.json numTraining is ${json.numTraining} but imagesTr holds ${cases.length} cases`,
    });
  }
  const nc = json.channelNames.length;
  const ids = new Set(cases.map((c) => c.id));
  for (const c of cases) {
    if (c.label === null) {
      problems.push({
        kind: 'missing-file',
        caseId: c.id,
        message: `${c.id}: labelsTr/${c.id}${json.fileEnding} is missing`,
      });
    }
    const want = Array.from(
      { length: nc },
      (_, i) => `imagesTr/${c.id}_${String(i).padStart(4, '0')}${json.fileEnding}`,
    );
    const missing = want.filter((f) => !c.images.includes(f));
    const extra = c.images.filter((f) => !want.includes(f));
    if (missing.length > 0) {
      problems.push({
        kind: 'missing-file',
        caseId: c.id,
        message: `${c.id}: missing channel file(s) ${missing.join(', ')} (dataset.json declares ${nc} channels)`,
      });
    }
    if (extra.length > 0) {
      problems.push({
        kind: 'channel-count',
        caseId: c.id,
        message: `${c.id}: ${extra.join(', ')} beyond the ${nc} channel(s) dataset.json declares`,
      });
    }
  }
  for (const name of labelNames) {
    if (name.startsWith('.') || !name.endsWith(json.fileEnding)) continue;
    const id = name.slice(0, -json.fileEnding.length);
    if (!ids.has(id)) {
      problems.push({
        kind: 'missing-file',
        caseId: id,
        message: `${id}: labelsTr/${name} has no image in imagesTr (expected imagesTr/${id}_0000${json.fileEnding})`,
      });
    }
  }
  return problems;
}

/** Throws with every problem listed (for stages that need a valid dataset to continue). */
export function failOnProblems(problems: readonly DatasetProblem[], what: string): void {
  if (problems.length === 0) return;
  fail(
    'BAD_INPUT',
    `${what}: ${problems.length} problem(s):\n` +
      problems.map((p) => `  - ${p.message}`).join('\n') +
      '\nrun `stunet dataset validate <dir>` for the full report',
  );
}
