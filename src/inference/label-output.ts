/**
 * Label names travelling with a segmentation: a sidecar JSON, the same JSON inside the NIfTI file as a
 * header extension, and one binary mask per present class (`--per-class`).
 *
 * Extension code: NIfTI's registry (https://nifti.nimh.nih.gov/nifti-1/documentation/faq#Q21, nifti1.h
 * NIFTI_ECODE_*) has no generic JSON code — 32 is CIfTI (XML) and 44 is NIfTI-MRS (JSON with a fixed MRS
 * schema). Free text belongs in NIFTI_ECODE_COMMENT = 6, which readers (nibabel, nifti1_io, NiiVue) keep
 * and show as text; the payload is the sidecar's UTF-8 JSON, so a reader can JSON.parse it.
 */
import { fail } from '../util/errors.js';

export const NIFTI_ECODE_COMMENT = 6;

/** { "labels": { "0": "background", "1": "adrenal_gland_left", … } }, 2-space indented. */
export function labelSidecarJson(names: readonly string[]): string {
  const labels: Record<string, string> = {};
  names.forEach((n, i) => {
    labels[String(i)] = n;
  });
  return `${JSON.stringify({ labels }, null, 2)}\n`;
}

/** A NIfTI-1 extension (ecode 6, comment) carrying labelSidecarJson(names); pass it in header.extensions. */
export function niftiLabelExtension(names: readonly string[]): { code: number; data: Uint8Array } {
  return { code: NIFTI_ECODE_COMMENT, data: new TextEncoder().encode(labelSidecarJson(names)) };
}

/**
 * Label names back from a sidecar's text or an extension's payload (trailing NUL padding is ignored);
 * names[i] is label i, '' for gaps. Throws if the text is not our label JSON.
 */
export function parseLabelJson(text: string | Uint8Array): string[] {
  const s = typeof text === 'string' ? text : new TextDecoder().decode(text);
  let parsed: unknown;
  try {
    parsed = JSON.parse(s.replace(/\0+$/, ''));
  } catch (e) {
    fail('BAD_INPUT', `labels: not valid JSON (${(e as Error).message})`);
  }
  const labels = (parsed as { labels?: unknown } | null)?.labels;
  if (labels === null || typeof labels !== 'object' || Array.isArray(labels))
    fail('BAD_INPUT', 'labels: expected {"labels": {"0": "background", …}}');
  const names: string[] = [];
  for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
    const i = Number(k);
    if (!Number.isInteger(i) || i < 0 || typeof v !== 'string')
      fail('BAD_INPUT', `labels: entry "${k}": ${JSON.stringify(v)} is not "<label>": "<name>"`);
    names[i] = v;
  }
  return Array.from({ length: names.length }, (_, i) => names[i] ?? '');
}

/** The label names stored by niftiLabelExtension among a header's extensions, or undefined if none. */
export function labelNamesFromExtensions(
  extensions: readonly { code: number; data: Uint8Array }[],
): string[] | undefined {
  for (const e of extensions) {
    if (e.code !== NIFTI_ECODE_COMMENT) continue;
    // Other tools also write comments: only a JSON object with a "labels" object is ours.
    if (!/^\s*\{\s*"labels"\s*:/.test(new TextDecoder().decode(e.data.subarray(0, 64)))) continue;
    return parseLabelJson(e.data);
  }
  return undefined;
}

/**
 * One binary mask (0/1, same voxel order) per named class (empty ones too, as TotalSegmentator writes
 * them) and per other label present in `labels`, ascending, label 0 excluded.
 * A generator: one mask is alive at a time if the caller writes and drops it. Unnamed labels are
 * called `label_<n>`.
 */
export function* splitPerClass(
  labels: Uint8Array | Uint16Array,
  names: readonly string[],
): Iterable<{ label: number; name: string; mask: Uint8Array }> {
  // Every named class (empty masks too, as TotalSegmentator writes them), and any other label present.
  const present = new Uint8Array(labels instanceof Uint8Array ? 256 : 65536);
  for (let l = 1; l < Math.min(names.length, present.length); l++) present[l] = 1;
  for (const l of labels) present[l] = 1;
  for (let l = 1; l < present.length; l++) {
    if (present[l] === 0) continue;
    const mask = new Uint8Array(labels.length);
    for (let i = 0; i < labels.length; i++) if (labels[i] === l) mask[i] = 1;
    const name = names[l];
    yield { label: l, name: name === undefined || name === '' ? `label_${l}` : name, mask };
  }
}
