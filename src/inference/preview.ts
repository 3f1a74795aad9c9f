/**
 * `stunet predict --preview`: a PNG with three orthogonal slices (axial, coronal, sagittal) through the
 * centre of the labelled region's bounding box, side by side at one common mm-per-pixel scale (so
 * anisotropic spacing looks right), greyscale under a colour overlay (alpha 0.45, label 0 transparent).
 *
 * Arrays are in nnU-Net's (Z, Y, X) order = NIfTI (k, j, i). No reorientation is done: every axis is
 * drawn from its last index to its first (rows top→bottom, columns left→right), which for RAS-stored
 * images (most NIfTI writers, and `--reorient`) is the radiological view: superior and anterior at the
 * top, the patient's right on the left, anterior on the left in the sagittal panel. Nearest-neighbour
 * sampling, browser-safe.
 */
import { fail } from '../util/errors.js';
import { encodePng } from '../io/png.js';
import { nonzeroBox } from '../preprocessing/crop.js';
import {
  drawKey,
  drawPanelAnnotations,
  HEADER_PX,
  keyLayout,
  previewColour,
  type PanelBox,
} from './preview-key.js';

export { previewColour };

export interface PreviewOptions {
  /** Intensities, (Z, Y, X) C-order. */
  readonly image: Float32Array;
  /** Labels, same layout. */
  readonly labels: Uint8Array | Uint16Array;
  readonly shapeZYX: readonly [number, number, number];
  /** mm. */
  readonly spacingZYX: readonly [number, number, number];
  /** Grey window [low, high]. Default: CT window [-400, 600] HU when the image looks like CT (minimum
   * ≤ −500, i.e. air in HU), else the 0.5/99.5 percentiles of the three slices. */
  readonly window?: [number, number];
  /** Overlay opacity, default 0.45. */
  readonly alpha?: number;
  /** Pixels along the longest physical extent of the volume (default 384): small or coarse volumes are
   * enlarged, large ones reduced, so previews have a similar size whatever the spacing. */
  readonly maxPanelPx?: number;
  /**
   * Annotations (what `stunet predict --preview` draws): each panel's plane and slice index above it,
   * the patient directions at its edges, and a colour key of the classes present, named, below.
   */
  readonly annotate?: PreviewAnnotations;
}

export interface PreviewAnnotations {
  /** Class names by label value (label 0 is never listed). */
  readonly labelNames: readonly string[];
  /**
   * nibabel axis codes of the NIfTI axes (i, j, k) = array (X, Y, Z), e.g. 'RAS': the direction each
   * index increases towards. Without it no direction letters are drawn.
   */
  readonly orientation?: string;
}

export const CT_WINDOW: readonly [number, number] = [-400, 600];

interface Panel {
  /** Flat (Z, Y, X) index of each output pixel, row-major. */
  readonly index: Int32Array;
  readonly width: number;
  readonly height: number;
}

/**
 * A plane through the volume: rows walk one axis and columns another, both from the last index (top,
 * left) to index 0.
 */
function plane(
  base: number,
  rows: { n: number; spacing: number; stride: number },
  cols: { n: number; spacing: number; stride: number },
  mmPerPx: number,
): Panel {
  const height = Math.max(1, Math.round((rows.n * rows.spacing) / mmPerPx));
  const width = Math.max(1, Math.round((cols.n * cols.spacing) / mmPerPx));
  const index = new Int32Array(width * height);
  for (let py = 0; py < height; py++) {
    const r = rows.n - 1 - Math.min(rows.n - 1, Math.floor(((py + 0.5) * mmPerPx) / rows.spacing));
    for (let px = 0; px < width; px++) {
      const c = cols.n - 1 - Math.min(cols.n - 1, Math.floor(((px + 0.5) * mmPerPx) / cols.spacing));
      index[py * width + px] = base + r * rows.stride + c * cols.stride;
    }
  }
  return { index, width, height };
}

/** Centre of the bounding box of the labelled voxels, or of the volume when nothing is labelled. */
function labelCentre(labels: Uint8Array | Uint16Array, dims: readonly [number, number, number]): number[] {
  const box = nonzeroBox(labels, dims);
  if (box === null) return dims.map((n) => n >> 1);
  return box.map(([lo, hi]) => Math.floor((lo + hi - 1) / 2));
}

