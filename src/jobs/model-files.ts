/**
 * Resolves a `-m <model>` argument in a FileStore (the disk in Node, dropped files in a browser): our
 * model folder (model.json + weights.safetensors), an official v1 `.model` (plans from the sibling
 * `.model.pkl`), a v2 `.pth` (plans from --plans, a plans.json beside it or one folder up — the v2
 * results layout — or the checkpoint's init_args), or an `.onnx` written by `stunet export-onnx`.
 */
import { checkpointKind, loadNnunetV1, loadNnunetV2, type ReadOptions } from '../checkpoint/nnunet-read.js';
import { toTorchV1Chunks, toTorchV2Chunks } from '../checkpoint/nnunet-write.js';
import { loadTorchFrom } from '../checkpoint/torch-load.js';
import { isZip, type ByteSource } from '../checkpoint/zip.js';
import { loadStunetOnnx } from '../onnx/stunet-import.js';
import { fail } from '../util/errors.js';
import type { LoadedModel } from '../model/loaded-model.js';
import { MODEL_JSON, WEIGHTS_FILE, parseModel, serializeModel } from '../checkpoint/model-folder.js';
import { firstExisting, readText, type FileStore } from './store.js';

export interface ModelSourceOptions {
  /** v2: an explicit plans.json path. */
  readonly plans?: string;
  /** false: the architecture and meta only, no weight read (see ReadOptions of nnunet-read). */
  readonly weights?: boolean;
}

/**
 * A checkpoint as a byte source over the store: the file is read piece by piece (the zip directory, the
 * pickle, then each weight when it is converted), never whole: a released L (3.5 GB) or H (11.7 GB,
 * momentum buffers included) needs the memory of its float32 weights only.
 */
export function storeByteSource(store: FileStore, path: string, what = 'checkpoint'): ByteSource {
  const size = store.size(path);
  if (size < 0) {
    store.read(path, what); // the store's own error: missing, or a folder
    fail('NOT_FOUND', `${what} '${path}' does not exist`);
  }
  return { size, read: (offset, length) => store.readRange(path, offset, length, what) };
}

function loadV2(store: FileStore, path: string, opts: ModelSourceOptions): LoadedModel {
  const dir = store.dirname(path);
  const near = (name: string): string | null =>
    firstExisting(store, [store.join(dir, name), store.join(dir, '..', name)]);
  const plansPath = opts.plans ?? near('plans.json');
  const datasetPath = near('dataset.json');
  return loadNnunetV2(
    storeByteSource(store, path),
    {
      plansJson: plansPath === null ? null : readText(store, plansPath, 'plans'),
      datasetJson: datasetPath === null ? null : readText(store, datasetPath, 'dataset.json'),
    },
    path,
    readOptions(opts),
  );
}

const readOptions = (opts: ModelSourceOptions): ReadOptions =>
  opts.weights === false ? { weights: false } : {};

function loadV1(store: FileStore, path: string, opts: ModelSourceOptions): LoadedModel {
  const pkl = `${path}.pkl`;
  if (!store.exists(pkl))
    fail(
      'NOT_FOUND',
      `v1 checkpoint '${path}' needs its plans file '${pkl}' (nnU-Net v1 keeps the pool sizes there)`,
    );
  return loadNnunetV1(storeByteSource(store, path), store.read(pkl, 'plans file'), path, readOptions(opts));
}

/** The final checkpoint of a fold folder: ours (checkpoint_final/), nnU-Net v2's or v1's; null without one. */
function foldCheckpoint(store: FileStore, foldDir: string): string | null {
  return firstExisting(store, [
    store.join(foldDir, 'checkpoint_final', MODEL_JSON),
    store.join(foldDir, 'checkpoint_final.pth'),
    store.join(foldDir, 'model_final_checkpoint.model'),
  ]);
}

/** The folds of a training output folder (`stunet train -o`, an nnU-Net v1 or v2 trainer folder). */
export function foldCheckpoints(store: FileStore, dir: string): { fold: string; path: string }[] {
  return store
    .list(dir)
    .filter((name) => /^fold_(\d+|all)$/.test(name))
    .flatMap((fold) => {
      const path = foldCheckpoint(store, store.join(dir, fold));
      return path === null ? [] : [{ fold, path }];
    });
}

