/**
 * One colour per class, the same in the viewer, the class list and the screenshot check of the tests:
 * hues 137.5° apart (the golden angle), so neighbouring label values never look alike, at two lightness
 * levels. Class 0 (background) is transparent.
 */

export type Rgb = readonly [number, number, number];

function hslToRgb(h: number, s: number, l: number): Rgb {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number): number => {
    const k = (n + h / 30) % 12;
    return Math.round(255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [f(0), f(8), f(4)];
}

/** The colour of label `label` (> 0). */
export function labelColour(label: number): Rgb {
  return hslToRgb((label * 137.508) % 360, 0.85, label % 2 === 0 ? 0.45 : 0.6);
}

/** `#rrggbb`. */
export function cssColour(label: number): string {
  return `#${labelColour(label)
    .map((v) => v.toString(16).padStart(2, '0'))
    .join('')}`;
}
