/**
 * The annotations of a preview (issue 17, item 12): above each panel its plane and slice index (NIfTI
 * voxel index k, j or i of the slice shown), at its edges the patient directions (from the image's axis
 * codes), and below the panels a colour key of the classes present with their names.
 */
import { drawText, GLYPH_ADVANCE, GLYPH_HEIGHT, textWidth } from '../io/bitmap-font.js';

/** Hand-picked distinct colours for labels 1–20 (Kelly/Tableau-like); later labels by golden-angle hue. */
const BASE_PALETTE: readonly (readonly [number, number, number])[] = [
  [230, 25, 75],
  [60, 180, 75],
  [255, 225, 25],
  [0, 130, 200],
  [245, 130, 48],
  [145, 30, 180],
  [70, 240, 240],
  [240, 50, 230],
  [210, 245, 60],
  [250, 190, 212],
  [0, 128, 128],
  [220, 190, 255],
  [170, 110, 40],
  [255, 250, 200],
  [128, 0, 0],
  [170, 255, 195],
  [128, 128, 0],
  [255, 215, 180],
  [0, 0, 128],
  [255, 255, 255],
];

/** The overlay colour of a label (≥ 1); fixed, so the same organ has the same colour in every preview. */
export function previewColour(label: number): readonly [number, number, number] {
  const base = BASE_PALETTE[label - 1];
  if (base !== undefined) return base;
  const h = (label * 137.508) % 360; // golden angle: neighbouring labels get far-apart hues
  return hsvToRgb(h, 0.75, 0.95);
}

function hsvToRgb(h: number, s: number, v: number): [number, number, number] {
  const f = (n: number): number => {
    const k = (n + h / 60) % 6;
    return Math.round(255 * (v - v * s * Math.max(0, Math.min(k, 4 - k, 1))));
  };
  return [f(5), f(3), f(1)];
}

export const HEADER_PX = GLYPH_HEIGHT + 5;
const ROW_PX = GLYPH_HEIGHT + 4;
const SWATCH = GLYPH_HEIGHT;
const MAX_NAME = 24;
const TEXT: readonly [number, number, number] = [235, 235, 235];
const DIRECTION: readonly [number, number, number] = [255, 220, 0];
const OPPOSITE: Readonly<Record<string, string>> = { R: 'L', L: 'R', A: 'P', P: 'A', S: 'I', I: 'S' };

export interface PanelBox {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

export interface Canvas {
  readonly rgba: Uint8Array;
  readonly width: number;
  readonly height: number;
}

export interface KeyLayout {
  readonly entries: readonly { readonly label: number; readonly text: string }[];
  readonly columns: number;
  readonly columnWidth: number;
  readonly width: number;
  readonly height: number;
}

/** The key's entries (labels present, ascending) laid out in as many columns as `width` holds. */
export function keyLayout(
  labels: Uint8Array | Uint16Array,
  names: readonly string[],
  width: number,
): KeyLayout {
  const seen = new Uint8Array(65536);
  for (const l of labels) seen[l] = 1;
  const entries: { label: number; text: string }[] = [];
  for (let l = 1; l < seen.length; l++) {
    if (seen[l] === 0) continue;
    const name = names[l] ?? `label_${l}`;
    const text = `${l} ${name.length > MAX_NAME ? `${name.slice(0, MAX_NAME - 1)}-` : name}`;
    entries.push({ label: l, text });
  }
  const longest = Math.max(0, ...entries.map((e) => textWidth(e.text)));
  const columnWidth = SWATCH + 4 + longest + 10;
  const columns = Math.max(1, Math.floor(width / columnWidth));
  const rows = Math.ceil(entries.length / columns);
  return {
    entries,
    columns,
    columnWidth,
    width: entries.length === 0 ? 0 : Math.min(columns, entries.length) * columnWidth,
    height: rows === 0 ? 0 : rows * ROW_PX + 6,
  };
}

function fill(c: Canvas, x: number, y: number, w: number, h: number, rgb: readonly number[]): void {
  for (let py = Math.max(0, y); py < Math.min(c.height, y + h); py++)
    for (let px = Math.max(0, x); px < Math.min(c.width, x + w); px++) {
      const o = (py * c.width + px) * 4;
      c.rgba[o] = rgb[0] ?? 0;
      c.rgba[o + 1] = rgb[1] ?? 0;
      c.rgba[o + 2] = rgb[2] ?? 0;
    }
}

/** Swatches and names, row by row from `top`. */
export function drawKey(c: Canvas, key: KeyLayout, top: number): void {
  key.entries.forEach((e, n) => {
    const x = (n % key.columns) * key.columnWidth + 2;
    const y = top + 4 + Math.floor(n / key.columns) * ROW_PX;
    fill(c, x, y, SWATCH, SWATCH, previewColour(e.label));
    drawText(c.rgba, c.width, c.height, x + SWATCH + 4, y, e.text, TEXT);
  });
}

/**
 * Titles with the slice index over the panels (axial, coronal, sagittal: array z, y, x = NIfTI k, j, i)
 * and, given the axis codes, direction letters at the panels' edges. Panels draw each axis from its last
 * index (top, left) to 0, so the letter at the left edge or top is where that axis increases towards.
 */
export function drawPanelAnnotations(
  c: Canvas,
  boxes: readonly PanelBox[],
  centreZYX: readonly number[],
  orientation: string | undefined,
): void {
  const [cz = 0, cy = 0, cx = 0] = centreZYX;
  const titles = [
    ['AXIAL', `K=${cz}`],
    ['CORONAL', `J=${cy}`],
    ['SAGITTAL', `I=${cx}`],
  ];
  // (row axis, column axis) of each panel as NIfTI axis numbers: i = 0, j = 1, k = 2.
  const axes: readonly (readonly [number, number])[] = [
    [1, 0],
    [2, 0],
    [2, 1],
  ];
  boxes.forEach((b, p) => {
    const [plane = '', index = ''] = titles[p] ?? [];
    const long = `${plane} ${index}`;
    const title = textWidth(long) <= b.width ? long : index; // a narrow panel shows its index only
    drawText(c.rgba, c.width, c.height, b.left + 1, 2, title, TEXT);
    const code = orientation?.toUpperCase();
    if (code === undefined || code.length !== 3) return;
    const [rowAxis = 0, colAxis = 0] = axes[p] ?? [];
    const top = code[rowAxis] ?? '?';
    const left = code[colAxis] ?? '?';
    const midY = b.top + ((b.height - GLYPH_HEIGHT) >> 1);
    const midX = b.left + ((b.width - GLYPH_ADVANCE) >> 1);
    drawText(c.rgba, c.width, c.height, b.left + 2, midY, left, DIRECTION);
    drawText(
      c.rgba,
      c.width,
      c.height,
      b.left + b.width - GLYPH_ADVANCE - 1,
      midY,
      OPPOSITE[left] ?? '?',
      DIRECTION,
    );
    drawText(c.rgba, c.width, c.height, midX, b.top + 2, top, DIRECTION);
    drawText(
      c.rgba,
      c.width,
      c.height,
      midX,
      b.top + b.height - GLYPH_HEIGHT - 2,
      OPPOSITE[top] ?? '?',
      DIRECTION,
    );
  });
}
