/**
 * `--names totalseg-v1|totalseg-v2|stunet`: the written label map in another scheme's class names and
 * values, mapped by name from the model's classes, so that the output drops into pipelines built for
 * TotalSegmentator. TotalSegmentator v2 merged the heart's chambers and myocardium into one class `heart`
 * (resources/improvements_in_v2.md, recorded in totalseg-v2-total.json as movedFromV1): those map to it. A
 * class the scheme lacks (v2: pulmonary_artery, face) is an error naming it, unless `missing: 'background'`.
 */
import { fail } from '../../util/errors.js';
import totalsegV2 from './totalseg-v2-total.json' with { type: 'json' };
import { labelNames, type LabelSystem } from './index.js';

/** The spellings the CLI accepts (both commands), and the system each names. */
const SPELLINGS: Readonly<Record<string, LabelSystem>> = {
  stunet: 'stunet104',
  stunet104: 'stunet104',
  'totalseg-v1': 'totalsegV1',
  totalsegV1: 'totalsegV1',
  'totalseg-v2': 'totalsegV2',
  totalsegV2: 'totalsegV2',
};

/** `stunet`, `totalseg-v1`, `totalseg-v2` (or stunet104, totalsegV1, totalsegV2) → the label system. */
export function parseLabelSystem(text: string): LabelSystem {
  const s = SPELLINGS[text];
  if (s === undefined)
    fail('BAD_INPUT', `unknown label names '${text}': use stunet, totalseg-v1 or totalseg-v2`);
  return s;
}

/** The CLI's name of a system. */
export function labelSystemName(system: LabelSystem): string {
  return system === 'stunet104' ? 'stunet' : system === 'totalsegV1' ? 'totalseg-v1' : 'totalseg-v2';
}

export interface SchemeRemap {
  /** table[model label] = the scheme's label (0 for background and dropped classes). */
  readonly table: Uint16Array;
  /** The scheme's names, indexed by its label values. */
  readonly names: readonly string[];
  /** Model classes written as another name: `heart_atrium_left → heart`. */
  readonly merged: readonly string[];
  /** Model classes the scheme lacks, written as background (missing: 'background'). */
  readonly dropped: readonly string[];
}

/** Where a class the scheme lacks by name went instead (v2: the heart's parts into `heart`). */
function mergedInto(system: LabelSystem): Map<string, string> {
  const out = new Map<string, string>();
  if (system !== 'totalsegV2') return out;
  for (const [target, parts] of Object.entries(totalsegV2.movedFromV1))
    if (!target.startsWith('task:')) for (const p of parts) out.set(p, target);
  return out;
}

/**
 * Maps a model's classes (`modelNames[i]` = name of label i; 0 is background) onto a scheme by name.
 * Refused when a model class has no place in the scheme (naming every such class), unless
 * `missing: 'background'`.
 */
export function schemeRemap(
  modelNames: readonly string[],
  system: LabelSystem,
  options: { readonly missing?: 'error' | 'background' } = {},
): SchemeRemap {
  const names = labelNames(system);
  const index = new Map(names.map((n, i) => [n, i]));
  const merge = mergedInto(system);
  const table = new Uint16Array(Math.max(modelNames.length, 1));
  const merged: string[] = [];
  const dropped: string[] = [];
  modelNames.forEach((name, i) => {
    if (i === 0) return;
    const direct = index.get(name);
    const via = merge.get(name);
    const j = direct ?? (via === undefined ? undefined : index.get(via));
    if (j === undefined) dropped.push(name);
    else {
      table[i] = j;
      if (direct === undefined) merged.push(`${name} → ${via ?? ''}`);
    }
  });
  if (dropped.length > 0 && options.missing !== 'background')
    fail(
      'BAD_INPUT',
      `--names ${labelSystemName(system)}: the scheme has no class ${dropped.join(', ')} of this model's ` +
        `${modelNames.length - 1}; add --missing-classes background to write ${dropped.length === 1 ? 'it' : 'them'} as background`,
    );
  return { table, names, merged, dropped };
}

/** Applies a scheme's table: a new label map (uint8 when the scheme has ≤ 256 classes). */
export function applySchemeRemap(
  labels: Uint8Array | Uint16Array,
  remap: SchemeRemap,
): Uint8Array | Uint16Array {
  const out = remap.names.length <= 256 ? new Uint8Array(labels.length) : new Uint16Array(labels.length);
  const t = remap.table;
  for (let i = 0; i < labels.length; i++) out[i] = t[labels[i] as number] ?? 0;
  return out;
}
