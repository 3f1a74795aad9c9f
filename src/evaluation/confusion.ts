/**
 * One pass over a (reference, prediction) label pair: the joint histogram of the labels we evaluate
 * (every other value falls into one "other" slot) and, per label, the bounding box of its voxels in each
 * map. Counts for any label or region (a union of labels) then come from the histogram, and surface
 * distances only look inside the boxes — the fixture's 12 M voxels are read once, not once per label.
 */
import { fail } from '../util/errors.js';
import type { Box, Shape3 } from './surface-distance.js';

export type LabelArray =
  Uint8Array | Uint16Array | Uint32Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface Confusion {
  /** The labels with their own slot, in slot order; slot `labels.length` collects every other value. */
  readonly labels: readonly number[];
  /** hist[refSlot · S + predSlot], S = labels.length + 1, over voxels not ignored. */
  readonly hist: Float64Array;
  /** Voxels counted (not ignored). */
  readonly total: number;
  /** Per slot: box of the reference's voxels and of the prediction's (not ignored), or null if none. */
  readonly refBoxes: readonly (Box | null)[];
  readonly predBoxes: readonly (Box | null)[];
}

interface BoxAcc {
  lo: [number, number, number];
  hi: [number, number, number];
}

export function computeConfusion(
  reference: LabelArray,
  prediction: LabelArray,
  shapeZYX: Shape3,
  labels: readonly number[],
  ignoreLabel: number | undefined,
): Confusion {
  const [nz, ny, nx] = shapeZYX;
  const n = nz * ny * nx;
  if (reference.length !== n || prediction.length !== n) {
    fail(
      'SHAPE_MISMATCH',
      `evaluation: reference has ${reference.length} voxels, prediction ${prediction.length}, shape [${shapeZYX.join(', ')}] needs ${n}`,
    );
  }
  const other = labels.length;
  const S = other + 1;
  const slotOf = makeSlotLookup(labels, other);
  const hist = new Float64Array(S * S);
  const refAcc = Array.from({ length: S }, newAcc);
  const predAcc = Array.from({ length: S }, newAcc);
  const refRow = new Int32Array(S).fill(-1);
  const predRow = new Int32Array(S).fill(-1);
  const refSlots = new Int32Array(nx);
  const predSlots = new Int32Array(nx);
  let total = 0;
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      const row = z * ny + y;
      const base = row * nx;
      for (let x = 0; x < nx; x++) {
        const rv = reference[base + x] as number;
        if (rv === ignoreLabel) {
          refSlots[x] = -1;
          continue;
        }
        const rs = slotOf(rv);
        const ps = slotOf(prediction[base + x] as number);
        refSlots[x] = rs;
        predSlots[x] = ps;
        const h = rs * S + ps;
        hist[h] = (hist[h] as number) + 1;
        total++;
      }
      for (let x = 0; x < nx; x++) {
        const rs = refSlots[x] as number;
        if (rs < 0) continue;
        extend(refAcc, refRow, rs, row, z, y, x);
        extend(predAcc, predRow, predSlots[x] as number, row, z, y, x);
      }
    }
  }
  const finish = (a: BoxAcc): Box | null => (a.hi[0] < 0 ? null : { lo: a.lo, hi: a.hi });
  return { labels, hist, total, refBoxes: refAcc.map(finish), predBoxes: predAcc.map(finish) };
}

function newAcc(): BoxAcc {
  return { lo: [Infinity, Infinity, Infinity], hi: [-1, -1, -1] };
}

function extend(
  acc: BoxAcc[],
  lastRow: Int32Array,
  s: number,
  row: number,
  z: number,
  y: number,
  x: number,
): void {
  const a = acc[s] as BoxAcc;
  if (x < a.lo[2]) a.lo[2] = x;
  if (x > a.hi[2]) a.hi[2] = x;
  if (lastRow[s] === row) return;
  // First voxel of this slot in this row: z and y bounds can only change here.
  lastRow[s] = row;
  if (z < a.lo[0]) a.lo[0] = z;
  if (z > a.hi[0]) a.hi[0] = z;
  if (y < a.lo[1]) a.lo[1] = y;
  if (y > a.hi[1]) a.hi[1] = y;
}

/** value → slot; a dense table for small integer labels, a Map otherwise. */
function makeSlotLookup(labels: readonly number[], other: number): (v: number) => number {
  const dense = labels.every((l) => Number.isInteger(l) && l >= 0 && l < 65536);
  if (dense) {
    const size = Math.max(0, ...labels) + 1;
    const table = new Int32Array(size).fill(other);
    labels.forEach((l, i) => {
      table[l] = i;
    });
    return (v) => table[v] ?? other;
  }
  const map = new Map(labels.map((l, i) => [l, i]));
  return (v) => map.get(v) ?? other;
}
