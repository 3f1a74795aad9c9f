/**
 * Resolves a `-m <model>` argument in a FileStore (the disk in Node, dropped files in a browser): our model folder (model.json + weights.safetensors), an
 * official v1 `.model` (plans from the sibling `.model.pkl`), or a v2 `.pth` (plans from --plans, a
 * plans.json beside it or one folder up — the v2 results layout — or the checkpoint's init_args).
 */
import { checkpointKind, loadNnunetV1, loadNnunetV2 } from '../checkpoint/nnunet-read.js';
import { toTorchV1, toTorchV2 } from '../checkpoint/nnunet-write.js';
import { loadTorch } from '../checkpoint/torch-load.js';
import { isZip } from '../checkpoint/zip.js';
import { fail } from '../util/errors.js';
import type { LoadedModel } from '../model/loaded-model.js';
import { MODEL_JSON, WEIGHTS_FILE, parseModel, serializeModel } from '../checkpoint/model-folder.js';
import { firstExisting, readText, type FileStore } from './store.js';

export interface ModelSourceOptions {
  /** v2: an explicit plans.json path. */
  readonly plans?: string;
}

function loadV2(store: FileStore, path: string, opts: ModelSourceOptions): LoadedModel {
  const dir = store.dirname(path);
  const near = (name: string): string | null =>
    firstExisting(store, [store.join(dir, name), store.join(dir, '..', name)]);
  const plansPath = opts.plans ?? near('plans.json');
  const datasetPath = near('dataset.json');
  return loadNnunetV2(
    store.read(path, 'checkpoint'),
    {
      plansJson: plansPath === null ? null : readText(store, plansPath, 'plans'),
      datasetJson: datasetPath === null ? null : readText(store, datasetPath, 'dataset.json'),
    },
    path,
  );
}

function loadV1(store: FileStore, path: string): LoadedModel {
  const pkl = `${path}.pkl`;
  if (!store.exists(pkl))
    fail(
      'NOT_FOUND',
      `v1 checkpoint '${path}' needs its plans file '${pkl}' (nnU-Net v1 keeps the pool sizes there)`,
    );
  return loadNnunetV1(store.read(path, 'checkpoint'), store.read(pkl, 'plans file'), path);
}

/** A model from a folder (ours or a v2 results folder), a `model.json`, a v1 `.model` or a v2 `.pth`. */
export function loadModelFromStore(
  store: FileStore,
  path: string,
  opts: ModelSourceOptions = {},
): LoadedModel {
  if (store.isDirectory(path)) {
    if (store.exists(store.join(path, MODEL_JSON))) {
      return parseModel(
        readText(store, store.join(path, MODEL_JSON), MODEL_JSON),
        store.read(store.join(path, WEIGHTS_FILE), 'weights'),
        path,
      );
    }
    const v2 = firstExisting(store, [
      store.join(path, 'checkpoint_final.pth'),
      store.join(path, 'checkpoint_best.pth'),
    ]);
    if (v2 !== null) return loadV2(store, v2, opts);
    fail('BAD_INPUT', `'${path}' is a folder without ${MODEL_JSON} or checkpoint_final.pth: not a model`);
  }
  if (store.basename(path) === MODEL_JSON) return loadModelFromStore(store, store.dirname(path), opts);
  const bytes = store.read(path, 'model');
  if (!isZip(bytes) && bytes[0] !== 0x80)
    fail('BAD_INPUT', `'${path}' is not a PyTorch checkpoint, a model folder or a model.json`);
  if (path.endsWith('.model')) return loadV1(store, path);
  if (path.endsWith('.pth') || path.endsWith('.pt')) return loadV2(store, path, opts);
  // Unknown extension: decide by content.
  return checkpointKind(loadTorch(bytes), path) === 'nnunet-v1'
    ? loadV1(store, path)
    : loadV2(store, path, opts);
}

/** Writes our model folder (model.json + weights.safetensors); returns the paths. */
export function saveModelFolderTo(store: FileStore, dir: string, model: LoadedModel): string[] {
  const files = serializeModel(model);
  const out = [
    { path: store.join(dir, MODEL_JSON), data: files.modelJson },
    { path: store.join(dir, WEIGHTS_FILE), data: files.weights },
  ];
  store.writeAll(out);
  return out.map((f) => f.path);
}

export type TorchTarget = 'torch-v1' | 'torch-v2';

export interface WrittenCheckpoint {
  readonly files: string[];
  readonly plansSynthesized: boolean;
}

/**
 * torch-v1: `out` is the `.model` path (the `.model.pkl` goes beside it).
 * torch-v2: `out` is the `.pth` path, or a folder that receives checkpoint_final.pth; plans.json and
 * dataset.json go beside the checkpoint.
 */
export function saveTorchCheckpointTo(
  store: FileStore,
  model: LoadedModel,
  out: string,
  target: TorchTarget,
): WrittenCheckpoint {
  if (target === 'torch-v1') {
    const path = out.endsWith('.model') ? out : `${out}.model`;
    const f = toTorchV1(model);
    store.writeAll([
      { path, data: f.model },
      { path: `${path}.pkl`, data: f.pkl },
    ]);
    return { files: [path, `${path}.pkl`], plansSynthesized: f.plansSynthesized };
  }
  const path = out.endsWith('.pth') ? out : store.join(out, 'checkpoint_final.pth');
  const f = toTorchV2(model);
  const files = [
    { path, data: f.checkpoint },
    { path: store.join(store.dirname(path), 'plans.json'), data: f.plansJson },
    { path: store.join(store.dirname(path), 'dataset.json'), data: f.datasetJson },
  ];
  store.writeAll(files);
  return { files: files.map((x) => x.path), plansSynthesized: f.plansSynthesized };
}
