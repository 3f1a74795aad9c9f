/**
 * `stunet train`'s files in fold_N: checkpoint folders (written by whole-folder swap, see
 * writeCheckpointDir), log.jsonl and progress.png, where a run starts from (checkpoint_latest,
 * pre-trained or fresh weights), and the clean-up of what a killed run left half-written.
 */
import { deriveSeed } from '../augmentation/rng.js';
import type { Tensor } from '../engine/tensor.js';
import type { LoadedModel } from '../model/loaded-model.js';
import { initWeightsHe } from '../model/init.js';
import { StuNet } from '../model/stunet.js';
import {
  CHECKPOINT_NAMES,
  checkpointFiles,
  findCheckpointDir,
  initialTrainerState,
  logLine,
  OPTIMIZER_FILE,
  parseTrainerState,
  TRAINER_STATE_FILE,
  writeCheckpointDir,
  type CheckpointFs,
  type CheckpointName,
  type TrainerState,
} from '../training/checkpointing.js';
import { renderCurve } from '../training/curve.js';
import { transferPretrained } from '../training/finetune.js';
import { NNUNET_SGD, SgdOptimizer } from '../training/optimizer.js';
import { parseSgd } from '../training/optimizer-state.js';
import { fail } from '../util/errors.js';
import { loadModelFromStore } from './model-files.js';
import { readText, type FileStore } from './store.js';
import type { RunSetup, TrainRunOptions } from './train-setup.js';

/** Checkpoint folders are swapped whole (writeCheckpointDir); the store does each step. */
function checkpointFs(store: FileStore): CheckpointFs {
  return {
    exists: (path) => store.exists(path),
    makeDir: (path) => {
      store.makeDir(path);
    },
    remove: (path) => {
      store.remove(path);
    },
    rename: (from, to) => {
      store.rename(from, to);
    },
    write: (path, data) => {
      store.writeAll([{ path, data }]);
    },
  };
}

export const checkpointDir = (store: FileStore, foldDir: string, name: CheckpointName): string =>
  findCheckpointDir(checkpointFs(store), foldDir, name);

export function saveCheckpoint(
  store: FileStore,
  foldDir: string,
  name: CheckpointName,
  model: LoadedModel,
  optimizer: SgdOptimizer,
  state: TrainerState,
): string {
  return writeCheckpointDir(
    checkpointFs(store),
    store.join(foldDir, name),
    checkpointFiles(model, optimizer, state),
  );
}

/** log.jsonl (rewritten from the state, so it always matches checkpoint_latest) and progress.png. */
export function saveEpochOutputs(store: FileStore, foldDir: string, state: TrainerState): void {
  store.writeAll([{ path: store.join(foldDir, 'log.jsonl'), data: state.log.map(logLine).join('') }]);
  store.writeAll([{ path: store.join(foldDir, 'progress.png'), data: renderCurve(state.log) }]);
}

/** Weights, optimizer and trainer state: from checkpoint_latest (--continue), pre-trained, or fresh. */
export function startingPoint(
  store: FileStore,
  o: TrainRunOptions,
  s: RunSetup,
  log: (line: string) => void,
): { weights: Map<string, Tensor>; optimizer: SgdOptimizer; state: TrainerState } {
  if (o.continue === true) {
    const dir = checkpointDir(store, s.foldDir, 'checkpoint_latest');
    const state = parseTrainerState(readText(store, store.join(dir, TRAINER_STATE_FILE)));
    if (state.seed !== o.seed)
      fail('BAD_INPUT', `cannot continue: the run used --seed ${state.seed}, not ${o.seed}`);
    log(`continuing after epoch ${state.epoch}/${s.cfg.epochs} (${dir})`);
    return {
      weights: loadModelFromStore(store, dir).weights,
      optimizer: parseSgd(store.read(store.join(dir, OPTIMIZER_FILE), 'optimizer state')),
      state: { ...state, totalEpochs: s.cfg.epochs },
    };
  }
  let weights: Map<string, Tensor>;
  if (o.pretrained !== undefined) {
    const t = transferPretrained(
      (s.pretrained ?? loadModelFromStore(store, o.pretrained)).weights,
      s.arch,
      deriveSeed(o.seed, 0),
    );
    weights = t.weights;
    log(
      `pre-trained: ${t.loaded.length} tensors loaded, ${t.repeated.length} stem tensors repeated, ` +
        `${t.skipped.length} re-initialised`,
    );
  } else weights = initWeightsHe(new StuNet(s.arch), deriveSeed(o.seed, 0));
  return {
    weights,
    optimizer: new SgdOptimizer({ ...NNUNET_SGD, lr: s.cfg.initialLr }),
    state: initialTrainerState(s.cfg.epochs, s.cfg.itersPerEpoch, o.seed),
  };
}

/**
 * What a killed run can leave in its fold folder, made whole before this run starts: temporary files of
 * atomic writes (`.name.xxxx.tmp`) and `.partial` checkpoint folders are removed; a `.old` checkpoint
 * folder is removed when its complete twin exists, else moved back in place (a kill between the two
 * moves of writeCheckpointDir). Only the fold's own folder is touched: other folds may run alongside.
 */
export function removeLeftovers(store: FileStore, foldDir: string): void {
  const join = (...parts: string[]): string => store.join(...parts);
  for (const dir of [foldDir, join(foldDir, 'validation')]) {
    if (!store.isDirectory(dir)) continue;
    for (const n of store.list(dir)) if (n.startsWith('.') && n.endsWith('.tmp')) store.remove(join(dir, n));
  }
  for (const name of CHECKPOINT_NAMES) {
    const dir = join(foldDir, name);
    store.remove(`${dir}.partial`);
    if (!store.exists(`${dir}.old`)) continue;
    if (store.exists(join(dir, TRAINER_STATE_FILE))) store.remove(`${dir}.old`);
    else if (store.exists(join(`${dir}.old`, TRAINER_STATE_FILE))) {
      store.remove(dir);
      store.rename(`${dir}.old`, dir);
    }
  }
}
