/**
 * `stunet ensemble`: nnU-Net's ensembling of saved probabilities (v1 `ensemble_predictions.py`, v2
 * `ensemble_folders`): for each case in every folder, the mean of the members' probabilities, argmax, the
 * label map in the image's geometry. Reads what `predict --save-probabilities` writes
 * (`<stem>_probabilities.npz`: probabilities on the cropped grid, the crop box, the affine and the class
 * names), streaming: the (K, Zc, Yc, Xc) arrays are inflated piece by piece in lockstep, class after class,
 * into a running argmax, so memory is 5 bytes per cropped voxel plus the pieces, never K × the volume.
 */
import { Inflate } from 'fflate';
import { ZipReader, type ByteSource } from '../checkpoint/zip.js';
import { readNpy, readNpyHeader } from '../io/npy.js';
import { concatChunks } from '../util/bytes.js';
import { fail } from '../util/errors.js';
import type { ProgressListener } from '../util/progress.js';
import type { Vec3 } from '../util/vec3.js';

/** The probabilities of one case as saved, and a reader of its floats in C order. */
export interface ProbabilityFile {
  readonly path: string;
  readonly classes: number;
  readonly shapeZYX: Vec3;
  readonly cropBbox: readonly (readonly [number, number])[];
  readonly shapeBeforeCroppingZYX: Vec3;
  readonly affine: number[][] | null;
  readonly classNames: string[] | null;
  /** The next `n` float32 values of the probabilities. */
  next(n: number): Float32Array;
}

const PIECE = 4 * 2 ** 20;

function smallArray(
  zip: ZipReader,
  key: string,
  path: string,
): { shape: readonly number[]; data: ArrayLike<number> } {
  if (!zip.has(`${key}.npy`))
    fail('BAD_INPUT', `${path}: no '${key}' array (not written by predict --save-probabilities?)`);
  const a = readNpy(zip.read(`${key}.npy`));
  if (typeof a.data === 'string' || !('length' in a.data))
    fail('BAD_INPUT', `${path}: '${key}' is not numeric`);
  return { shape: a.shape, data: a.data as ArrayLike<number> };
}

/** `<U{n}` names (UTF-32 little endian, zero-padded), as numpy stores a unicode array. */
function unicodeNames(bytes: Uint8Array): string[] | null {
  const h = readNpyHeader(bytes);
  const width = h === null ? NaN : Number(/^<U(\d+)$/.exec(h.descr)?.[1]);
  if (h === null || !Number.isInteger(width) || h.shape.length !== 1) return null;
  const n = h.shape[0] ?? 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset + h.dataStart, n * width * 4);
  return Array.from({ length: n }, (_, i) => {
    let s = '';
    for (let j = 0; j < width; j++) {
      const cp = view.getUint32((i * width + j) * 4, true);
      if (cp === 0) break;
      s += String.fromCodePoint(cp);
    }
    return s;
  });
}

