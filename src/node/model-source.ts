/**
 * Resolves a `-m <model>` argument on disk: our model folder (model.json + weights.safetensors), an
 * official v1 `.model` (plans from the sibling `.model.pkl`), or a v2 `.pth` (plans from --plans, a
 * plans.json beside it or one folder up — the v2 results layout — or the checkpoint's init_args).
 */
import { basename, dirname, extname, join } from 'node:path';
import { checkpointKind, loadNnunetV1, loadNnunetV2 } from '../checkpoint/nnunet-read.js';
import { toTorchV1, toTorchV2 } from '../checkpoint/nnunet-write.js';
import { loadTorch } from '../checkpoint/torch-load.js';
import { isZip } from '../checkpoint/zip.js';
import { fail } from '../util/errors.js';
import type { LoadedModel } from '../model/loaded-model.js';
import { MODEL_JSON, WEIGHTS_FILE, parseModel, serializeModel } from '../checkpoint/model-folder.js';
import { exists, isDirectory, readBytes, readText, writeAllAtomic } from './fs.js';

export interface ModelSourceOptions {
  /** v2: an explicit plans.json path. */
  readonly plans?: string;
}

function firstExisting(paths: readonly string[]): string | null {
  return paths.find((p) => exists(p)) ?? null;
}

function loadV2(path: string, opts: ModelSourceOptions): LoadedModel {
  const dir = dirname(path);
  const plansPath = opts.plans ?? firstExisting([join(dir, 'plans.json'), join(dir, '..', 'plans.json')]);
  const datasetPath = firstExisting([join(dir, 'dataset.json'), join(dir, '..', 'dataset.json')]);
  return loadNnunetV2(
    readBytes(path, 'checkpoint'),
    {
      plansJson: plansPath === null ? null : readText(plansPath, 'plans'),
      datasetJson: datasetPath === null ? null : readText(datasetPath, 'dataset.json'),
    },
    path,
  );
}

function loadV1(path: string): LoadedModel {
  const pkl = `${path}.pkl`;
  if (!exists(pkl))
    fail(
      'NOT_FOUND',
      `v1 checkpoint '${path}' needs its plans file '${pkl}' (nnU-Net v1 keeps the pool sizes there)`,
    );
  return loadNnunetV1(readBytes(path, 'checkpoint'), readBytes(pkl, 'plans file'), path);
}

export function loadModelFrom(path: string, opts: ModelSourceOptions = {}): LoadedModel {
  if (isDirectory(path)) {
    if (exists(join(path, MODEL_JSON))) {
      return parseModel(
        readText(join(path, MODEL_JSON), MODEL_JSON),
        readBytes(join(path, WEIGHTS_FILE), 'weights'),
        path,
      );
    }
    const v2 = firstExisting([join(path, 'checkpoint_final.pth'), join(path, 'checkpoint_best.pth')]);
    if (v2 !== null) return loadV2(v2, opts);
    fail('BAD_INPUT', `'${path}' is a folder without ${MODEL_JSON} or checkpoint_final.pth: not a model`);
  }
  if (basename(path) === MODEL_JSON) return loadModelFrom(dirname(path), opts);
  const bytes = readBytes(path, 'model');
  if (!isZip(bytes) && bytes[0] !== 0x80)
    fail('BAD_INPUT', `'${path}' is not a PyTorch checkpoint, a model folder or a model.json`);
  const ext = extname(path);
  if (ext === '.model') return loadV1(path);
  if (ext === '.pth' || ext === '.pt') return loadV2(path, opts);
  // Unknown extension: decide by content.
  return checkpointKind(loadTorch(bytes), path) === 'nnunet-v1' ? loadV1(path) : loadV2(path, opts);
}

export function saveModelFolder(dir: string, model: LoadedModel): string[] {
  const files = serializeModel(model);
  const out = [
    { path: join(dir, MODEL_JSON), data: files.modelJson },
    { path: join(dir, WEIGHTS_FILE), data: files.weights },
  ];
  writeAllAtomic(out);
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
export function saveTorchCheckpoint(model: LoadedModel, out: string, target: TorchTarget): WrittenCheckpoint {
  if (target === 'torch-v1') {
    const path = out.endsWith('.model') ? out : `${out}.model`;
    const f = toTorchV1(model);
    writeAllAtomic([
      { path, data: f.model },
      { path: `${path}.pkl`, data: f.pkl },
    ]);
    return { files: [path, `${path}.pkl`], plansSynthesized: f.plansSynthesized };
  }
  const path = out.endsWith('.pth') ? out : join(out, 'checkpoint_final.pth');
  const f = toTorchV2(model);
  const files = [
    { path, data: f.checkpoint },
    { path: join(dirname(path), 'plans.json'), data: f.plansJson },
    { path: join(dirname(path), 'dataset.json'), data: f.datasetJson },
  ];
  writeAllAtomic(files);
  return { files: files.map((x) => x.path), plansSynthesized: f.plansSynthesized };
}
