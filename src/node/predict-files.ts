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
import { basename, dirname, join } from 'node:path';
import { fail } from '../util/errors.js';
import { Engine, TensorParams } from '../engine/engine.js';
import type { Backend } from '../engine/backend.js';
import { createWasmBackend } from '../engine/backends/wasm/index.js';
import { Tensor } from '../engine/tensor.js';
import { jsClassHead, type ClassHead } from '../inference/head.js';
import { IR_VERSION, OPSET_VERSION } from '../onnx/export.js';
import { DataType, encodeModel } from '../onnx/proto.js';
import { createOrtSession, type OrtSession } from '../onnx/session-node.js';
import { memoryRingStore, type RingStore, type RingStoreFactory } from '../inference/stitcher.js';
import { labelSidecarJson, niftiLabelExtension, splitPerClass } from '../inference/label-output.js';
import { predictVolume, type PredictVolumeOptions, type ProbabilityGrid } from '../inference/predictor.js';
import { renderPreview } from '../inference/preview.js';
import type { SlidingWindowMode } from '../inference/sliding-window.js';
import { computeLabelStatistics } from '../inference/statistics.js';
import type { NetworkFn } from '../inference/tta.js';
import { readNifti, require3d, writeNifti, type NiftiImage } from '../io/nifti.js';
import { npyHeader } from '../io/npy.js';
import { niftiToVolume, volumeToNifti } from '../io/nifti-volume.js';
import { fromCanonical, toClosestCanonical } from '../io/orientation.js';
import { directInferenceTable, labelNames, mapPrediction } from '../io/labels/index.js';
import type { LoadedModel } from '../model/loaded-model.js';
import { StuNet } from '../model/stunet.js';
import type { ProgressListener } from '../util/progress.js';
import { readBytes, removeStaleTemps, tempName, writeAllAtomic } from './fs.js';
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
  /**
   * Mirror TTA with the fused head: a tile's passes' feature maps are held together up to this many bytes
   * (default 0), above it each pass is added to the sums as soon as it is computed (one feature map held).
   */
  readonly ttaFeatureBudgetBytes?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressListener;
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
 * nnU-Net v1's per-chunk step as an ONNX graph for `passes` TTA passes: inputs `features_<p>` (C, N),
 * `weight` (N, 1) and `sums` (N, K); output `out` = sums + weight · Σ_p softmax(Wᵀ-Gemm(features_p) + b) / P
 * (N, K), voxel-major like the stitching ring. Every op in float32 as torch computes it.
 */
function headModelBytes(wT: Tensor, bias: Tensor, passes: number): Uint8Array {
  const [channels, classes] = wT.shape as [number, number];
  const raw = (t: Tensor): Uint8Array => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  type Node = Parameters<typeof encodeModel>[0]['graph']['nodes'][number];
  const nodes: Node[] = [];
  let mean = '';
  for (let p = 0; p < passes; p++) {
    nodes.push({
      name: `head_${p}`,
      opType: 'Gemm',
      inputs: [`features_${p}`, 'wT', 'b'],
      outputs: [`logits_${p}`],
      attributes: [{ name: 'transA', type: 'INT', i: 1 }],
    });
    nodes.push({
      name: `softmax_${p}`,
      opType: 'Softmax',
      inputs: [`logits_${p}`],
      outputs: [`probs_${p}`],
      attributes: [{ name: 'axis', type: 'INT', i: 1 }],
    });
    let term = `probs_${p}`;
    if (passes > 1) {
      nodes.push({
        name: `div_${p}`,
        opType: 'Div',
        inputs: [term, 'passes'],
        outputs: [`part_${p}`],
        attributes: [],
      });
      term = `part_${p}`;
    }
    if (p > 0) {
      nodes.push({
        name: `mean_${p}`,
        opType: 'Add',
        inputs: [mean, term],
        outputs: [`mean_${p}`],
        attributes: [],
      });
      term = `mean_${p}`;
    }
    mean = term;
  }
  nodes.push({
    name: 'weigh',
    opType: 'Mul',
    inputs: [mean, 'weight'],
    outputs: ['weighted'],
    attributes: [],
  });
  nodes.push({
    name: 'accumulate',
    opType: 'Add',
    inputs: ['sums', 'weighted'],
    outputs: ['out'],
    attributes: [],
  });
  const n = new Tensor([], Float32Array.of(passes));
  return encodeModel({
    irVersion: IR_VERSION,
    opsetImports: [{ domain: '', version: OPSET_VERSION }],
    producerName: 'stunet',
    producerVersion: '0',
    metadata: [],
    graph: {
      name: 'stunet_head',
      nodes,
      initializers: [
        { name: 'wT', dataType: DataType.FLOAT, dims: wT.shape, rawData: raw(wT) },
        { name: 'b', dataType: DataType.FLOAT, dims: bias.shape, rawData: raw(bias) },
        ...(passes > 1 ? [{ name: 'passes', dataType: DataType.FLOAT, dims: [], rawData: raw(n) }] : []),
      ],
      inputs: [
        ...Array.from({ length: passes }, (_, p) => ({
          name: `features_${p}`,
          elemType: DataType.FLOAT,
          dims: [channels, 'N'],
        })),
        { name: 'weight', elemType: DataType.FLOAT, dims: ['N', 1] },
        { name: 'sums', elemType: DataType.FLOAT, dims: ['N', classes] },
      ],
      outputs: [{ name: 'out', elemType: DataType.FLOAT, dims: ['N', classes] }],
      valueInfo: [],
    },
  }).finish();
}