/**
 * A model from a folder (ours, a v2 results fold, or a training output folder with one fold), a
 * `model.json`, a v1 `.model` or a v2 `.pth`.
 */
export function loadModelFromStore(
  store: FileStore,
  path: string,
  opts: ModelSourceOptions = {},
): LoadedModel {
  if (store.isDirectory(path)) {
    if (store.exists(store.join(path, MODEL_JSON))) {
      return parseModel(
        readText(store, store.join(path, MODEL_JSON), MODEL_JSON),
        opts.weights === false ? null : storeByteSource(store, store.join(path, WEIGHTS_FILE), 'weights'),
        path,
      );
    }
    const v2 = firstExisting(store, [
      store.join(path, 'checkpoint_final.pth'),
      store.join(path, 'checkpoint_best.pth'),
    ]);
    if (v2 !== null) return loadV2(store, v2, opts);
    const folds = foldCheckpoints(store, path);
    const [only] = folds;
    if (folds.length === 1 && only !== undefined) return loadModelFromStore(store, only.path, opts);
    if (folds.length > 1)
      fail(
        'BAD_INPUT',
        `'${path}' is a training folder with ${folds.length} folds (${folds.map((f) => f.fold).join(', ')}): ` +
          `name one, e.g. -m ${store.join(path, folds[0]?.fold ?? 'fold_0')} (predict takes them all as an ensemble)`,
      );
    fail(
      'BAD_INPUT',
      `'${path}' is a folder without ${MODEL_JSON}, checkpoint_final.pth or fold_N/ with a final checkpoint: not a model`,
    );
  }
  if (store.basename(path) === MODEL_JSON) return loadModelFromStore(store, store.dirname(path), opts);
  if (path.endsWith('.onnx')) {
    const dir = store.dirname(path);
    return loadStunetOnnx(
      store.read(path, 'ONNX model'),
      (location, offset, length) =>
        store.readRange(store.join(dir, location), offset, length, 'ONNX external data'),
      path,
    );
  }
  const src = storeByteSource(store, path, 'model');
  const head = src.read(0, Math.min(4, src.size));
  if (!isZip(head) && head[0] !== 0x80)
    fail('BAD_INPUT', `'${path}' is not a PyTorch checkpoint, a model folder or a model.json`);
  if (path.endsWith('.model')) return loadV1(store, path, opts);
  if (path.endsWith('.pth') || path.endsWith('.pt')) return loadV2(store, path, opts);
  // Unknown extension: decide by content.
  return checkpointKind(loadTorchFrom(src), path) === 'nnunet-v1'
    ? loadV1(store, path, opts)
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
 * torch-v1: `out` a `.model` path (the `.model.pkl` goes beside it), else a trainer folder that receives
 * nnU-Net v1's layout `fold_N/model_final_checkpoint.model` + `.pkl`.
 * torch-v2: `out` a `.pth` path (plans.json and dataset.json beside it), else a trainer folder that
 * receives nnU-Net v2's layout `fold_N/checkpoint_final.pth` with `plans.json` and `dataset.json` in the
 * trainer folder, as the official predictor opens it.
 */
export function saveTorchCheckpointTo(
  store: FileStore,
  model: LoadedModel,
  out: string,
  target: TorchTarget,
  fold: number | 'all' = 0,
): WrittenCheckpoint {
  const foldDir = store.join(out, `fold_${fold}`);
  if (target === 'torch-v1') {
    const path = out.endsWith('.model') ? out : store.join(foldDir, 'model_final_checkpoint.model');
    const f = toTorchV1Chunks(model);
    store.writeAll([
      { path, data: f.model },
      { path: `${path}.pkl`, data: f.pkl },
    ]);
    return { files: [path, `${path}.pkl`], plansSynthesized: f.plansSynthesized };
  }
  const file = out.endsWith('.pth');
  const path = file ? out : store.join(foldDir, 'checkpoint_final.pth');
  const beside = file ? store.dirname(path) : out;
  const f = toTorchV2Chunks(model);
  const files = [
    { path, data: f.checkpoint },
    { path: store.join(beside, 'plans.json'), data: f.plansJson },
    { path: store.join(beside, 'dataset.json'), data: f.datasetJson },
  ];
  store.writeAll(files);
  return { files: files.map((x) => x.path), plansSynthesized: f.plansSynthesized };
}
