/**
 * `stunet train`'s files in fold_N: checkpoint folders (written by whole-folder swap, see
 * writeCheckpointDir), log.jsonl and progress.png, where a run starts from (checkpoint_latest,
 * pre-trained or fresh weights), and the clean-up of what a killed run left half-written.
 */
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
  type EpochLog,
  type TrainerState,
} from '../training/checkpointing.js';
import { renderCurve } from '../training/curve.js';
import { transferPretrained } from '../training/finetune.js';
import { NNUNET_SGD, SgdOptimizer } from '../training/optimizer.js';
import { parseSgd } from '../training/optimizer-state.js';
import { fail } from '../util/errors.js';
import { exists, readBytes, readText, writeAtomic } from './fs.js';
import { loadModelFrom } from './model-source.js';
import type { RunSetup, TrainRunOptions } from './train-setup.js';

const nodeFs: CheckpointFs = {
  exists,
  makeDir: (path) => mkdirSync(path, { recursive: true }),
  remove: (path) => {
    rmSync(path, { recursive: true, force: true });
  },
  rename: renameSync,
  write: writeFileSync,
};

export const checkpointDir = (foldDir: string, name: CheckpointName): string =>
  findCheckpointDir(nodeFs, foldDir, name);

export function saveCheckpoint(
  foldDir: string,
  name: CheckpointName,
  model: LoadedModel,
  optimizer: SgdOptimizer,
  state: TrainerState,
): string {
  return writeCheckpointDir(nodeFs, join(foldDir, name), checkpointFiles(model, optimizer, state));
}

/** log.jsonl (rewritten from the state, so it always matches checkpoint_latest) and progress.png. */
export function saveEpochOutputs(foldDir: string, state: TrainerState): void {
  writeAtomic(join(foldDir, 'log.jsonl'), state.log.map(logLine).join(''));
  writeAtomic(join(foldDir, 'progress.png'), renderCurve(state.log));
}

/** Weights, optimizer and trainer state: from checkpoint_latest (--continue), pre-trained, or fresh. */
export function startingPoint(
  o: TrainRunOptions,
  s: RunSetup,
  log: (line: string) => void,
): { weights: Map<string, Tensor>; optimizer: SgdOptimizer; state: TrainerState } {
  if (o.continue === true) {
    const dir = checkpointDir(s.foldDir, 'checkpoint_latest');
    const state = parseTrainerState(readText(join(dir, TRAINER_STATE_FILE)));
    if (state.seed !== o.seed)
      fail('BAD_INPUT', `cannot continue: the run used --seed ${state.seed}, not ${o.seed}`);
    log(`continuing from epoch ${state.epoch} (${dir})`);
    return {
      weights: loadModelFrom(dir).weights,
      optimizer: parseSgd(readBytes(join(dir, OPTIMIZER_FILE), 'optimizer state')),
      state: { ...state, totalEpochs: s.cfg.epochs },
    };
  }
  let weights: Map<string, Tensor>;
  if (o.pretrained !== undefined) {
    const t = transferPretrained(loadModelFrom(o.pretrained).weights, s.arch, deriveSeed(o.seed, 0));
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
export function removeLeftovers(foldDir: string): void {
  for (const dir of [foldDir, join(foldDir, 'validation')]) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names) if (n.startsWith('.') && n.endsWith('.tmp')) rmSync(join(dir, n), { force: true });
  }
  for (const name of CHECKPOINT_NAMES) {
    const dir = join(foldDir, name);
    rmSync(`${dir}.partial`, { recursive: true, force: true });
    if (!exists(`${dir}.old`)) continue;
    if (exists(join(dir, TRAINER_STATE_FILE))) rmSync(`${dir}.old`, { recursive: true, force: true });
    else if (exists(join(`${dir}.old`, TRAINER_STATE_FILE))) {
      rmSync(dir, { recursive: true, force: true });
      renameSync(`${dir}.old`, dir);
    }
  }
}

/** The console line of one epoch. */
export function describeEpoch(e: EpochLog): string {
  const f = (v: number | null): string => (v === null ? 'nan' : v.toFixed(4));
  return (
    `epoch ${e.epoch}: train loss ${f(e.trainLoss)}, pseudo-Dice ${f(e.meanPseudoDice)} ` +
    `(EMA ${f(e.emaPseudoDice)}), lr ${e.lr.toExponential(3)}, ${e.seconds.toFixed(1)} s`
  );
}
