/**
 * The predict worker: `stunet predict` for one case, in a Web Worker so that the page stays responsive.
 * The model is read by the core's loader (whitelist unpickler, v1/v2 mapping, ONNX import), the memory
 * bound checked before any work, the network run by ONNX Runtime Web (WASM or WebGPU) or the engine, and
 * the case predicted by the core's `predictCase` (preprocessing, sliding window, stitching, export): the
 * same code as the CLI. Cancelling terminates this worker (the page starts a new one).
 */
import { readModel, saveModel } from './cache.js';
import {
  createPredictorNetwork,
  errorNaming,
  fail,
  isDicomInput,
  loadModelFromStore,
  niftiStem,
  predictCase,
  readDicomInput,
  readNifti,
  writeNifti,
  type FileStore,
  type LoadedModel,
  type MemoryStore,
} from './core.js';
import { webMemoryPlan, type WebExecutor } from './memory.js';
import { modelFiles } from './model-input.js';
import type { ClassVolume, NamedBytes, OutputFile, RunRequest, WorkerMessage } from './protocol.js';
import { hasWebGpu, isolated, loadOrt, webRuntime } from './runtime.js';

interface WorkerScope {
  readonly name: string;
  onmessage: ((event: MessageEvent<RunRequest>) => void) | null;
  postMessage(message: WorkerMessage, transfer: Transferable[]): void;
}

/** The name the page gives this worker; ONNX Runtime's own thread workers load other scripts. */
export const PREDICT_WORKER_NAME = 'stunet-predict';

const scope = self as unknown as WorkerScope;
const post = (m: WorkerMessage, transfer: Transferable[] = []): void => {
  scope.postMessage(m, transfer);
};

/** The image files in the store: one NIfTI (or one DICOM file or zip) as `input/<name>`, a folder as `input/<folder>/…`. */
function addImage(store: MemoryStore, image: readonly NamedBytes[]): string {
  if (image.length === 0) fail('BAD_INPUT', 'no image given');
  const [only] = image;
  if (image.length === 1 && only !== undefined && !only.name.includes('/')) {
    store.files.set(`input/${only.name}`, only.bytes);
    return `input/${only.name}`;
  }
  // a folder's files keep their paths below the folder (webkitRelativePath: <folder>/<…>)
  const folder = image[0]?.name.split('/')[0] ?? 'series';
  for (const f of image)
    store.files.set(`input/${folder}/${f.name.split('/').slice(1).join('/') || f.name}`, f.bytes);
  return `input/${folder}`;
}

async function chooseExecutor(backend: RunRequest['backend']): Promise<WebExecutor> {
  if (backend === 'engine') return 'engine';
  if (backend === 'wasm') return 'ort-wasm';
  if (backend === 'webgpu') return 'ort-webgpu';
  return (await hasWebGpu()) ? 'ort-webgpu' : 'ort-wasm';
}

/** Voxels and mL per class of the label NIfTI (the class list). */
function classVolumes(labelNifti: Uint8Array, names: readonly string[]): ClassVolume[] {
  const seg = readNifti(labelNifti);
  const counts = new Float64Array(Math.max(names.length, 1));
  const raw = seg.data;
  for (let i = 0; i < raw.length; i++) {
    const l = raw[i] as number;
    if (l > 0 && l < counts.length) counts[l] = (counts[l] as number) + 1;
  }
  const p = seg.header.pixdim;
  const voxelMm3 = Math.abs((p[1] ?? 1) * (p[2] ?? 1) * (p[3] ?? 1));
  return names.flatMap((name, label) => {
    const voxels = counts[label] ?? 0;
    return label === 0 || voxels === 0 ? [] : [{ label, name, voxels, volumeMl: (voxels * voxelMm3) / 1000 }];
  });
}

function describeRuntime(
  executor: WebExecutor,
  device: string,
  fallback: string | undefined,
  threads: number,
): string {
  const t = `${threads} thread${threads === 1 ? '' : 's'}${isolated() ? ', cross-origin isolated' : ', not isolated: one thread'}`;
  const where =
    executor === 'engine'
      ? `stunet's wasm engine (${t})`
      : device === 'webgpu'
        ? 'ONNX Runtime Web on WebGPU'
        : `ONNX Runtime Web on WASM (${t})`;
  return `running on ${where}${fallback === undefined ? '' : `; ${fallback}`}`;
}

