/**
 * Contours of a label slice along the pixel edges (crack following), and the even-odd fill that turns
 * them back into pixels. Coordinates are in pixel-corner units: pixel (x, y) covers [x, x+1] × [y, y+1],
 * so its centre is (x + 0.5, y + 0.5). Every boundary edge between a pixel of the class and one not of it
 * (or the image border) is used exactly once, outer boundaries counter-clockwise on screen and holes the
 * other way, each hole its own contour (no keyholes): an even-odd fill of all the contours of a class on
 * a slice gives back exactly its pixels.
 */

const DX = [1, 0, -1, 0];
const DY = [0, 1, 0, -1];

/** A bounding box of a value on a slice: [x0, y0, x1, y1] inclusive. */
export type Box = [number, number, number, number];

/** The bounding box of every value on one slice (undefined where absent). */
export function boxes(slice: ArrayLike<number>, width: number, height: number): Map<number, Box> {
  const out = new Map<number, Box>();
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = slice[y * width + x] ?? 0;
      if (v === 0) continue;
      const b = out.get(v);
      if (b === undefined) out.set(v, [x, y, x, y]);
      else {
        if (x < b[0]) b[0] = x;
        if (x > b[2]) b[2] = x;
        if (y < b[1]) b[1] = y;
        if (y > b[3]) b[3] = y;
      }
    }
  }
  return out;
}

/** The boundary edges of `value` in the box, as direction bits at their start corner (box-local). */
function edgeFlags(
  slice: ArrayLike<number>,
  width: number,
  height: number,
  value: number,
  b: Box,
): Uint8Array {
  const bw = b[2] - b[0] + 1;
  const vw = bw + 1;
  const flags = new Uint8Array(vw * (b[3] - b[1] + 2));
  const is = (x: number, y: number): boolean =>
    x >= 0 && y >= 0 && x < width && y < height && slice[y * width + x] === value;
  for (let y = b[1]; y <= b[3]; y++) {
    for (let x = b[0]; x <= b[2]; x++) {
      if (!is(x, y)) continue;
      const lx = x - b[0];
      const ly = y - b[1];
      if (!is(x, y - 1)) flags[ly * vw + lx + 1] = (flags[ly * vw + lx + 1] ?? 0) | 4; // top: ←
      if (!is(x - 1, y)) flags[ly * vw + lx] = (flags[ly * vw + lx] ?? 0) | 2; // left: ↓
      if (!is(x, y + 1)) flags[(ly + 1) * vw + lx] = (flags[(ly + 1) * vw + lx] ?? 0) | 1; // bottom: →
      if (!is(x + 1, y)) flags[(ly + 1) * vw + lx + 1] = (flags[(ly + 1) * vw + lx + 1] ?? 0) | 8; // right: ↑
    }
  }
  return flags;
}

/**
 * The closed contours of `value` on a slice (row-major, `width` × `height`) within its box: each a flat
 * list x0, y0, x1, y1, … of its corners (pixel-corner units), the last joined to the first.
 */
export function traceValue(
  slice: ArrayLike<number>,
  width: number,
  height: number,
  value: number,
  b: Box,
): number[][] {
  const flags = edgeFlags(slice, width, height, value, b);
  const vw = b[2] - b[0] + 2;
  const contours: number[][] = [];
  for (let start = 0; start < flags.length; start++) {
    while ((flags[start] ?? 0) !== 0) {
      const f = flags[start] ?? 0;
      let d = f & 1 ? 0 : f & 2 ? 1 : f & 4 ? 2 : 3;
      let v = start;
      const points: number[] = [];
      let prev = -1;
      for (;;) {
        flags[v] = (flags[v] ?? 0) & ~(1 << d);
        if (d !== prev) points.push((v % vw) + b[0], Math.floor(v / vw) + b[1]);
        prev = d;
        v += DX[d] ?? 0;
        v += (DY[d] ?? 0) * vw;
        const out = flags[v] ?? 0;
        if (out === 0) break;
        // the class stays on the left: a left turn first, then straight on, then a right turn
        const next = [(d + 3) % 4, d, (d + 1) % 4].find((n) => (out & (1 << n)) !== 0);
        if (next === undefined) break;
        d = next;
      }
      // the first corner is a real corner unless the last run goes on in the first direction
      if (points.length >= 4 && prev === firstDir(points)) points.splice(0, 2);
      contours.push(points);
    }
  }
  return contours;
}

function firstDir(points: readonly number[]): number {
  const dx = (points[2] ?? 0) - (points[0] ?? 0);
  const dy = (points[3] ?? 0) - (points[1] ?? 0);
  return dx > 0 ? 0 : dy > 0 ? 1 : dx < 0 ? 2 : 3;
}

/**
 * Even-odd fill of closed polygons (flat x, y lists in pixel-corner units) on a `width` × `height` grid:
 * a pixel is inside when its centre is; sets `value` in `out` (row-major) where inside.
 */
export function fillEvenOdd(
  polygons: readonly (readonly number[])[],
  width: number,
  height: number,
  out: { [i: number]: number },
  value: number,
): void {
  const rows: number[][] = Array.from({ length: height }, () => []);
  for (const p of polygons) {
    const n = p.length / 2;
    for (let i = 0; i < n; i++) {
      const xa = p[2 * i] ?? 0;
      const ya = p[2 * i + 1] ?? 0;
      const xb = p[(2 * i + 2) % p.length] ?? 0;
      const yb = p[(2 * i + 3) % p.length] ?? 0;
      if (ya === yb) continue;
      const lo = Math.max(0, Math.ceil(Math.min(ya, yb) - 0.5));
      const hi = Math.min(height - 1, Math.ceil(Math.max(ya, yb) - 0.5) - 1);
      for (let y = lo; y <= hi; y++) {
        const yc = y + 0.5;
        rows[y]?.push(xa + ((yc - ya) * (xb - xa)) / (yb - ya));
      }
    }
  }
  rows.forEach((xs, y) => {
    xs.sort((a, b) => a - b);
    for (let i = 0; i + 1 < xs.length; i += 2) {
      const from = Math.max(0, Math.ceil((xs[i] ?? 0) - 0.5));
      const to = Math.min(width - 1, Math.ceil((xs[i + 1] ?? 0) - 0.5) - 1);
      for (let x = from; x <= to; x++) out[y * width + x] = value;
    }
  });
}
