/**
 * nnU-Net v1's postprocessing.json (nnunet/postprocessing/connected_components.py, determine_postprocessing
 * and load_postprocessing): `for_which_classes` lists classes and groups of classes (JSON lists), applied in
 * order; `min_valid_object_sizes` is a string, "None" or the str() of a Python dict keyed by class or tuple
 * ("{(1, 2): 25089.0, 2: 8.0}"), read by ast.literal_eval. The other fields (Dice before and after, the
 * folder names, num_samples) are what determine_postprocessing reports; nnU-Net does not read them back.
 * Written as batchgenerators' save_json writes it: sorted keys, 4-space indent, NaN literals.
 */
import { fail } from '../util/errors.js';
import { checkClass, type ClassOrGroup } from './connected-components.js';
import { labelOrRegionKey } from './metrics.js';
import {
  parsePythonJson,
  pythonFloatRepr,
  writePythonJson,
  type JsonParsed,
  type PyJsonValue,
} from './python-json.js';

/** What applying post-processing needs (all that nnU-Net's load_postprocessing reads). */
export interface PostprocessSpec {
  /** nnU-Net's for_which_classes: keep the largest component of each class or group, in this order. */
  readonly forWhichClasses: readonly ClassOrGroup[];
  /**
   * nnU-Net's min_valid_object_sizes (mm³) by key ("2", "(1, 2, 3)" — labelOrRegionKey), in the file's
   * order; null ("None", the default of determine_postprocessing): every component but the largest goes.
   */
  readonly minValidObjectSizes: ReadonlyMap<string, number> | null;
}

/** Everything determine_postprocessing writes. */
export interface PostprocessDetermination extends PostprocessSpec {
  /** Mean Dice per class ("1", "2", …): raw, after the all-foreground step, after the per-class step. */
  readonly dcPerClassRaw: Readonly<Record<string, number>>;
  readonly dcPerClassPpAll: Readonly<Record<string, number>>;
  readonly dcPerClassPpPerClass: Readonly<Record<string, number>>;
  readonly numSamples: number;
  /** Folder names nnU-Net records (validation_raw and validation_final). */
  readonly validationRaw: string;
  readonly validationFinal: string;
}

const where = 'postprocessing.json';

/** The str() of min_valid_object_sizes as Python prints the dict ("None" for null). */
export function formatMinValidObjectSizes(sizes: ReadonlyMap<string, number> | null): string {
  if (sizes === null) return 'None';
  return `{${[...sizes].map(([k, v]) => `${k}: ${pythonFloatRepr(v)}`).join(', ')}}`;
}

/**
 * Reads the Python dict literal of min_valid_object_sizes: int or tuple-of-int keys, number values
 * (an `np.float64(x)` wrapper, as numpy ≥ 2 prints it, is read as x). Keys come back as labelOrRegionKey.
 */
export function parseMinValidObjectSizes(text: string): Map<string, number> | null {
  const t = text.trim();
  if (t === 'None') return null;
  const bad = (why: string): never =>
    fail('BAD_INPUT', `${where}: min_valid_object_sizes '${text}' is not a dict of sizes (${why})`);
  const out = new Map<string, number>();
  const body = /^\{(.*)\}$/s.exec(t)?.[1] ?? bad("expected '{…}' or 'None'");
  const NUM = String.raw`[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|inf)`;
  const entry = new RegExp(
    String.raw`^\s*(\d+|\(\s*\d+\s*(?:,\s*\d+\s*)*,?\s*\))\s*:\s*(?:np\.float(?:64|32)\(\s*(${NUM})\s*\)|(${NUM}))\s*(,|$)`,
    's',
  );
  let rest = body;
  while (rest.trim() !== '') {
    const m = entry.exec(rest) ?? bad(`cannot read '${rest.trim().slice(0, 40)}'`);
    const keyText = m[1] ?? '';
    const key = keyText.startsWith('(')
      ? labelOrRegionKey(
          keyText
            .replace(/[()\s]/g, '')
            .split(',')
            .filter((s) => s !== '')
            .map(Number),
        )
      : labelOrRegionKey(Number(keyText));
    const value = Number((m[2] ?? m[3] ?? '').replace('inf', 'Infinity'));
    if (Number.isNaN(value) || value < 0) bad(`size ${value} for ${key}`);
    out.set(key, value);
    rest = rest.slice(m[0].length);
    if (m[4] === '' && rest.trim() !== '') bad('expected a comma');
  }
  return out;
}

