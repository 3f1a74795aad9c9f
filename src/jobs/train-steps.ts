/**
 * `stunet train-steps`: N nnU-Net v1 training steps on one fixed batch (the parity entry point of the
 * training engine). Arrays in, weights, optimizer and a loss log out; the host reads and writes files.
 */
import type { Backend } from '../engine/backend.js';
import { formatShape, type Tensor } from '../engine/tensor.js';
import type { LabelMap } from '../augmentation/deep-supervision.js';
import { downsampleSegForDs } from '../augmentation/deep-supervision.js';
import { deepSupervisionScales } from '../model/deep-supervision.js';
import type { LoadedModel } from '../model/loaded-model.js';
import { SgdOptimizer } from '../training/optimizer.js';
import { createTrainingState, trainStep } from '../training/train-step.js';
import { fail } from '../util/errors.js';

export interface TrainStepsOptions {
  readonly steps: number;
  readonly lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
  readonly clip: number;
  readonly batchDice: boolean;
  /** Targets of outputs 1…; default: downsampled from the full-resolution target as nnU-Net does. */
  readonly targetsDs?: readonly LabelMap[];
  /** Bytes the step's activations may take (the engine refuses a step that would not fit). */
  readonly memoryLimitBytes: number;
  readonly onStep?: (entry: TrainStepLog) => void;
}

export interface TrainStepLog {
  readonly step: number;
  readonly loss: number;
  readonly gradNorm: number;
  readonly clipped: boolean;
  readonly seconds: number;
}

export interface TrainStepsResult {
  readonly weights: LoadedModel['weights'];
  readonly optimizer: SgdOptimizer;
  readonly log: TrainStepLog[];
}

export function runTrainSteps(
  model: LoadedModel,
  x: Tensor,
  target: LabelMap,
  backend: Backend,
  o: TrainStepsOptions,
): TrainStepsResult {
  if (x.shape.length !== 5 || x.shape[1] !== model.arch.inputChannels)
    fail(
      'SHAPE_MISMATCH',
      `input ${formatShape(x.shape)} must be (N, ${model.arch.inputChannels}, D, H, W) for this model`,
    );
  const outputs = model.arch.poolOpKernelSizes.length;
  const targets =
    o.targetsDs === undefined
      ? downsampleSegForDs(target, deepSupervisionScales(model.arch.poolOpKernelSizes))
      : [target, ...o.targetsDs];
  if (targets.length !== outputs)
    fail(
      'BAD_INPUT',
      `--target-ds: the model has ${outputs} outputs; give ${outputs - 1} downsampled targets`,
    );
  const optimizer = new SgdOptimizer({
    lr: o.lr,
    momentum: o.momentum,
    weightDecay: o.weightDecay,
    nesterov: true,
  });
  const state = createTrainingState(model.arch, model.weights, backend, optimizer, {
    loss: { batchDice: o.batchDice },
    clipNorm: o.clip,
    memoryLimitBytes: o.memoryLimitBytes,
  });
  const log: TrainStepLog[] = [];
  for (let step = 1; step <= o.steps; step++) {
    const t0 = performance.now();
    const r = trainStep(state, x, targets);
    const entry = {
      step,
      loss: r.loss,
      gradNorm: r.gradNorm,
      clipped: r.clipped,
      seconds: (performance.now() - t0) / 1000,
    };
    log.push(entry);
    o.onStep?.(entry);
  }
  return { weights: state.params, optimizer, log };
}
