/**
 * `<stem>_probabilities.npz`: what `--save-probabilities` writes, laid out so it lines up with the input
 * (issue 17, item 6). Arrays, in nnU-Net's (Z, Y, X) array order of the image predicted:
 * - `probabilities`: float32 (K, Zc, Yc, Xc), softmax on the cropped grid;
 * - `bbox_used_for_cropping`: int64 (3, 2), [start, end) of that grid inside the input volume;
 * - `shape_before_cropping`: int64 (3,), the input volume's (Z, Y, X);
 * - `spacing`: float64 (3,), mm along (Z, Y, X);
 * - `affine`: float64 (4, 4), voxel (i, j, k) → world mm (RAS) of the uncropped grid (the image as
 *   predicted: the closest canonical orientation when reoriented);
 * - `class_names`: unicode (K,), the model's class names (`stunet ensemble` names its output with them).
 * Outside the box every probability is background's 1 (nnU-Net's cropping keeps the nonzero region).
 */
import type { ProbabilityGrid } from '../inference/predictor.js';
import { NpzStreamWriter } from '../io/npz.js';
import { fail } from '../util/errors.js';
import type { FileStore } from './store.js';

/** Receives (K, Zc, Yc, Xc) float32 probabilities plane by plane; `commit` makes the file appear. */
export interface ProbabilitySink {
  readonly path: string;
  write(z: number, values: Float32Array, grid: ProbabilityGrid): void;
  commit(): void;
  abort(): void;
}

const CHUNK = 8 * 2 ** 20;

/**
 * Writes the .npz to `emit`. `readProbabilities(offset, length)` gives bytes of the float32 (K, Zc, Yc, Xc)
 * array in C order (a temporary file, or memory), read in chunks so the array is never held twice.
 */
export function writeProbabilityNpz(
  emit: (chunk: Uint8Array) => void,
  grid: ProbabilityGrid,
  readProbabilities: (offset: number, length: number) => Uint8Array,
): void {
  const w = new NpzStreamWriter(emit);
  const shape = [grid.classes, ...grid.shapeZYX];
  const total = shape.reduce((a, b) => a * b, 1) * 4;
  w.beginArray('probabilities', '<f4', shape);
  for (let at = 0; at < total; at += CHUNK) w.write(readProbabilities(at, Math.min(CHUNK, total - at)));
  w.endArray();
  const ints = (v: readonly number[]): Uint8Array =>
    new Uint8Array(BigInt64Array.from(v, (x) => BigInt(x)).buffer);
  w.addArray('bbox_used_for_cropping', '<i8', [3, 2], ints(grid.cropBbox.flat()));
  w.addArray('shape_before_cropping', '<i8', [3], ints(grid.shapeBeforeCroppingZYX));
  w.addArray('spacing', '<f8', [3], new Uint8Array(Float64Array.from(grid.spacingZYX).buffer));
  if (grid.affine !== undefined)
    w.addArray('affine', '<f8', [4, 4], new Uint8Array(Float64Array.from(grid.affine.flat()).buffer));
  if (grid.classNames !== undefined) {
    // numpy's `<U{n}`: one UTF-32 code point per character, zero-padded to the longest name
    const points = grid.classNames.map((n) => {
      const cps: number[] = [];
      for (const ch of n) cps.push(ch.codePointAt(0) ?? 0);
      return cps;
    });
    const width = Math.max(1, ...points.map((p) => p.length));
    const utf32 = new Uint32Array(points.length * width);
    points.forEach((p, i) => {
      utf32.set(p, i * width);
    });
    w.addArray('class_names', `<U${width}`, [points.length], new Uint8Array(utf32.buffer));
  }
  w.finish();
}

/** The .npz assembled in memory and written through the store on commit (browser hosts, tests). */
export function memoryProbabilitySink(store: FileStore, path: string): ProbabilitySink {
  let grid: ProbabilityGrid | null = null;
  let data: Float32Array | null = null;
  return {
    path,
    write(z, values, g) {
      const [Zc, Yc, Xc] = g.shapeZYX;
      if (data === null) {
        grid = g;
        data = new Float32Array(g.classes * Zc * Yc * Xc);
      }
      const plane = Yc * Xc;
      for (let c = 0; c < g.classes; c++)
        data.set(values.subarray(c * plane, (c + 1) * plane), (c * Zc + z) * plane);
    },
    commit() {
      if (grid === null || data === null) fail('RUNTIME', 'probabilities: nothing was written');
      const bytes = new Uint8Array(data.buffer);
      const chunks: Uint8Array[] = [];
      writeProbabilityNpz(
        (c) => chunks.push(c.slice()),
        grid,
        (o, n) => bytes.subarray(o, o + n),
      );
      store.writeAll([{ path, data: chunks }]);
    },
    abort() {
      data = null;
    },
  };
}
