/**
 * `stunet predict` on files: NIfTI in → predictVolume → label NIfTI (input geometry, names in a sidecar
 * JSON and a NIfTI extension) and the optional per-class masks, statistics, preview and probabilities.
 * Every output of a case goes to a temporary name first and is renamed only when all succeeded.
 */
import { closeSync, openSync, readdirSync, renameSync, rmSync, writeSync, mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { fail } from '../errors.js';
import { Engine, TensorParams } from '../engine/engine.js';
import { createWasmBackend } from '../engine/backends/wasm/index.js';
import { labelSidecarJson, niftiLabelExtension, splitPerClass } from '../inference/label-output.js';
import { predictVolume, type PredictVolumeOptions, type ProbabilityGrid } from '../inference/predictor.js';
import { renderPreview } from '../inference/preview.js';
import type { SlidingWindowMode } from '../inference/sliding-window.js';
import { computeLabelStatistics } from '../inference/statistics.js';
import type { NetworkFn } from '../inference/tta.js';
import { readNifti, require3d, writeNifti, type NiftiImage } from '../io/nifti.js';
import { niftiToVolume, volumeToNifti } from '../io/nifti-volume.js';
import { fromCanonical, toClosestCanonical } from '../io/orientation.js';
import { directInferenceTable, labelNames, mapPrediction } from '../io/labels/index.js';
import type { LoadedModel } from '../model/loaded-model.js';
import { StuNet } from '../model/stunet.js';
import type { ProgressListener } from '../util/progress.js';
import { readBytes, writeAllAtomic } from './fs.js';
import { createNetworkRunner } from './network-runner.js';
import { modelDefaults } from './predict-model.js';

export type PredictBackend = 'ort' | 'wasm' | 'ref';

export interface PredictFileOptions {
  readonly backend?: PredictBackend;
  readonly threads?: number;
  readonly stepSize?: number;
  /** Default: the model's mirror axes (or [0, 1, 2]); [] = no TTA. */
  readonly mirrorAxes?: readonly number[];
  /** Default: from the model's origin ('v1' for v1 and our folders, 'v2-upstream' for v2). */
  readonly mode?: SlidingWindowMode;
  readonly reorient?: boolean;
  readonly perClass?: boolean;
  readonly statistics?: boolean;
  readonly preview?: boolean;
  readonly saveProbabilities?: boolean;
  /** A direct-inference dataset: map the 104-class prediction to its labels. */
  readonly map?: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressListener;
}

export interface Predictor {
  readonly network: NetworkFn;
  close(): Promise<void>;
}

/** The network as a NetworkFn on the chosen executor (full-resolution output only). */
export async function createPredictorNetwork(
  model: LoadedModel,
  backend: PredictBackend,
  threads?: number,
): Promise<Predictor> {
  if (backend === 'wasm') {
    const be = await createWasmBackend(threads === undefined ? {} : { threads });
    const engine = new Engine(be);
    const net = new StuNet(model.arch);
    const params = new TensorParams(model.weights);
    return {
      network: (x) => Promise.resolve(net.forward(engine, params, x, { deepSupervision: false })),
      close: () => be.close(),
    };
  }
  const runner = await createNetworkRunner(model, {
    executor: backend,
    deepSupervision: false,
    ...(threads === undefined ? {} : { threads }),
  });
  return { network: (x) => runner.run(x), close: () => runner.close() };
}

/** Class names of the output: the mapped dataset's, the model's, STU-Net's 104 for 105 classes, else label_<i>. */
export function outputLabelNames(model: LoadedModel, map: string | undefined): string[] {
  if (map !== undefined) return ['background', ...directInferenceTable(map).map((e) => e.name)];
  const own = modelDefaults(model).labelNames;
  if (own !== null) return own;
  const k = model.arch.numClasses;
  if (k === 105) return [...labelNames('stunet104')];
  return Array.from({ length: k }, (_, i) => (i === 0 ? 'background' : `label_${i}`));
}

/** `case.nii.gz` → `case`; `.nii` likewise. */
export function niftiStem(path: string): string {
  return basename(path).replace(/\.nii(\.gz)?$/i, '');
}

export interface PredictFileReport {
  readonly input: string;
  readonly files: string[];
  readonly shape: readonly number[];
  readonly classesPresent: number;
  readonly seconds: number;
}

/** Streams (K, Zc, Yc, Xc) float32 planes into a .npy at a temporary name (positional writes). */
class ProbabilityNpyWriter {
  private fd: number | null = null;
  private headerBytes = 0;
  private grid: ProbabilityGrid | null = null;
  readonly tmp: string;

  constructor(readonly path: string) {
    this.tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  }

  write(z: number, values: Float32Array, grid: ProbabilityGrid): void {
    if (this.fd === null) {
      mkdirSync(dirname(this.path), { recursive: true });
      this.fd = openSync(this.tmp, 'w');
      this.grid = grid;
      const shape = [grid.classes, ...grid.shapeZYX];
      let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}), }`;
      header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
      const h = new TextEncoder().encode(header);
      const pre = new Uint8Array(10);
      pre.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
      new DataView(pre.buffer).setUint16(8, h.length, true);
      writeSync(this.fd, pre, 0, 10, 0);
      writeSync(this.fd, h, 0, h.length, 10);
      this.headerBytes = 10 + h.length;
    }
    const g = this.grid ?? grid;
    const [Zc, Yc, Xc] = g.shapeZYX;
    const plane = Yc * Xc;
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    for (let c = 0; c < g.classes; c++)
      writeSync(this.fd, bytes, c * plane * 4, plane * 4, this.headerBytes + (c * Zc + z) * plane * 4);
  }

  commit(): void {
    if (this.fd === null) fail('RUNTIME', 'probabilities: nothing was written');
    closeSync(this.fd);
    this.fd = null;
    renameSync(this.tmp, this.path);
  }

  abort(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    rmSync(this.tmp, { force: true });
  }
}

/**
 * Predicts one NIfTI file and writes `output` (a .nii.gz path) plus `<stem>.json` (names) and, as asked,
 * `<stem>_classes/<name>.nii.gz`, `<stem>_statistics.json`, `<stem>_preview.png`, `<stem>_probabilities.npy`.
 */
export async function predictFile(
  input: string,
  output: string,
  model: LoadedModel,
  network: NetworkFn,
  opts: PredictFileOptions = {},
): Promise<PredictFileReport> {
  const t0 = performance.now();
  const image = readNifti(readBytes(input, 'input image'));
  require3d(image, `'${input}'`);
  const canonical = opts.reorient === true ? toClosestCanonical(image) : null;
  const work = canonical?.image ?? image;
  const view = niftiToVolume(work);
  const defaults = modelDefaults(model);
  const names = outputLabelNames(model, opts.map);
  const outDir = dirname(output);
  const stem = niftiStem(output);
  const probs =
    opts.saveProbabilities === true
      ? new ProbabilityNpyWriter(join(outDir, `${stem}_probabilities.npy`))
      : null;
  const predictOpts: PredictVolumeOptions = {
    network,
    inputChannels: model.arch.inputChannels,
    patchSizeZYX: defaults.patchSizeZYX,
    plans: defaults.plans,
    mode: opts.mode ?? defaults.mode,
    mirrorAxes: opts.mirrorAxes ?? defaults.mirrorAxes,
    ...(opts.stepSize === undefined ? {} : { stepSize: opts.stepSize }),
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    ...(opts.onProgress === undefined ? {} : { onProgress: opts.onProgress }),
    ...(probs === null
      ? {}
      : {
          onProbabilities: (z: number, v: Float32Array, g: ProbabilityGrid) => {
            probs.write(z, v, g);
          },
        }),
  };
  try {
    const result = await predictVolume(view.volume, view.spacingZYX, predictOpts);
    let labels: Uint8Array | Uint16Array = result.labels;
    if (opts.map !== undefined) labels = mapPrediction(labels, opts.map);
    const toOutput = (raw: Uint8Array | Uint16Array, extra: boolean): NiftiImage => {
      const [Z, Y, X] = result.shapeZYX;
      let img = volumeToNifti({ data: raw as Uint8Array, shape: [1, Z, Y, X] }, work);
      if (canonical !== null) img = fromCanonical(img, canonical.transform);
      const extensions = extra ? [niftiLabelExtension(names)] : [];
      return { ...img, header: { ...img.header, extensions, descrip: 'stunet predict' } };
    };
    const files: { path: string; data: Uint8Array | string }[] = [
      { path: output, data: writeNifti(toOutput(labels, true)) },
      { path: join(outDir, `${stem}.json`), data: labelSidecarJson(names) },
    ];
    if (opts.perClass === true)
      for (const m of splitPerClass(labels, names))
        files.push({
          path: join(outDir, `${stem}_classes`, `${m.name}.nii.gz`),
          data: writeNifti(toOutput(m.mask, false)),
        });
    if (opts.statistics === true) {
      const stats = computeLabelStatistics(labels, view.volume.data, view.spacingZYX, names);
      files.push({
        path: join(outDir, `${stem}_statistics.json`),
        data: `${JSON.stringify(stats, null, 2)}\n`,
      });
    }
    if (opts.preview === true) {
      const [Z, Y, X] = result.shapeZYX;
      const png = renderPreview({
        image: view.volume.data,
        labels,
        shapeZYX: [Z, Y, X],
        spacingZYX: view.spacingZYX,
      });
      files.push({ path: join(outDir, `${stem}_preview.png`), data: png });
    }
    writeAllAtomic(files);
    probs?.commit();
    const present = new Set(labels);
    present.delete(0);
    return {
      input,
      files: [...files.map((f) => f.path), ...(probs === null ? [] : [probs.path])],
      shape: image.dims,
      classesPresent: present.size,
      seconds: (performance.now() - t0) / 1000,
    };
  } catch (e) {
    probs?.abort();
    throw e;
  }
}

/** The .nii / .nii.gz files of a folder, sorted (hidden and temporary files skipped). */
export function listNiftiFiles(dir: string): string[] {
  const files = readdirSync(dir)
    .filter((f) => !f.startsWith('.') && /\.nii(\.gz)?$/i.test(f))
    .sort();
  if (files.length === 0) fail('NOT_FOUND', `predict: no .nii or .nii.gz files in '${dir}'`);
  return files.map((f) => join(dir, f));
}
