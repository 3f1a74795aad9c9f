/**
 * `stunet predict` on files: NIfTI in → predictVolume → label NIfTI (input geometry, names in a sidecar
 * JSON and a NIfTI extension) and the optional per-class masks, statistics, preview and probabilities.
 * Every output of a case goes to a temporary name first and is renamed only when all succeeded.
 */
import {
  closeSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  readSync,
  readdirSync,
  renameSync,
  rmSync,
  writeSync,
  mkdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { fail } from '../errors.js';
import { Engine, TensorParams } from '../engine/engine.js';
import type { Backend } from '../engine/backend.js';
import { createWasmBackend } from '../engine/backends/wasm/index.js';
import { Tensor } from '../engine/tensor.js';
import { jsClassHead, type ClassHead } from '../inference/head.js';
import { IR_VERSION, OPSET_VERSION } from '../onnx/export.js';
import { DataType, encodeModel } from '../onnx/proto.js';
import { createOrtSession } from '../onnx/session-node.js';
import { memoryRingStore, type RingStore, type RingStoreFactory } from '../inference/stitcher.js';
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
  /**
   * The sliding window's running class sums (classes × patch depth × padded plane, float32) stay in
   * memory up to this many bytes (default 256 MiB); larger ones go to a temporary file (out of core:
   * process memory stays flat in the class count). 0 = always a file, Infinity = always memory.
   */
  readonly ringMemoryBytes?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressListener;
}

/**
 * The stitching ring in a temporary file, one slot = (Y, classes, X) float32 at offset slot · slotBytes;
 * blocks go through one reused buffer with positional reads and writes. The file is removed on close.
 */