async function loadModelSource(req: RunRequest): Promise<{ store: MemoryStore; path: string; name: string }> {
  if (req.model.kind === 'cached') {
    const c = await readModel(req.model.id);
    return { store: c.store, path: c.path, name: c.entry.name };
  }
  return modelFiles(req.model.files);
}

/** The model's architecture alone (no weights), checked against what the app gives it: one image. */
function modelHead(store: FileStore, path: string): LoadedModel {
  const head = loadModelFromStore(store, path, { weights: false });
  const c = head.arch.inputChannels;
  if (c !== 1)
    fail(
      'BAD_INPUT',
      `this model takes ${c} input channels (images of one case taken together); the app gives it one image: ` +
        'use a model with one input channel, such as STU-Net on CT',
    );
  return head;
}

async function run(req: RunRequest): Promise<void> {
  const t0 = performance.now();
  const source = await loadModelSource(req);
  const { store, path } = source;
  const imagePath = addImage(store, req.image);
  const dicom = isDicomInput(store, imagePath);
  post({ type: 'status', text: 'reading the model' });
  const head = modelHead(store, path);
  const executor = await chooseExecutor(req.backend);
  const imageName = `'${store.basename(imagePath)}'`;
  let plan: ReturnType<typeof webMemoryPlan>;
  try {
    plan = webMemoryPlan(store, head, imagePath, executor); // reads the image's header
  } catch (e) {
    throw errorNaming(imageName, e);
  }
  post({ type: 'memory', text: plan.text });
  if (plan.refusal !== null) fail('UNSUPPORTED', plan.refusal);
  const series = dicom ? await readDicomInput(store, imagePath) : null;
  const channel = series?.image ?? store.read(imagePath, 'image');
  const model = loadModelFromStore(store, path);
  if (req.model.kind === 'files' && req.model.keep)
    post({ type: 'cached', model: await saveModel(model, source.name) });
  post({ type: 'status', text: 'preparing the network' });
  const ort = executor === 'engine' ? null : await loadOrt();
  const predictor = await createPredictorNetwork(
    model,
    executor === 'engine' ? 'wasm' : 'ort',
    webRuntime(ort, req.threads),
    {
      threads: req.threads,
      ...(executor === 'ort-webgpu' ? { device: { kind: 'webgpu' as const } } : {}),
    },
  );
  post({
    type: 'device',
    text: describeRuntime(executor, predictor.device, predictor.fallback, isolated() ? req.threads : 1),
  });
  const stem = series === null ? niftiStem(imagePath) : store.basename(imagePath);
  const labelFile = `${stem}_seg.nii.gz`;
  try {
    const r = await predictCase(channel, imageName, labelFile, model, predictor.network, {
      statistics: true,
      ...(req.tta ? {} : { mirrorAxes: [] }),
      ...(series === null
        ? {}
        : { dicomSource: series.source, outputTypes: ['nifti', 'dicom-seg'] as const }),
      onProgress: (e) => {
        post({ type: 'progress', stage: e.stage, done: e.done, total: e.total });
      },
    });
    const outputs: OutputFile[] = r.outputs.map((o) => ({
      name: o.name,
      data: typeof o.data === 'string' ? new TextEncoder().encode(o.data) : o.data,
    }));
    const labels = outputs.find((o) => o.name === labelFile) ?? fail('RUNTIME', 'predict wrote no label map');
    const image: OutputFile =
      series === null
        ? { name: store.basename(imagePath), data: store.read(imagePath) }
        : { name: `${stem}.nii.gz`, data: writeNifti(series.image) };
    const classes = classVolumes(labels.data, r.labelNames);
    const seconds = (performance.now() - t0) / 1000;
    post({ type: 'done', outputs, labelFile, image, labelNames: r.labelNames, classes, seconds }, [
      ...outputs.map((o) => o.data.buffer as ArrayBuffer),
    ]);
  } finally {
    await predictor.close();
  }
}

if (scope.name === PREDICT_WORKER_NAME)
  scope.onmessage = (event) => {
    run(event.data).catch((e: unknown) => {
      post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
    });
  };
