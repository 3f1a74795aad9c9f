/**
 * One training iteration with nnU-Net v1 semantics (nnUNetTrainerV2.run_iteration, fp16 off):
 * forward with deep supervision → MultipleOutputLoss2(DC_and_CE) → backward → clip_grad_norm_(12) →
 * SGD step. Before anything runs, the step's peak memory is estimated (memory.ts) and a step that would
 * not fit in `memoryLimitBytes` fails with both numbers.
 */
import { fail } from '../util/errors.js';
import { backward, requireTrainingBackend } from '../engine/autograd.js';
import type { Backend } from '../engine/backend.js';
import { Engine, Tape, TensorParams } from '../engine/engine.js';
import { type Tensor, formatShape } from '../engine/tensor.js';
import { StuNet } from '../model/stunet.js';
import type { StunetArchitecture } from '../model/architecture.js';
import { type LabelMap } from '../augmentation/deep-supervision.js';
import { deepSupervisionWeights } from '../model/deep-supervision.js';
import { type DiceCeOptions, multipleOutputLoss } from './loss.js';
import { estimateTrainingMemory, formatBytes } from '../model/memory.js';
import { SgdOptimizer, clipGradNorm } from './optimizer.js';

export interface TrainerOptions {
  readonly loss: DiceCeOptions;
  /** clip_grad_norm_ max norm (nnU-Net: 12); Infinity disables clipping. */
  readonly clipNorm: number;
  /** Bytes a step may use (params, optimizer state, activations, gradients); undefined: no check. */
  readonly memoryLimitBytes?: number;
}

export interface TrainingState {
  readonly net: StuNet;
  readonly backend: Backend;
  /** Parameters by official key, updated in place by each step. */
  readonly params: Map<string, Tensor>;
  readonly optimizer: SgdOptimizer;
  readonly options: TrainerOptions;
  /** Loss weight per network output (full resolution first). */
  readonly dsWeights: readonly number[];
}

export function createTrainingState(
  arch: StunetArchitecture,
  params: Map<string, Tensor>,
  backend: Backend,
  optimizer: SgdOptimizer,
  options: TrainerOptions,
): TrainingState {
  requireTrainingBackend(backend);
  const net = new StuNet(arch);
  // Fail now on a missing or mis-shaped parameter rather than halfway through a forward pass.
  const source = new TensorParams(params);
  for (const s of net.parameterSpecs()) source.param(s.name, s.shape);
  const dsWeights = deepSupervisionWeights(arch.poolOpKernelSizes.length);
  return { net, backend, params, optimizer, options, dsWeights };
}

export interface StepResult {
  /** The loss of this batch before the update (what run_iteration returns). */
  readonly loss: number;
  /** Total gradient 2-norm before clipping (what clip_grad_norm_ returns). */
  readonly gradNorm: number;
  readonly clipped: boolean;
  /** Parameters that received a gradient (the weight-0 head's do not). */
  readonly updated: number;
}

/** `targets`: one label map per output, full resolution first (downsampleSegForDs). */
export function trainStep(state: TrainingState, input: Tensor, targets: readonly LabelMap[]): StepResult {
  const { net, backend, params, options } = state;
  const arch = net.arch;
  if (input.shape.length !== 5 || input.shape[1] !== arch.inputChannels)
    fail(
      'SHAPE_MISMATCH',
      `training input ${formatShape(input.shape)} must be (N, ${arch.inputChannels}, D, H, W)`,
    );
  if (options.memoryLimitBytes !== undefined) {
    const need = estimateTrainingMemory(arch, input.shape).peakBytes;
    if (need > options.memoryLimitBytes)
      fail(
        'RUNTIME',
        `training step needs ${formatBytes(need)} (${need} bytes) but only ${formatBytes(options.memoryLimitBytes)} ` +
          `(${options.memoryLimitBytes} bytes) are available; use a smaller patch or batch, or a smaller model`,
      );
  }
  const engine = new Engine(backend);
  const tape = new Tape();
  engine.tape = tape;
  const outputs = net.forward(engine, new TensorParams(params), input, { deepSupervision: true });
  engine.tape = null;
  const { loss, perOutput } = multipleOutputLoss(outputs, targets, state.dsWeights, options.loss);
  const seeds: [Tensor, Tensor][] = [];
  perOutput.forEach((r, i) => {
    if (r !== null) seeds.push([outputs[i] as Tensor, r.grad]);
  });
  outputs.length = 0; // let each head's logits go once its backward has run
  const names = [...params.keys()];
  const byTensor = backward(
    tape,
    seeds,
    names.map((n) => params.get(n) as Tensor),
    backend,
  );
  const grads = new Map<string, Tensor>();
  for (const n of names) {
    const g = byTensor.get(params.get(n) as Tensor);
    if (g !== undefined) grads.set(n, g);
  }
  const gradNorm = clipGradNorm(grads.values(), options.clipNorm);
  state.optimizer.step(params, grads, backend);
  return { loss, gradNorm, clipped: gradNorm > options.clipNorm, updated: grads.size };
}
