/**
 * The training curve as a PNG (nnU-Net's progress.png): train loss (blue, own y-range, left axis), mean
 * pseudo-Dice (green) and its EMA (red) on a fixed 0…1 range (right axis), over epochs, with tick labels
 * and a legend in a 5×7 bitmap font. A tiny line plotter onto an RGBA buffer; grid lines mark Dice 0.25,
 * 0.5, 0.75.
 */
import { drawText, textWidth } from '../io/bitmap-font.js';
import { encodePng } from '../io/png.js';
import type { EpochLog } from './checkpointing.js';

type Rgb = readonly [number, number, number];
export const CURVE_COLORS = {
  loss: [31, 119, 180] as Rgb,
  dice: [44, 160, 44] as Rgb,
  ema: [214, 39, 40] as Rgb,
} as const;

class Canvas {
  readonly rgba: Uint8Array;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.rgba = new Uint8Array(width * height * 4).fill(255);
  }
  set(x: number, y: number, c: Rgb): void {
    const xi = Math.round(x);
    const yi = Math.round(y);
    if (xi < 0 || yi < 0 || xi >= this.width || yi >= this.height) return;
    const o = (yi * this.width + xi) * 4;
    this.rgba[o] = c[0];
    this.rgba[o + 1] = c[1];
    this.rgba[o + 2] = c[2];
    this.rgba[o + 3] = 255;
  }
  /** A 2-px line (enough steps that no pixel is skipped). */
  line(x0: number, y0: number, x1: number, y1: number, c: Rgb): void {
    const n = Math.max(1, Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
    for (let i = 0; i <= n; i++) {
      const x = x0 + ((x1 - x0) * i) / n;
      const y = y0 + ((y1 - y0) * i) / n;
      this.set(x, y, c);
      this.set(x, y + 1, c);
    }
  }
}

/** Pixels of the plotted series (for tests): null values leave gaps. */
export function plotSeries(
  canvas: { line(x0: number, y0: number, x1: number, y1: number, c: Rgb): void },
  values: readonly (number | null)[],
  box: { x0: number; y0: number; x1: number; y1: number },
  range: readonly [number, number],
  color: Rgb,
): void {
  const n = values.length;
  const span = range[1] - range[0] || 1;
  const px = (i: number): number => box.x0 + (n <= 1 ? 0 : ((box.x1 - box.x0) * i) / (n - 1));
  const py = (v: number): number => box.y1 - ((box.y1 - box.y0) * (v - range[0])) / span;
  for (let i = 0; i < n; i++) {
    const a = values[i];
    const b = values[i + 1];
    if (a === null || a === undefined) continue;
    if (b === null || b === undefined) canvas.line(px(i), py(a), px(i), py(a), color);
    else canvas.line(px(i), py(a), px(i + 1), py(b), color);
  }
}

