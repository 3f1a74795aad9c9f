/**
 * The training loop (nnU-Net v2 nnUNetTrainer.run_training, as a short loop, not a class): for each
 * epoch, lr = poly(epoch) (set at the epoch's start, lr_scheduler.step(current_epoch)); `itersPerEpoch`
 * trainStep calls on batches from the loader; pseudo-Dice on `valBatches` validation batches with its
 * EMA; then the epoch's log line and checkpoint hook. Resuming = calling it again with the saved
 * TrainerState, the saved weights and optimizer, and a loader started at state.batchesConsumed.
 */
import type { TrainingBatch } from '../augmentation/pipeline.js';
import { Tensor } from '../engine/tensor.js';
import { fail, throwIfAborted, yieldToEventLoop } from '../util/errors.js';
import type { ProgressListener } from '../util/progress.js';
import { finiteOrNull, type EpochLog, type TrainerState } from './checkpointing.js';
import type { BatchLoader } from './loader.js';
import { polyLr } from './schedule.js';
import { trainStep, type TrainingState } from './train-step.js';
import { emaDice, pseudoDice } from './validation.js';

export interface TrainerConfig {
  /** nnU-Net: 1000. */
  readonly epochs: number;
  /** nnU-Net: 250. */
  readonly itersPerEpoch: number;
  /** Validation batches per epoch (nnU-Net v2: 50); 0 skips the pseudo-Dice. */
  readonly valBatches: number;
  /** 1e-2 from scratch, 1e-3 fine-tuning. */
  readonly initialLr: number;
}

export const NNUNET_TRAINER_CONFIG: TrainerConfig = {
  epochs: 1000,
  itersPerEpoch: 250,
  valBatches: 50,
  initialLr: 1e-2,
};

export interface TrainerHooks {
  /** Yields training batch state.batchesConsumed, then the next ones. */
  readonly trainLoader: BatchLoader;
  /** Validation batch i of `epoch` (a pure function of both, so a resumed run sees the same ones). */
  readonly valBatch: (epoch: number, index: number) => TrainingBatch;
  /** After each epoch: the new state, and whether the EMA pseudo-Dice improved (→ checkpoint_best). */
  readonly onEpochEnd: (state: TrainerState, improved: boolean) => void | Promise<void>;
  readonly onProgress?: ProgressListener;
  /** Checked between iterations. */
  readonly signal?: AbortSignal;
}

export function checkTrainerConfig(cfg: TrainerConfig): void {
  for (const [k, v] of Object.entries({ epochs: cfg.epochs, itersPerEpoch: cfg.itersPerEpoch }))
    if (!Number.isInteger(v) || v < 1)
      fail('BAD_INPUT', `trainer: ${k} must be a positive integer, got ${v}`);
  if (!Number.isInteger(cfg.valBatches) || cfg.valBatches < 0)
    fail('BAD_INPUT', `trainer: valBatches must be a non-negative integer, got ${cfg.valBatches}`);
  if (!(cfg.initialLr > 0))
    fail('BAD_INPUT', `trainer: the learning rate must be positive, got ${cfg.initialLr}`);
}

/** One epoch: train, validate, log. Returns the state after it. */
async function runEpoch(
  ts: TrainerState,
  training: TrainingState,
  cfg: TrainerConfig,
  hooks: TrainerHooks,
): Promise<{ state: TrainerState; improved: boolean }> {
  const epoch = ts.epoch;
  const t0 = performance.now();
  const lr = polyLr(epoch, cfg.epochs, cfg.initialLr);
  training.optimizer.setLr(lr);
  let lossSum = 0;
  const stage = `epoch ${epoch + 1}/${cfg.epochs}`;
  for (let it = 0; it < cfg.itersPerEpoch; it++) {
    if (hooks.signal !== undefined) await yieldToEventLoop();
    throwIfAborted(hooks.signal, 'training');
    const b = await hooks.trainLoader.next();
    const r = trainStep(training, new Tensor(b.shapeBCZYX, b.data), b.targets);
    lossSum += r.loss;
    hooks.onProgress?.({
      stage,
      done: it + 1,
      total: cfg.itersPerEpoch,
      message: `loss ${r.loss.toFixed(4)}`,
    });
  }
  let perClass: number[] = [];
  let mean = NaN;
  if (cfg.valBatches > 0) {
    const batches = Array.from({ length: cfg.valBatches }, (_, i) => hooks.valBatch(epoch, i));
    ({ perClass, mean } = pseudoDice(training, batches));
  }
  const ema = Number.isNaN(mean) && ts.emaPseudoDice === null ? NaN : emaDice(ts.emaPseudoDice, mean);
  const improved = Number.isFinite(ema) && (ts.bestEmaPseudoDice === null || ema > ts.bestEmaPseudoDice);
  const line: EpochLog = {
    epoch,
    trainLoss: finiteOrNull(lossSum / cfg.itersPerEpoch),
    pseudoDice: perClass.map(finiteOrNull),
    meanPseudoDice: finiteOrNull(mean),
    emaPseudoDice: finiteOrNull(ema),
    lr,
    seconds: (performance.now() - t0) / 1000,
  };
  return {
    state: {
      ...ts,
      epoch: epoch + 1,
      batchesConsumed: ts.batchesConsumed + cfg.itersPerEpoch,
      emaPseudoDice: finiteOrNull(ema),
      bestEmaPseudoDice: improved ? ema : ts.bestEmaPseudoDice,
      log: [...ts.log, line],
    },
    improved,
  };
}

/**
 * Runs the remaining epochs (ts.epoch … cfg.epochs − 1), or stops after epoch `untilEpoch` − 1 (an
 * interrupted run, continued later); returns the state reached.
 */
export async function runTraining(
  training: TrainingState,
  start: TrainerState,
  cfg: TrainerConfig,
  hooks: TrainerHooks,
  untilEpoch = cfg.epochs,
): Promise<TrainerState> {
  checkTrainerConfig(cfg);
  if (start.itersPerEpoch !== cfg.itersPerEpoch)
    fail(
      'BAD_INPUT',
      `cannot continue: the checkpoint ran ${start.itersPerEpoch} iterations per epoch, this run asks for ${cfg.itersPerEpoch}`,
    );
  let ts = start;
  while (ts.epoch < Math.min(cfg.epochs, untilEpoch)) {
    const r = await runEpoch(ts, training, cfg, hooks);
    ts = r.state;
    await hooks.onEpochEnd(ts, r.improved);
  }
  return ts;
}
