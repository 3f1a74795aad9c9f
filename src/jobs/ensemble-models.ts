/**
 * Fold ensembles (`stunet predict -m <training folder>` or `-m a,b,c`): which checkpoints are the members,
 * and that they can be averaged — nnU-Net's ensembles are folds of one configuration, so the members must
 * agree on what makes their outputs comparable voxel for voxel (classes and their names, input channels,
 * patch, plans, aggregation). nnU-Net v1 `predict_cases` / v2 `nnUNetPredictor` with several folds average
 * the members' softmax (v1) or logits (v2); the sliding window does that tile by tile (ensembleNetwork).
 */
import { modelDefaults } from '../inference/model-defaults.js';
import { ensembleNetwork } from '../inference/tta.js';
import type { LoadedModel } from '../model/loaded-model.js';
import { fail } from '../util/errors.js';
import { MODEL_JSON } from '../checkpoint/model-folder.js';
import { foldCheckpoints } from './model-files.js';
import type { Predictor } from './network.js';
import type { FileStore } from './store.js';

/**
 * The member checkpoints of `-m`: each entry as given, except a training folder (fold_N/ with final
 * checkpoints, and no model of its own), which brings its numbered folds (fold_all only when it has none),
 * or those named in `folds` ('0', 'fold_1', 'all').
 */
export function modelMembers(
  store: FileStore,
  entries: readonly string[],
  folds?: readonly string[],
): string[] {
  const wanted = folds?.map((f) => (f.startsWith('fold_') ? f : `fold_${f}`));
  const out: string[] = [];
  let usedFolds = false;
  for (const entry of entries) {
    const own =
      !store.isDirectory(entry) ||
      store.exists(store.join(entry, MODEL_JSON)) ||
      store.exists(store.join(entry, 'checkpoint_final.pth'));
    const found = own ? [] : foldCheckpoints(store, entry);
    if (found.length === 0) {
      out.push(entry);
      continue;
    }
    usedFolds = true;
    const numbered = found.filter((f) => f.fold !== 'fold_all');
    const pool = wanted === undefined ? (numbered.length > 0 ? numbered : found) : found;
    const chosen =
      wanted === undefined
        ? pool
        : wanted.map((w) => pool.find((f) => f.fold === w) ?? missingFold(entry, w, found));
    chosen.sort((a, b) => foldOrder(a.fold) - foldOrder(b.fold));
    out.push(...chosen.map((f) => f.path));
  }
  if (wanted !== undefined && !usedFolds)
    fail(
      'BAD_INPUT',
      '--folds chooses folds of a training folder: give -m the folder that holds fold_0, fold_1, …',
    );
  if (new Set(out).size !== out.length) fail('BAD_INPUT', `-m names a checkpoint twice: ${out.join(', ')}`);
  return out;
}

function foldOrder(fold: string): number {
  const n = Number(fold.replace('fold_', ''));
  return Number.isInteger(n) ? n : 1e9;
}

function missingFold(dir: string, fold: string, found: readonly { fold: string }[]): never {
  return fail(
    'NOT_FOUND',
    `--folds: '${dir}' has no ${fold} with a final checkpoint (it has ${found.map((f) => f.fold).join(', ')})`,
  );
}

/**
 * Refuses members that cannot be averaged, naming the first difference: classes, their names, input
 * channels, patch size, plans (spacing, transposition, normalisation), aggregation mode and mirror axes.
 */
export function checkEnsembleMembers(models: readonly LoadedModel[], paths: readonly string[]): void {
  const [first] = models;
  if (first === undefined) fail('BAD_INPUT', 'an ensemble needs at least one model');
  const key = (m: LoadedModel): Record<string, string> => {
    const d = modelDefaults(m);
    return {
      'class count': String(m.arch.numClasses),
      'class names': JSON.stringify(d.labelNames),
      'input channels': String(m.arch.inputChannels),
      'patch size': d.patchSizeZYX.join('×'),
      'target spacing': d.plans.targetSpacing.join(', '),
      transpose_forward: d.plans.transposeForward.join(', '),
      normalisation: d.plans.normalizationSchemes.join(', '),
      'aggregation mode': d.mode,
      'mirror axes': d.mirrorAxes.join(', '),
    };
  };
  const ref = key(first);
  models.forEach((m, i) => {
    const k = key(m);
    for (const [what, v] of Object.entries(k))
      if (v !== ref[what])
        fail(
          'BAD_INPUT',
          `ensemble: ${paths[i] ?? `member ${i}`} differs from ${paths[0] ?? 'the first'} in its ${what} ` +
            `(${v} vs ${ref[what] ?? ''}): only folds of one configuration can be averaged`,
        );
  });
}

/** The members' predictors as one (closing closes them all); one member is itself. */
export function ensemblePredictor(predictors: readonly Predictor[]): Predictor {
  const [first] = predictors;
  if (first === undefined) fail('BAD_INPUT', 'an ensemble needs at least one model');
  if (predictors.length === 1) return first;
  return {
    network: ensembleNetwork(predictors.map((p) => p.network)),
    device: first.device,
    ...(first.fallback === undefined ? {} : { fallback: first.fallback }),
    close: async () => {
      for (const p of predictors) await p.close();
    },
  };
}
