/**
 * The models of `stunet predict -m`: one checkpoint, a comma-separated list, or a training folder (its folds,
 * or those `--folds` names) — several make a fold ensemble. Checked against each other and the memory
 * from their architectures before any weight is read, then loaded one at a time, each handing its weights
 * to its ONNX Runtime session.
 */
import { checkEnsembleMembers, ensemblePredictor, modelMembers } from '../jobs/ensemble-models.js';
import { createPredictorNetwork, type PredictBackend, type Predictor } from '../jobs/network.js';
import type { LoadedModel } from '../model/loaded-model.js';
import { nodeStore } from '../node/file-store.js';
import { resolveModelArg } from '../node/model-cache.js';
import { loadModelFrom } from '../node/model-source.js';
import { nodeRuntime } from '../node/runtime.js';
import type { OnnxDevice } from '../onnx/session.js';
import { fail } from '../util/errors.js';

/** `-m` as a list: split at commas unless the whole argument is a path that exists. */
export function modelEntries(arg: string): string[] {
  const list = arg.includes(',') && !nodeStore.exists(arg) ? arg.split(',').map((s) => s.trim()) : [arg];
  if (list.some((s) => s === '')) fail('BAD_INPUT', `-m: an empty entry in '${arg}'`);
  return list.map((s) => resolveModelArg(s));
}

/** `--folds 0,1,2` (or fold_0, all). */
export function parseFolds(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const folds = text.split(',').map((s) => s.trim());
  if (folds.some((f) => !/^(fold_)?(\d+|all)$/.test(f)))
    fail('BAD_INPUT', `--folds: expected fold numbers such as 0,1,2 (or all), got '${text}'`);
  return folds;
}

/** The member paths and their architectures and meta (no weights), checked to be one ensemble. */
export function probeMembers(
  arg: string,
  folds: readonly string[] | undefined,
  plans: { plans?: string },
): { paths: string[]; probes: LoadedModel[] } {
  const paths = modelMembers(nodeStore, modelEntries(arg), folds);
  const probes = paths.map((p) => loadModelFrom(p, { ...plans, weights: false }));
  checkEnsembleMembers(probes, paths);
  return { paths, probes };
}

/** Loads each member and its predictor in turn; the first member's meta (its weights let go for ORT). */
export async function loadPredictors(
  paths: readonly string[],
  plans: { plans?: string },
  backend: PredictBackend,
  opts: { device: OnnxDevice; lowMemory: boolean; threads?: number },
): Promise<{ model: LoadedModel; predictor: Predictor }> {
  const predictors: Predictor[] = [];
  let meta: LoadedModel | null = null;
  try {
    for (const path of paths) {
      let model = loadModelFrom(path, plans);
      predictors.push(await createPredictorNetwork(model, backend, nodeRuntime, opts));
      // ONNX Runtime holds its own copy now; the cases need the model's meta only (H: 5.4 GiB let go).
      if (backend === 'ort') model = { ...model, weights: new Map() };
      meta ??= model;
    }
  } catch (e) {
    for (const p of predictors) await p.close();
    throw e;
  }
  if (meta === null) fail('BAD_INPUT', '-m names no model');
  return { model: meta, predictor: ensemblePredictor(predictors) };
}