function classOrGroup(v: JsonParsed, i: number): ClassOrGroup {
  const what = `${where}: for_which_classes[${i}]`;
  if (typeof v === 'number') {
    checkClass(v, what);
    return v;
  }
  if (Array.isArray(v) && v.length > 0) {
    return v.map((m) => {
      if (typeof m !== 'number') fail('BAD_INPUT', `${what} has ${JSON.stringify(m)}, not a class`);
      checkClass(m, what);
      return m;
    });
  }
  return fail(
    'BAD_INPUT',
    `${what} is ${JSON.stringify(v)}; expected a class or a non-empty list of classes`,
  );
}

/**
 * Reads a postprocessing.json written by nnU-Net v1 (or by us). One BAD_INPUT error names what is wrong:
 * not JSON, no for_which_classes, an entry that is not a class (0 is the background) or a list of classes,
 * min_valid_object_sizes that is not "None" or a dict, or that has no size for an entry.
 */
export function parsePostprocessingJson(text: string): PostprocessSpec {
  let root: JsonParsed;
  try {
    root = parsePythonJson(text);
  } catch (e) {
    fail('BAD_INPUT', `${where}: not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (root === null || typeof root !== 'object' || Array.isArray(root))
    fail('BAD_INPUT', `${where}: expected an object with for_which_classes`);
  const list = root.for_which_classes;
  if (list === undefined) fail('BAD_INPUT', `${where}: for_which_classes is missing`);
  if (!Array.isArray(list)) fail('BAD_INPUT', `${where}: for_which_classes is not a list`);
  const forWhichClasses = list.map(classOrGroup);
  const raw = root.min_valid_object_sizes;
  // load_postprocessing: a file without the key (nnU-Net before 1.6) means None.
  if (raw !== undefined && raw !== null && typeof raw !== 'string')
    fail(
      'BAD_INPUT',
      `${where}: min_valid_object_sizes must be a string ("None" or a dict), got ${JSON.stringify(raw)}`,
    );
  const minValidObjectSizes = typeof raw === 'string' ? parseMinValidObjectSizes(raw) : null;
  if (minValidObjectSizes !== null) {
    const missing = forWhichClasses.map(labelOrRegionKey).filter((k) => !minValidObjectSizes.has(k));
    if (missing.length > 0)
      fail(
        'BAD_INPUT',
        `${where}: min_valid_object_sizes has no size for ${missing.join(', ')} of for_which_classes`,
      );
  }
  return { forWhichClasses, minValidObjectSizes };
}

function isDetermination(s: PostprocessSpec): s is PostprocessDetermination {
  return 'dcPerClassRaw' in s;
}

/** The file as nnU-Net writes it; a bare spec gets only for_which_classes and min_valid_object_sizes. */
export function postprocessingToJson(spec: PostprocessSpec | PostprocessDetermination): string {
  const fields = new Map<string, PyJsonValue>([
    [
      'for_which_classes',
      spec.forWhichClasses.map((c): PyJsonValue => (typeof c === 'number' ? BigInt(c) : c.map(BigInt))),
    ],
    ['min_valid_object_sizes', formatMinValidObjectSizes(spec.minValidObjectSizes)],
  ]);
  if (isDetermination(spec)) {
    const floats = (r: Readonly<Record<string, number>>): PyJsonValue => new Map(Object.entries(r));
    fields.set('dc_per_class_raw', floats(spec.dcPerClassRaw));
    fields.set('dc_per_class_pp_all', floats(spec.dcPerClassPpAll));
    fields.set('dc_per_class_pp_per_class', floats(spec.dcPerClassPpPerClass));
    fields.set('num_samples', BigInt(spec.numSamples));
    fields.set('validation_raw', spec.validationRaw);
    fields.set('validation_final', spec.validationFinal);
  }
  return writePythonJson(fields);
}