function percentile(sorted: Float32Array, q: number): number {
  const pos = (sorted.length - 1) * q;
  const i = Math.floor(pos);
  const a = sorted[i] ?? 0;
  const b = sorted[Math.min(i + 1, sorted.length - 1)] ?? a;
  return a + (b - a) * (pos - i);
}

function autoWindow(image: Float32Array, panels: readonly Panel[]): [number, number] {
  let min = Infinity;
  for (const v of image) if (v < min) min = v;
  if (min <= -500) return [CT_WINDOW[0], CT_WINDOW[1]];
  const values = new Float32Array(panels.reduce((a, p) => a + p.index.length, 0));
  let k = 0;
  for (const p of panels) for (const i of p.index) values[k++] = image[i] ?? 0;
  values.sort();
  const low = percentile(values, 0.005);
  const high = percentile(values, 0.995);
  return high > low ? [low, high] : [low, low + 1];
}

/** Renders the preview PNG (see the module comment). */
export function renderPreview(opts: PreviewOptions): Uint8Array {
  const { image, labels, shapeZYX, spacingZYX } = opts;
  const [nz, ny, nx] = shapeZYX;
  const n = nz * ny * nx;
  if (image.length !== n || labels.length !== n) {
    fail(
      'SHAPE_MISMATCH',
      `preview: shape (${shapeZYX.join(', ')}) needs ${n} voxels; image has ${image.length}, labels ${labels.length}`,
    );
  }
  if (spacingZYX.some((s) => !Number.isFinite(s) || s <= 0))
    fail('BAD_INPUT', `preview: spacing must be positive mm values, got [${spacingZYX.join(', ')}]`);
  const [sz, sy, sx] = spacingZYX;
  const alpha = opts.alpha ?? 0.45;
  const maxPx = opts.maxPanelPx ?? 384;
  const mmPerPx = Math.max(nz * sz, ny * sy, nx * sx) / maxPx;
  const [cz = 0, cy = 0, cx = 0] = labelCentre(labels, shapeZYX);
  const Z = { n: nz, spacing: sz, stride: ny * nx };
  const Y = { n: ny, spacing: sy, stride: nx };
  const X = { n: nx, spacing: sx, stride: 1 };
  const panels = [
    plane(cz * ny * nx, Y, X, mmPerPx), // axial
    plane(cy * nx, Z, X, mmPerPx), // coronal
    plane(cx, Z, Y, mmPerPx), // sagittal
  ];
  const [low, high] = opts.window ?? autoWindow(image, panels);
  if (!(high > low)) fail('BAD_INPUT', `preview: window [${low}, ${high}] must have high > low`);
  const gap = 4;
  const panelsWidth = panels.reduce((a, p) => a + p.width, 0) + gap * (panels.length - 1);
  const panelsHeight = Math.max(...panels.map((p) => p.height));
  const ann = opts.annotate;
  const key = ann === undefined ? null : keyLayout(labels, ann.labelNames, panelsWidth);
  const header = ann === undefined ? 0 : HEADER_PX;
  const width = Math.max(panelsWidth, key?.width ?? 0);
  const height = header + panelsHeight + (key?.height ?? 0);
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 3; i < rgba.length; i += 4) rgba[i] = 255; // opaque black background
  const boxes: PanelBox[] = [];
  let left = 0;
  for (const p of panels) {
    const top = header + ((panelsHeight - p.height) >> 1);
    boxes.push({ left, top, width: p.width, height: p.height });
    for (let py = 0; py < p.height; py++) {
      for (let px = 0; px < p.width; px++) {
        const v = p.index[py * p.width + px] as number;
        const g = Math.round(
          (255 * Math.min(Math.max((image[v] as number) - low, 0), high - low)) / (high - low),
        );
        const o = ((top + py) * width + left + px) * 4;
        const l = labels[v] as number;
        if (l === 0) {
          rgba[o] = g;
          rgba[o + 1] = g;
          rgba[o + 2] = g;
        } else {
          const c = previewColour(l);
          rgba[o] = Math.round((1 - alpha) * g + alpha * c[0]);
          rgba[o + 1] = Math.round((1 - alpha) * g + alpha * c[1]);
          rgba[o + 2] = Math.round((1 - alpha) * g + alpha * c[2]);
        }
      }
    }
    left += p.width + gap;
  }
  if (ann !== undefined && key !== null) {
    const canvas = { rgba, width, height };
    drawPanelAnnotations(canvas, boxes, [cz, cy, cx], ann.orientation);
    drawKey(canvas, key, header + panelsHeight);
  }
  return encodePng(rgba, width, height);
}