/** A step of 1, 2 or 5 × 10^k giving at most `maxTicks` ticks over `span`. */
export function niceStep(span: number, maxTicks: number): number {
  if (!(span > 0)) return 1;
  const raw = span / Math.max(1, maxTicks);
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

/** Tick label with as many decimals (≤ 3) as the step needs: step 0.25 → "0.50", step 0.2 → "-0.4", step 5 → "10". */
function tickLabel(v: number, step: number): string {
  let decimals = 0;
  while (decimals < 3 && Math.abs(Math.round(step * 10 ** decimals) - step * 10 ** decimals) > 1e-6)
    decimals++;
  const t = v.toFixed(decimals);
  return /^-0(\.0*)?$/.test(t) ? t.slice(1) : t;
}

export function renderCurve(log: readonly EpochLog[], width = 640, height = 360): Uint8Array {
  const c = new Canvas(width, height);
  const text = (x: number, y: number, s: string, col: Rgb): void => {
    drawText(c.rgba, width, height, x, y, s, col);
  };
  const box = { x0: 48, y0: 24, x1: width - 40, y1: height - 30 };
  const grey: Rgb = [160, 160, 160];
  const light: Rgb = [225, 225, 225];
  const ink: Rgb = [60, 60, 60];
  // Dice axis (right): 0…1 with grid lines at the quarters.
  for (const f of [0, 0.25, 0.5, 0.75, 1]) {
    const y = box.y1 - (box.y1 - box.y0) * f;
    if (f > 0 && f < 1) c.line(box.x0, y, box.x1, y, light);
    c.line(box.x1, y, box.x1 + 3, y, grey);
    text(box.x1 + 6, y - 3, tickLabel(f, 0.25), ink);
  }
  c.line(box.x0, box.y0, box.x0, box.y1, grey);
  c.line(box.x1, box.y0, box.x1, box.y1, grey);
  c.line(box.x0, box.y1, box.x1, box.y1, grey);
  const losses = log.map((e) => e.trainLoss);
  const finite = losses.filter((v): v is number => v !== null);
  const lo = finite.length > 0 ? Math.min(...finite) : 0;
  const hi = finite.length > 0 ? Math.max(...finite) : 1;
  const pad = (hi - lo) * 0.05 || 0.5;
  const lossRange: [number, number] = [lo - pad, hi + pad];
  // Loss axis (left): its own range.
  const lossStep = niceStep(lossRange[1] - lossRange[0], 6);
  const kLast = Math.floor(lossRange[1] / lossStep);
  for (let k = Math.ceil(lossRange[0] / lossStep); k <= kLast; k++) {
    const v = k * lossStep;
    const y = box.y1 - ((box.y1 - box.y0) * (v - lossRange[0])) / (lossRange[1] - lossRange[0]);
    c.line(box.x0 - 3, y, box.x0, y, grey);
    const label = tickLabel(v, lossStep);
    text(box.x0 - 6 - textWidth(label), y - 3, label, ink);
  }
  // Epoch axis: ticks at multiples of a nice step, labelled with the logged epoch numbers.
  const n = log.length;
  if (n > 0) {
    const first = (log[0] as EpochLog).epoch;
    const last = (log[n - 1] as EpochLog).epoch;
    const step = Math.max(1, niceStep(last - first, Math.max(2, Math.floor((box.x1 - box.x0) / 50))));
    for (let i = 0; i < n; i++) {
      const e = (log[i] as EpochLog).epoch;
      if (e % step !== 0 && i !== 0) continue;
      const x = box.x0 + (n <= 1 ? 0 : ((box.x1 - box.x0) * i) / (n - 1));
      c.line(x, box.y1, x, box.y1 + 3, grey);
      const label = String(e);
      text(x - textWidth(label) / 2, box.y1 + 6, label, ink);
    }
  }
  const title = 'EPOCH';
  text((box.x0 + box.x1) / 2 - textWidth(title) / 2, height - 9, title, ink);
  plotSeries(c, losses, box, lossRange, CURVE_COLORS.loss);
  plotSeries(
    c,
    log.map((e) => e.meanPseudoDice),
    box,
    [0, 1],
    CURVE_COLORS.dice,
  );
  plotSeries(
    c,
    log.map((e) => e.emaPseudoDice),
    box,
    [0, 1],
    CURVE_COLORS.ema,
  );
  // Legend, top left (rows 6…15): swatch and name per series.
  let x = box.x0;
  for (const [name, col] of [
    ['LOSS (LEFT AXIS)', CURVE_COLORS.loss],
    ['PSEUDO DICE (RIGHT AXIS)', CURVE_COLORS.dice],
    ['PSEUDO DICE EMA', CURVE_COLORS.ema],
  ] as const) {
    for (let d = 0; d < 8; d++) c.line(x, 7 + d, x + 10, 7 + d, col);
    text(x + 14, 8, name, ink);
    x += 14 + textWidth(name) + 12;
  }
  return encodePng(c.rgba, width, height);
}
