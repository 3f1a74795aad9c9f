/** Models on disk: the model-files jobs over the Node FileStore. */
import { loadModelFromStore, saveModelFolderTo, saveTorchCheckpointTo } from '../jobs/model-files.js';
import type { ModelSourceOptions, TorchTarget, WrittenCheckpoint } from '../jobs/model-files.js';
import type { LoadedModel } from '../model/loaded-model.js';
import { nodeStore } from './file-store.js';
import { resolveModelArg } from './model-cache.js';

export type { ModelSourceOptions, TorchTarget, WrittenCheckpoint };

/** A model from a path, or from the model cache by name (`S`, `STU-Net-L`, an installed name): a path wins. */
export const loadModelFrom = (path: string, opts: ModelSourceOptions = {}): LoadedModel =>
  loadModelFromStore(nodeStore, resolveModelArg(path), opts);

export const saveModelFolder = (dir: string, model: LoadedModel): string[] =>
  saveModelFolderTo(nodeStore, dir, model);

export const saveTorchCheckpoint = (
  model: LoadedModel,
  out: string,
  target: TorchTarget,
  fold: number | 'all' = 0,
): WrittenCheckpoint => saveTorchCheckpointTo(nodeStore, model, out, target, fold);