export function fileRingStore(dir: string = tmpdir()): RingStoreFactory {
  return (depth, paddedY, classes, paddedX): RingStore => {
    const folder = mkdtempSync(join(dir, 'stunet-ring-'));
    const path = join(folder, 'ring.f32');
    const row = classes * paddedX * 4;
    const slotBytes = paddedY * row;
    let fd: number | null = openSync(path, 'w+');
    ftruncateSync(fd, depth * slotBytes); // sparse: reads of untouched ranges give zeros
    const buffer = new Float32Array(slotBytes / 4);
    const bytes = new Uint8Array(buffer.buffer);
    const zeros = new Uint8Array(slotBytes);
    const open = (): number => fd ?? fail('RUNTIME', 'the stitching ring file was closed');
    return {
      load(slot, y0, y1) {
        const n = (y1 - y0) * row;
        let done = 0;
        while (done < n) {
          const got = readSync(open(), bytes, done, n - done, slot * slotBytes + y0 * row + done);
          if (got === 0) {
            bytes.fill(0, done, n);
            break;
          }
          done += got;
        }
        return buffer.subarray(0, n / 4);
      },
      save(slot, y0, block) {
        const b = new Uint8Array(block.buffer, block.byteOffset, block.byteLength);
        let done = 0;
        while (done < b.length)
          done += writeSync(open(), b, done, b.length - done, slot * slotBytes + y0 * row + done);
      },
      clear(slot) {
        let done = 0;
        while (done < slotBytes)
          done += writeSync(open(), zeros, done, slotBytes - done, slot * slotBytes + done);
      },
      close() {
        if (fd !== null) closeSync(fd);
        fd = null;
        rmSync(folder, { recursive: true, force: true });
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

export interface Predictor {
  readonly network: NetworkFn;
  close(): Promise<void>;
}

/**
 * The model with its full-resolution head `seg_outputs.<last>` replaced by the identity on its C input
 * channels (and the unused deep-supervision heads by zeros of the same width): its output is the last
 * decoder feature map, exactly (1·f + 0·others). Returns that model and the original head's weights.
 */
export function featureModel(model: LoadedModel): {
  model: LoadedModel;
  weight: Tensor;
  bias: Tensor;
} {
  const net = new StuNet(model.arch);
  const heads = net.segOutputs.length;
  const channels = model.arch.dims[0] ?? fail('BAD_INPUT', 'architecture without dims');
  const last = `seg_outputs.${heads - 1}`;
  const weight = model.weights.get(`${last}.weight`) ?? fail('NOT_FOUND', `weights have no '${last}.weight'`);
  const bias = model.weights.get(`${last}.bias`) ?? fail('NOT_FOUND', `weights have no '${last}.bias'`);
  const weights = new Map(model.weights);
  for (let u = 0; u < heads; u++) {
    const w = weights.get(`seg_outputs.${u}.weight`);
    if (w === undefined) fail('NOT_FOUND', `weights have no 'seg_outputs.${u}.weight'`);
    const cin = w.shape[1] as number;
    const nw = new Tensor([channels, cin, 1, 1, 1]);
    if (u === heads - 1) for (let c = 0; c < channels; c++) nw.data[c * cin + c] = 1;
    weights.set(`seg_outputs.${u}.weight`, nw);
    weights.set(`seg_outputs.${u}.bias`, new Tensor([channels]));
  }
  return { model: { ...model, arch: { ...model.arch, numClasses: channels }, weights }, weight, bias };
}

/** The head on the wasm backend's convolution (SIMD, threads): (C, n) → (K, n). */
function wasmClassHead(be: Backend, weight: Tensor, bias: Tensor): ClassHead {
  const classes = weight.shape[0] as number;
  const channels = weight.shape[1] as number;
  const attrs = { stride: [1, 1, 1], padding: [0, 0, 0] } as const;
  return {
    classes,
    channels,
    apply(features: Float32Array, dims: readonly [number, number, number]): Float32Array {
      const voxels = dims[0] * dims[1] * dims[2];
      if (features.length !== channels * voxels)
        fail('SHAPE_MISMATCH', `class head: expected ${channels}×${voxels} features, got ${features.length}`);
      const x = new Tensor([1, channels, 1, 1, voxels], features);
      return be.conv3d(x, weight, bias, attrs, [1, classes, 1, 1, voxels]).data;
    },
  };
}

/**
 * The head as a two-node ONNX model (1×1×1 Conv, Softmax over the classes) on ONNX Runtime: both as
 * torch runs them in float32, with ORT's vectorised exponentials (the per-voxel K-way softmax in JS costs
 * more than the network at K = 105).
 */
export async function ortClassHead(
  weight: Tensor,
  bias: Tensor,
  threads: number | undefined,
): Promise<{
  head: ClassHead;
  close: () => Promise<void>;
}> {
  const classes = weight.shape[0] as number;
  const channels = weight.shape[1] as number;
  const raw = (t: Tensor): Uint8Array => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  // (C, n) features: Gemm(Fᵀ, Wᵀ) + b → (n, K); Softmax on the last axis (ORT's fast path); → (K, n).
  const wT = new Tensor([channels, classes]);
  for (let k = 0; k < classes; k++)
    for (let c = 0; c < channels; c++) wT.data[c * classes + k] = weight.data[k * channels + c] as number;
  const bytes = encodeModel({
    irVersion: IR_VERSION,
    opsetImports: [{ domain: '', version: OPSET_VERSION }],
    producerName: 'stunet',
    producerVersion: '0',
    metadata: [],
    graph: {
      name: 'stunet_head',
      nodes: [
        {
          name: 'head',
          opType: 'Gemm',
          inputs: ['features', 'wT', 'b'],
          outputs: ['logits'],
          attributes: [{ name: 'transA', type: 'INT', i: 1 }],
        },
        {
          name: 'softmax',
          opType: 'Softmax',
          inputs: ['logits'],
          outputs: ['probs'],
          attributes: [{ name: 'axis', type: 'INT', i: 1 }],
        },
        {
          name: 'transpose',
          opType: 'Transpose',
          inputs: ['probs'],
          outputs: ['probabilities'],
          attributes: [{ name: 'perm', type: 'INTS', ints: [1, 0] }],
        },
      ],
      initializers: [
        { name: 'wT', dataType: DataType.FLOAT, dims: wT.shape, rawData: raw(wT) },
        { name: 'b', dataType: DataType.FLOAT, dims: bias.shape, rawData: raw(bias) },
      ],
      inputs: [{ name: 'features', elemType: DataType.FLOAT, dims: [channels, 'N'] }],
      outputs: [{ name: 'probabilities', elemType: DataType.FLOAT, dims: [classes, 'N'] }],
      valueInfo: [],
    },
  }).finish();
  const session = await createOrtSession(bytes, threads === undefined ? {} : { intraOpThreads: threads });
  const js = jsClassHead(weight.data, bias.data);
  return {
    head: {
      classes,
      channels,
      apply: (f, dims) => js.apply(f, dims),
      probabilities: async (f, dims) => {
        const out = await session.run(new Tensor([channels, dims[0] * dims[1] * dims[2]], f));
        return (out[0] ?? fail('RUNTIME', 'the head model returned nothing')).data;
      },
    },
    close: () => session.release(),
  };
}

/**
 * The network as a NetworkFn on the chosen executor (full-resolution output only). By default
 * (`featureHead` true) the executor runs the network up to its last decoder feature map and the returned
 * NetworkFn carries the class head (`classHead`, run on the wasm convolution), which the sliding window
 * applies a few planes at a time: no (K × patch) array, whatever the class count. `lowMemory` runs ORT
 * without its CPU memory arena and memory pattern (sequential): peak near the live set, slower passes.
 */
export async function createPredictorNetwork(
  model: LoadedModel,
  backend: PredictBackend,
  threads?: number,
  options: {
    readonly featureHead?: boolean;
    /** ORT without its memory arena: about half the peak, about twice the time per pass (see README). */
    readonly lowMemory?: boolean;
  } = {},
): Promise<Predictor> {
  const split = options.featureHead ?? true;
  const fm = split ? featureModel(model) : null;
  const runModel = fm?.model ?? model;
  const needWasm = backend === 'wasm' || fm !== null;
  const be = needWasm ? await createWasmBackend(threads === undefined ? {} : { threads }) : null;
  let run: (x: Tensor) => Promise<Tensor[]>;
  let closeRunner: () => Promise<void> = () => Promise.resolve();
  if (backend === 'wasm' && be !== null) {
    const engine = new Engine(be);
    const net = new StuNet(runModel.arch);
    const params = new TensorParams(runModel.weights);
    run = (x) => Promise.resolve(net.forward(engine, params, x, { deepSupervision: false }));
  } else {
    const runner = await createNetworkRunner(runModel, {
      executor: backend === 'wasm' ? 'ref' : backend,
      deepSupervision: false,
      lowMemory: options.lowMemory ?? false,
      ...(threads === undefined ? {} : { threads }),
    });
    run = (x) => runner.run(x);
    closeRunner = () => runner.close();
  }
  let head: ClassHead | null = null;
  let closeHead: () => Promise<void> = () => Promise.resolve();
  if (fm !== null && be !== null) {
    if (backend === 'ort') {
      const h = await ortClassHead(fm.weight, fm.bias, threads);
      head = h.head;
      closeHead = h.close;
    } else head = wasmClassHead(be, fm.weight, fm.bias);
  }
  const network: NetworkFn = head !== null ? Object.assign(run, { classHead: head }) : run;
  return {
    network,
    close: async () => {
      await closeHead();
      await closeRunner();
      await be?.close();
    },
  };
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
    ringStore: ringStoreFor(opts.ringMemoryBytes ?? 256 * 2 ** 20),
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
