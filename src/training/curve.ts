/**
 * The training curve as a PNG (nnU-Net's progress.png, without text): train loss (blue, own y-range,
 * left), mean pseudo-Dice (green) and its EMA (red) on a fixed 0…1 range, over epochs. A tiny line
 * plotter onto an RGBA buffer; grid lines mark Dice 0.25, 0.5, 0.75.
 */
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

export function renderCurve(log: readonly EpochLog[], width = 640, height = 360): Uint8Array {
  const c = new Canvas(width, height);
  const box = { x0: 40, y0: 20, x1: width - 20, y1: height - 30 };
  const grey: Rgb = [160, 160, 160];
  const light: Rgb = [225, 225, 225];
  for (const f of [0.25, 0.5, 0.75]) {
    const y = box.y1 - (box.y1 - box.y0) * f;
    c.line(box.x0, y, box.x1, y, light);
  }
  c.line(box.x0, box.y0, box.x0, box.y1, grey);
  c.line(box.x0, box.y1, box.x1, box.y1, grey);
  const losses = log.map((e) => e.trainLoss);
  const finite = losses.filter((v): v is number => v !== null);
  const lo = finite.length > 0 ? Math.min(...finite) : 0;
  const hi = finite.length > 0 ? Math.max(...finite) : 1;
  const pad = (hi - lo) * 0.05 || 0.5;
  plotSeries(c, losses, box, [lo - pad, hi + pad], CURVE_COLORS.loss);
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
  // Legend swatches, top right: loss, Dice, EMA.
  [CURVE_COLORS.loss, CURVE_COLORS.dice, CURVE_COLORS.ema].forEach((col, i) => {
    const x = box.x1 - 60 + i * 20;
    for (let d = 0; d < 10; d++) c.line(x, 6 + d, x + 12, 6 + d, col);
  });
  return encodePng(c.rgba, width, height);
}
