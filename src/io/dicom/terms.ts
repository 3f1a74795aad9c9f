import snomed from './snomed-totalseg.json' with { type: 'json' };

/** A coded concept: [CodingSchemeDesignator, CodeValue, CodeMeaning] (SCT = SNOMED CT). */
export type Code = readonly [string, string, string];

export interface SegmentTerms {
  readonly category: Code;
  readonly type: Code;
  readonly typeModifier?: Code;
  readonly region?: Code;
  readonly regionModifier?: Code;
  /** Display colour (sRGB 0–255). */
  readonly rgb: readonly [number, number, number];
  /** False when the class has no entry in the mapping and got the generic code. */
  readonly coded: boolean;
}

interface Entry {
  category: string[];
  type: string[];
  typeModifier?: string[];
  region?: string[];
  regionModifier?: string[];
  rgb?: number[];
}

/** The mapping as shipped (`snomed-totalseg.json`: TotalSegmentator's, with its source and licence). */
export const SNOMED_SOURCE: string = snomed.source;
const CLASSES = snomed.classes as Record<string, Entry>;

/** What a class without a code is called: SCT 85756007 "Tissue" / 85756007 "Tissue" (as dcmqi does). */
export const GENERIC_CATEGORY: Code = ['SCT', '85756007', 'Tissue'];
export const GENERIC_TYPE: Code = ['SCT', '85756007', 'Tissue'];

const code = (c: string[] | undefined): Code | undefined =>
  c === undefined || c.length !== 3 ? undefined : [c[0] ?? '', c[1] ?? '', c[2] ?? ''];

/** A stable colour for a class without one: a hue from the label value. */
function paletteColour(label: number): [number, number, number] {
  const h = (label * 137.508) % 360;
  const f = (n: number): number => {
    const k = (n + h / 60) % 6;
    return Math.round(255 * (1 - 0.7 * Math.max(0, Math.min(k, 4 - k, 1))));
  };
  return [f(5), f(3), f(1)];
}

/** SNOMED CT codes (TotalSegmentator's mapping) of a class name, or the generic "Tissue" code. */
export function segmentTerms(name: string, label: number): SegmentTerms {
  const e = Object.prototype.hasOwnProperty.call(CLASSES, name) ? CLASSES[name] : undefined;
  const category = code(e?.category);
  const type = code(e?.type);
  const rgb = e?.rgb;
  const colour: [number, number, number] =
    rgb?.length === 3 ? [rgb[0] ?? 0, rgb[1] ?? 0, rgb[2] ?? 0] : paletteColour(label);
  if (category === undefined || type === undefined) {
    return { category: GENERIC_CATEGORY, type: GENERIC_TYPE, rgb: colour, coded: false };
  }
  const opt = (k: 'typeModifier' | 'region' | 'regionModifier'): { [x: string]: Code } => {
    const c = code(e?.[k]);
    return c === undefined ? {} : { [k]: c };
  };
  return {
    category,
    type,
    ...opt('typeModifier'),
    ...opt('region'),
    ...opt('regionModifier'),
    rgb: colour,
    coded: true,
  };
}

/** sRGB (0–255) → DICOM's scaled CIELab (PS3.3 C.10.7.1.1: L 0–100, a and b −128–127, onto 0–65535). */
export function rgbToDicomLab(rgb: readonly [number, number, number]): [number, number, number] {
  const lin = rgb.map((v) => {
    const c = v / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  const [r, g, b] = [lin[0] ?? 0, lin[1] ?? 0, lin[2] ?? 0];
  // D65 white point, as highdicom and dcmqi use
  const x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047;
  const y = 0.2126729 * r + 0.7151522 * g + 0.072175 * b;
  const z = (0.0193339 * r + 0.119192 * g + 0.9503041 * b) / 1.08883;
  const f = (t: number): number => (t > 216 / 24389 ? Math.cbrt(t) : ((24389 / 27) * t + 16) / 116);
  const L = 116 * f(y) - 16;
  const A = 500 * (f(x) - f(y));
  const B = 200 * (f(y) - f(z));
  const clamp = (v: number): number => Math.max(0, Math.min(65535, Math.round(v)));
  return [clamp((L * 65535) / 100), clamp(((A + 128) * 65535) / 255), clamp(((B + 128) * 65535) / 255)];
}
