/**
 * `stunet predict` over a FileStore: one case file, or a folder of them (nnU-Net naming: `case_0000.nii.gz`
 * → `case.nii.gz`, so `evaluate` pairs the outputs with `labelsTs`). The host lends the store, where the
 * stitching ring lives, and a sink for probabilities; every output of a case is written in one
 * all-or-nothing store write.
 */
import { npyHeader } from '../io/npy.js';
import type { ProbabilityGrid } from '../inference/predictor.js';
import type { NetworkFn } from '../inference/tta.js';
import type { LoadedModel } from '../model/loaded-model.js';
import { fail } from '../util/errors.js';
import { niftiStem, predictCase, type PredictCaseOptions } from './predict-case.js';
import type { FileStore } from './store.js';

/** Receives (K, Zc, Yc, Xc) float32 probabilities plane by plane; `commit` makes the file appear. */
export interface ProbabilitySink {
  readonly path: string;
  write(z: number, values: Float32Array, grid: ProbabilityGrid): void;
  commit(): void;
  abort(): void;
}

export interface PredictHost {
  readonly store: FileStore;
  /** A sink for `<stem>_probabilities.npy` (default: built in memory, written through the store). */
  probabilitySink?(path: string): ProbabilitySink;
}

export interface PredictFileOptions extends Omit<PredictCaseOptions, 'onProbabilities'> {
  /** Also write `<stem>_probabilities.npy`: float32 (K, Zc, Yc, Xc) on the cropped grid. */
  readonly saveProbabilities?: boolean;
}

export interface PredictFileReport {
  readonly input: string;
  readonly files: string[];
  readonly shape: readonly number[];
  readonly classesPresent: number;
  readonly seconds: number;
}

/** A .npy of probabilities assembled in memory and written through the store on commit. */
export function memoryProbabilitySink(store: FileStore, path: string): ProbabilitySink {
  let head: Uint8Array | null = null;
  let data: Float32Array | null = null;
  return {
    path,
    write(z, values, grid) {
      const [Zc, Yc, Xc] = grid.shapeZYX;
      if (data === null) {
        head = npyHeader('<f4', [grid.classes, Zc, Yc, Xc]);
        data = new Float32Array(grid.classes * Zc * Yc * Xc);
      }
      const plane = Yc * Xc;
      for (let c = 0; c < grid.classes; c++)
        data.set(values.subarray(c * plane, (c + 1) * plane), (c * Zc + z) * plane);
    },
    commit() {
      if (head === null || data === null) fail('RUNTIME', 'probabilities: nothing was written');
      const out = new Uint8Array(head.length + data.byteLength);
      out.set(head, 0);
      out.set(new Uint8Array(data.buffer), head.length);
      store.writeAll([{ path, data: out }]);
    },
    abort() {
      data = null;
    },
  };
}

/**
 * Predicts one NIfTI file and writes `output` (a .nii.gz path) plus `<stem>.json` (names) and, as asked,
 * `<stem>_classes/<name>.nii.gz`, `<stem>_statistics.json`, `<stem>_preview.png`, `<stem>_probabilities.npy`.
 */
export async function predictCaseFile(
  host: PredictHost,
  input: string,
  output: string,
  model: LoadedModel,
  network: NetworkFn,
  opts: PredictFileOptions = {},
): Promise<PredictFileReport> {
  const t0 = performance.now();
  const { store } = host;
  const bytes = store.read(input, 'input image');
  const outDir = store.dirname(output);
  store.cleanFolder?.(outDir); // outputs of an earlier run killed mid-write
  const probsPath = store.join(outDir, `${niftiStem(output)}_probabilities.npy`);
  const probs =
    opts.saveProbabilities === true
      ? (host.probabilitySink?.(probsPath) ?? memoryProbabilitySink(store, probsPath))
      : null;
  try {
    const r = await predictCase(bytes, `'${input}'`, store.basename(output), model, network, {
      ...opts,
      ...(probs === null
        ? {}
        : {
            onProbabilities: (z, v, g) => {
              probs.write(z, v, g);
            },
          }),
    });
    const files = r.outputs.map((o) => ({ path: store.join(outDir, o.name), data: o.data }));
    store.writeAll(files);
    probs?.commit();
    return {
      input,
      files: [...files.map((f) => f.path), ...(probs === null ? [] : [probs.path])],
      shape: r.shape,
      classesPresent: r.classesPresent,
      seconds: (performance.now() - t0) / 1000,
    };
  } catch (e) {
    probs?.abort();
    throw e;
  }
}

/** The .nii / .nii.gz files of a folder, sorted (hidden and temporary files skipped). */
export function listNiftiFiles(store: FileStore, dir: string): string[] {
  const files = store.list(dir).filter((f) => !f.startsWith('.') && /\.nii(\.gz)?$/i.test(f));
  if (files.length === 0) fail('NOT_FOUND', `predict: no .nii or .nii.gz files in '${dir}'`);
  return files.map((f) => store.join(dir, f));
}

/** nnU-Net's input naming `case_0000` (channel 0) gives the output `case`, so evaluate pairs it with labels. */
function caseName(stem: string): string {
  return stem.replace(/_0000$/, '');
}

/**
 * `input` a file or a folder of cases; `output` a .nii(.gz) path for one case, else a folder. Calls
 * `onCase` after each case; returns the reports in input order.
 */
export async function predictFiles(
  host: PredictHost,
  input: string,
  output: string,
  model: LoadedModel,
  network: NetworkFn,
  opts: PredictFileOptions & {
    readonly onCase?: (report: PredictFileReport, index: number, total: number) => void;
    readonly onCaseStart?: (input: string, index: number, total: number) => void;
  } = {},
): Promise<PredictFileReport[]> {
  const { store } = host;
  const folder = store.isDirectory(input);
  const inputs = folder ? listNiftiFiles(store, input) : [input];
  const toFolder = folder || store.isDirectory(output) || !/\.nii(\.gz)?$/i.test(output);
  const reports: PredictFileReport[] = [];
  for (const [i, file] of inputs.entries()) {
    opts.onCaseStart?.(file, i, inputs.length);
    const out = toFolder ? store.join(output, `${caseName(niftiStem(file))}.nii.gz`) : output;
    const r = await predictCaseFile(host, file, out, model, network, opts);
    reports.push(r);
    opts.onCase?.(r, i, inputs.length);
  }
  return reports;
}
