/**
 * `stunet predict` on files (the Node adapter of jobs/predict-case.ts): the input read from disk, the
 * stitching ring spilled to a temporary file when large, probabilities streamed to disk and compressed into a .npz, and every
 * output of a case written to a temporary name first and renamed only when all succeeded.
 */
import {
  closeSync,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ProbabilityGrid } from '../inference/predictor.js';
import { memoryRingStore, type RingStore, type RingStoreFactory } from '../inference/stitcher.js';
import type { NetworkFn } from '../inference/tta.js';
import {
  listNiftiFiles,
  predictCaseFile,
  type PredictFileOptions as JobPredictOptions,
  type PredictFileReport,
  type PredictHost,
  type ProbabilitySink,
} from '../jobs/predict-files.js';
import { writeProbabilityNpz } from '../jobs/probability-npz.js';
import { isDicomInput } from '../jobs/dicom-input.js';
import { predictRun, type PredictRun, type PredictRunOptions } from '../jobs/predict-run.js';
import type { LoadedModel } from '../model/loaded-model.js';
import { fail } from '../util/errors.js';
import { nodeStore } from './file-store.js';
import { tempName } from './fs.js';

/** Node options on top of the job's: where the stitching ring lives. */
export interface NodePredictOptions extends JobPredictOptions {
  /**
   * The sliding window's running class sums (classes × patch depth × padded plane, float32) stay in
   * memory up to this many bytes (default 256 MiB); larger ones go to a temporary file (out of core:
   * process memory stays flat in the class count). 0 = always a file, Infinity = always memory.
   */
  readonly ringMemoryBytes?: number;
}

/**
 * The stitching ring in a temporary file, one slot = (Y, X, classes) float32 at offset slot · slotBytes;
 * row pieces go straight between the caller's arrays and the file (positional reads and writes, no
 * buffer of its own). The file is created sparse and never cleared (see RingStore); it is unlinked as soon
 * as it is open (nothing is left behind if the process is killed), else removed on close.
 */
export function fileRingStore(dir: string = tmpdir()): RingStoreFactory {
  return (depth, paddedY, classes, paddedX): RingStore => {
    const folder = mkdtempSync(join(dir, 'stunet-ring-'));
    const path = join(folder, 'ring.f32');
    const voxelBytes = classes * 4;
    const rowBytes = paddedX * voxelBytes;
    const slotBytes = paddedY * rowBytes;
    let fd: number | null = openSync(path, 'w+');
    ftruncateSync(fd, depth * slotBytes); // sparse: reads of untouched ranges give zeros
    // Unlinked while open (POSIX): the open descriptor keeps the data, and the OS frees it when the
    // process ends, even on kill -9, so no gigabyte ring file is ever left in the temp folder. Where an
    // open file cannot be removed (Windows), it is removed on close.
    let unlinked = false;
    try {
      rmSync(folder, { recursive: true });
      unlinked = true;
    } catch {
      // kept until close
    }
    const open = (): number => fd ?? fail('RUNTIME', 'the stitching ring file was closed');
    const bytesOf = (a: Float32Array, n: number): Uint8Array =>
      a.byteLength >= n
        ? new Uint8Array(a.buffer, a.byteOffset, n)
        : fail('SHAPE_MISMATCH', `ring row of ${n} bytes does not fit an array of ${a.byteLength}`);
    return {
      read(slot, y, x0, x1, into) {
        const n = (x1 - x0) * voxelBytes;
        const b = bytesOf(into, n);
        const at = slot * slotBytes + y * rowBytes + x0 * voxelBytes;
        let done = 0;
        while (done < n) {
          const got = readSync(open(), b, done, n - done, at + done);
          if (got === 0) {
            b.fill(0, done, n);
            break;
          }
          done += got;
        }
      },
      write(slot, y, x0, x1, from) {
        const n = (x1 - x0) * voxelBytes;
        const b = bytesOf(from, n);
        const at = slot * slotBytes + y * rowBytes + x0 * voxelBytes;
        let done = 0;
        while (done < n) done += writeSync(open(), b, done, n - done, at + done);
      },
      close() {
        if (fd !== null) closeSync(fd);
        fd = null;
        if (!unlinked) rmSync(folder, { recursive: true, force: true });
      },
    };
  };
}