/**
 * The v1 head step on ONNX Runtime (`accumulateSoftmax`: 1×1×1 head as a Gemm, Softmax over the classes,
 * the TTA mean, the Gaussian weight and the running sum, one graph per TTA pass count, made on first use)
 * with ORT's vectorised exponentials and threads; `apply` (logits, v2) stays in JS. The output goes to one
 * reused (N, K) array.
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
  const wT = new Tensor([channels, classes]);
  for (let k = 0; k < classes; k++)
    for (let c = 0; c < channels; c++) wT.data[c * classes + k] = weight.data[k * channels + c] as number;
  const sessions = new Map<number, Promise<OrtSession>>();
  const session = (passes: number): Promise<OrtSession> => {
    let s = sessions.get(passes);
    if (s === undefined) {
      s = createOrtSession(headModelBytes(wT, bias, passes), {
        allowSpinning: false, // 128 short runs per tile with ring I/O between them
        ...(threads === undefined ? {} : { intraOpThreads: threads }),
      });
      sessions.set(passes, s);
    }
    return s;
  };
  await session(1);
  const js = jsClassHead(weight.data, bias.data);
  let out = new Float32Array(0);
  let ones = new Float32Array(0);
  return {
    head: {
      classes,
      channels,
      apply: (f, dims) => js.apply(f, dims),
      accumulateSoftmax: async (features, n, g, sums) => {
        if (
          features.length < 1 ||
          features.some((f) => f.length !== channels * n) ||
          sums.length !== n * classes
        )
          fail('SHAPE_MISMATCH', `class head: expected ${channels}×${n} features and ${n}×${classes} sums`);
        if (g !== null && g.length !== n) fail('SHAPE_MISMATCH', `class head: expected ${n} weights`);
        if (out.length !== n * classes) out = new Float32Array(n * classes);
        if (g === null && ones.length !== n) ones = new Float32Array(n).fill(1);
        const inputs: Record<string, Tensor> = {
          weight: new Tensor([n, 1], g ?? ones),
          sums: new Tensor([n, classes], sums),
        };
        features.forEach((f, p) => (inputs[`features_${p}`] = new Tensor([channels, n], f)));
        const s = await session(features.length);
        await s.run(inputs, { out: new Tensor([n, classes], out) });
        return out;
      },
    },
    close: async () => {
      for (const s of sessions.values()) await (await s).release();
    },
  };
}

/**
 * The network as a NetworkFn on the chosen executor (full-resolution output only). By default
 * (`featureHead` true) the executor runs the network up to its last decoder feature map and the returned
 * NetworkFn carries the class head (`classHead`: the fused ORT head step for `ort`, the wasm convolution
 * otherwise), which the sliding window applies one tile plane at a time: no (K × patch) array, whatever the
 * class count. `lowMemory` runs ORT
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
    this.tmp = tempName(path);
  }

  write(z: number, values: Float32Array, grid: ProbabilityGrid): void {
    if (this.fd === null) {
      mkdirSync(dirname(this.path), { recursive: true });
      this.fd = openSync(this.tmp, 'w');
      this.grid = grid;
      const shape = [grid.classes, ...grid.shapeZYX];
      const head = npyHeader('<f4', shape);
      writeSync(this.fd, head, 0, head.length, 0);
      this.headerBytes = head.length;
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
  removeStaleTemps(outDir); // outputs of an earlier run killed mid-write
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
    ...(opts.ttaFeatureBudgetBytes === undefined
      ? {}
      : { ttaFeatureBudgetBytes: opts.ttaFeatureBudgetBytes }),
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
