/**
 * Label maps as data: STU-Net's 104-class order, TotalSegmentator v1 and v2 ('total' task) class names,
 * remapping between them by name, and STU-Net's direct-inference tables (104-class prediction →
 * downstream dataset). The JSON files beside this module say where each table comes from.
 */
import { fail } from '../../util/errors.js';
import directInference from './stunet-direct-inference.json' with { type: 'json' };
import stunet104 from './stunet-104.json' with { type: 'json' };
import totalsegV1 from './totalseg-v1-104.json' with { type: 'json' };
import totalsegV2 from './totalseg-v2-total.json' with { type: 'json' };

/** 'stunet104': released STU-Net models (alphabetical); 'totalsegV1' / 'totalsegV2': TotalSegmentator's own orders. */
export type LabelSystem = 'stunet104' | 'totalsegV1' | 'totalsegV2';

const NAMES: Readonly<Record<LabelSystem, readonly string[]>> = {
  stunet104: stunet104.names,
  totalsegV1: totalsegV1.names,
  totalsegV2: totalsegV2.names,
};

/** Class names indexed by label value; index 0 is "background". */
export function labelNames(system: LabelSystem): readonly string[] {
  return NAMES[system];
}

/** The label value of a class name in a system. */
export function labelIndex(system: LabelSystem, name: string): number {
  const i = NAMES[system].indexOf(name);
  if (i < 0) fail('NOT_FOUND', `labels: '${name}' is not a ${system} class`);
  return i;
}

/**
 * Lookup table from one system's label values to another's, by class name (0 → 0). stunet104 ↔
 * totalsegV1 is a pure permutation. TotalSegmentator v2 has no v1 class renamed, but the heart chambers,
 * pulmonary_artery and face left its 'total' task (v2 has one 'heart'); such classes throw unless
 * `missing: 'background'` maps them to 0.
 */
export function labelRemapTable(
  from: LabelSystem,
  to: LabelSystem,
  options: { missing?: 'error' | 'background' } = {},
): Uint8Array {
  const target = new Map(NAMES[to].map((n, i) => [n, i]));
  const src = NAMES[from];
  const table = new Uint8Array(256);
  const absent: string[] = [];
  src.forEach((name, i) => {
    const j = target.get(name);
    if (j === undefined) absent.push(name);
    else table[i] = j;
  });
  if (absent.length > 0 && options.missing !== 'background') {
    fail(
      'NOT_FOUND',
      `labels: ${from} → ${to}: no ${to} class for ${absent.join(', ')} (pass missing: 'background' to map them to 0)`,
    );
  }
  return table;
}

/** Applies a lookup table from labelRemapTable (values outside the table become 0). */
export function remapLabels(labels: ArrayLike<number>, table: Uint8Array): Uint8Array {
  const out = new Uint8Array(labels.length);
  for (let i = 0; i < labels.length; i++) out[i] = table[labels[i] as number] ?? 0;
  return out;
}

export {
  directInferenceDatasets,
  directInferenceTable,
  mapPrediction,
  mapReference,
} from './direct-inference.js';
export type { DirectInferenceEntry, DirectInferenceOptions } from './direct-inference.js';
export { directInference as directInferenceData };