/** Opens `<stem>_probabilities.npz` (float32 probabilities deflated or stored) over a byte source. */
export function openProbabilityNpz(src: ByteSource, path: string): ProbabilityFile {
  const zip = new ZipReader(src);
  const entry = zip.has('probabilities.npy')
    ? zip.entry('probabilities.npy')
    : fail('BAD_INPUT', `${path}: no 'probabilities' array`);
  const bbox = smallArray(zip, 'bbox_used_for_cropping', path).data;
  const before = smallArray(zip, 'shape_before_cropping', path).data;
  const affine = zip.has('affine.npy') ? Array.from(smallArray(zip, 'affine', path).data) : null;
  const names = zip.has('class_names.npy') ? unicodeNames(zip.read('class_names.npy')) : null;
  // the .npy member as a stream of bytes: inflated in pieces as the floats are asked for
  let at = zip.dataOffset(entry);
  const end = at + entry.compressedSize;
  const queue: Uint8Array[] = [];
  let queued = 0;
  const inflate = new Inflate((chunk) => {
    queue.push(chunk);
    queued += chunk.length;
  });
  const pull = (need: number): void => {
    while (queued < need && at < end) {
      const n = Math.min(PIECE, end - at);
      const piece = src.read(at, n);
      at += n;
      if (entry.method === 0) {
        queue.push(piece.slice());
        queued += n;
      } else inflate.push(piece.slice(), at >= end);
    }
    if (queued < need) fail('BAD_INPUT', `${path}: the probabilities end early (corrupt or truncated file)`);
  };
  const take = (n: number): Uint8Array => {
    pull(n);
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const head = queue[0] as Uint8Array;
      const m = Math.min(head.length, n - filled);
      out.set(head.subarray(0, m), filled);
      filled += m;
      if (m === head.length) queue.shift();
      else queue[0] = head.subarray(m);
    }
    queued -= n;
    return out;
  };
  pull(128);
  let header = readNpyHeader(concatChunks(queue));
  for (let need = 256; header === null; need *= 2) {
    pull(need);
    header = readNpyHeader(concatChunks(queue));
  }
  if (header.descr !== '<f4' || header.fortran || header.shape.length !== 4)
    fail(
      'BAD_INPUT',
      `${path}: probabilities must be float32 (K, Z, Y, X) in C order, got ${header.descr} [${header.shape.join(', ')}]`,
    );
  take(header.dataStart);
  const [K = 0, Zc = 0, Yc = 0, Xc = 0] = header.shape;
  return {
    path,
    classes: K,
    shapeZYX: [Zc, Yc, Xc],
    cropBbox: [0, 1, 2].map((a) => [Number(bbox[2 * a]), Number(bbox[2 * a + 1])] as const),
    shapeBeforeCroppingZYX: [Number(before[0]), Number(before[1]), Number(before[2])],
    affine: affine === null ? null : [0, 1, 2, 3].map((r) => affine.slice(4 * r, 4 * r + 4)),
    classNames: names,
    next: (n) => new Float32Array(take(4 * n).buffer),
  };
}

/** The members must describe the same grid: classes, shapes, crop box and affine (1e-4 mm). */
function checkSameGrid(files: readonly ProbabilityFile[]): void {
  const [a] = files;
  if (a === undefined) fail('BAD_INPUT', 'ensemble: no probabilities');
  for (const b of files) {
    const same =
      b.classes === a.classes &&
      b.shapeZYX.join() === a.shapeZYX.join() &&
      b.cropBbox.flat().join() === a.cropBbox.flat().join() &&
      b.shapeBeforeCroppingZYX.join() === a.shapeBeforeCroppingZYX.join() &&
      (a.affine === null ||
        b.affine === null ||
        a.affine.every((r, i) => r.every((v, j) => Math.abs(v - (b.affine?.[i]?.[j] ?? NaN)) <= 1e-4)));
    if (!same)
      fail(
        'SHAPE_MISMATCH',
        `ensemble: ${b.path} (${b.classes} classes, ${b.shapeZYX.join('×')} in ${b.shapeBeforeCroppingZYX.join('×')}) ` +
          `does not line up with ${a.path} (${a.classes} classes, ${a.shapeZYX.join('×')} in ${a.shapeBeforeCroppingZYX.join('×')})`,
      );
  }
}

/**
 * The members' mean probability per voxel and class (float32, summed in member order then divided, as
 * numpy's mean over axis 0), argmax over classes (first maximum wins), on the cropped grid.
 */
export function ensembleArgmax(
  files: readonly ProbabilityFile[],
  onProgress?: ProgressListener,
): Uint8Array | Uint16Array {
  checkSameGrid(files);
  const first = files[0] as ProbabilityFile;
  const K = first.classes;
  const n = first.shapeZYX[0] * first.shapeZYX[1] * first.shapeZYX[2];
  const labels = K <= 256 ? new Uint8Array(n) : new Uint16Array(n);
  const best = new Float32Array(n).fill(-Infinity);
  const f = Math.fround;
  const step = Math.max(1, Math.min(n, 2 ** 20));
  for (let c = 0; c < K; c++) {
    for (let from = 0; from < n; from += step) {
      const m = Math.min(step, n - from);
      const parts = files.map((file) => file.next(m));
      for (let i = 0; i < m; i++) {
        let sum = 0;
        for (const p of parts) sum = f(sum + (p[i] as number));
        const mean = f(sum / files.length);
        if (mean > (best[from + i] as number)) {
          best[from + i] = mean;
          labels[from + i] = c;
        }
      }
    }
    onProgress?.({ stage: 'ensemble', done: c + 1, total: K });
  }
  return labels;
}