/** In memory up to `limitBytes`, else fileRingStore. */
export function ringStoreFor(limitBytes: number): RingStoreFactory {
  const file = fileRingStore();
  return (depth, paddedY, classes, paddedX) =>
    depth * paddedY * classes * paddedX * 4 <= limitBytes
      ? memoryRingStore(depth, paddedY, classes, paddedX)
      : file(depth, paddedY, classes, paddedX);
}

/**
 * Streams (K, Zc, Yc, Xc) float32 planes into a raw temporary file (positional writes, class-major), then
 * on commit deflates it in chunks into the .npz (temporary name, renamed): memory stays at a plane and a
 * chunk, whatever the class count.
 */
class ProbabilityNpzWriter implements ProbabilitySink {
  private fd: number | null = null;
  private grid: ProbabilityGrid | null = null;
  private readonly raw: string;

  constructor(readonly path: string) {
    this.raw = tempName(`${path}.raw`);
  }

  write(z: number, values: Float32Array, grid: ProbabilityGrid): void {
    if (this.fd === null) {
      mkdirSync(dirname(this.path), { recursive: true });
      this.fd = openSync(this.raw, 'w+');
      this.grid = grid;
    }
    const g = this.grid ?? grid;
    const [Zc, Yc, Xc] = g.shapeZYX;
    const plane = Yc * Xc;
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    for (let c = 0; c < g.classes; c++)
      writeSync(this.fd, bytes, c * plane * 4, plane * 4, (c * Zc + z) * plane * 4);
  }

  commit(): void {
    const { fd, grid } = this;
    if (fd === null || grid === null) fail('RUNTIME', 'probabilities: nothing was written');
    const tmp = tempName(this.path);
    const out = openSync(tmp, 'w');
    try {
      writeProbabilityNpz(
        (chunk) => {
          writeSync(out, chunk);
        },
        grid,
        (offset, length) => {
          const buf = new Uint8Array(length);
          if (readSync(fd, buf, 0, length, offset) !== length)
            fail('RUNTIME', `probabilities: the temporary file ${this.raw} is short`);
          return buf;
        },
      );
      closeSync(out);
      renameSync(tmp, this.path);
    } catch (e) {
      closeSync(out);
      rmSync(tmp, { force: true });
      throw e;
    } finally {
      this.abort();
    }
  }

  abort(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    rmSync(this.raw, { force: true });
  }
}

/** The Node host of the predict jobs: the disk, a ring file for large sums, .npz probabilities streamed through disk. */
export function nodePredictHost(): PredictHost {
  return {
    store: nodeStore,
    probabilitySink: (path) => new ProbabilityNpzWriter(path),
  };
}

/** The sliding window's class sums stay in memory up to this many bytes by default (then a file). */
export const DEFAULT_RING_MEMORY_BYTES = 256 * 2 ** 20;

/** The input file that decides the memory a run needs: the largest image of a folder, else the first. */
export function largestInput(input: string | readonly string[]): string {
  if (typeof input !== 'string') return input[0] ?? fail('BAD_INPUT', 'predict: no input files');
  if (!nodeStore.isDirectory(input) || isDicomInput(nodeStore, input)) return input;
  const files = listNiftiFiles(nodeStore, input);
  return files.reduce((a, b) => (nodeStore.size(b) > nodeStore.size(a) ? b : a));
}

const withRing = <T extends NodePredictOptions>(opts: T): T & { ringStore: RingStoreFactory } => ({
  ...opts,
  ringStore: ringStoreFor(opts.ringMemoryBytes ?? DEFAULT_RING_MEMORY_BYTES),
});

/** predictCaseFile on disk. */
export function predictFile(
  input: string | readonly string[],
  output: string,
  model: LoadedModel,
  network: NetworkFn,
  opts: NodePredictOptions = {},
): Promise<PredictFileReport> {
  return predictCaseFile(nodePredictHost(), input, output, model, network, withRing(opts));
}

/** predictRun on disk: a file or a folder of cases, with their outcomes. */
export function predictPaths(
  input: string | readonly string[],
  output: string,
  model: LoadedModel,
  network: NetworkFn,
  opts: NodePredictOptions & PredictRunOptions = {},
): Promise<PredictRun> {
  return predictRun(nodePredictHost(), input, output, model, network, withRing(opts));
}
