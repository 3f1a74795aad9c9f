/**
 * SGD with Nesterov momentum as nnUNetTrainerV2 / STUNetTrainer configure it (torch.optim.SGD, momentum
 * 0.99, nesterov, weight decay 3e-5, dampening 0), and torch.nn.utils.clip_grad_norm_. Parameters are
 * addressed by official state_dict key; the optimizer state maps 1:1 to torch's `optimizer.state_dict()`
 * (see optimizer-state.ts).
 */
import { fail } from '../util/errors.js';
import type { Backend, SgdStep } from '../engine/backend.js';
import { requireTrainingBackend } from '../engine/autograd.js';
import { Tensor, formatShape, sameShape } from '../engine/tensor.js';

export interface SgdOptions {
  readonly lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
}

/** STUNetTrainer.initialize_optimizer_and_scheduler (lr from the trainer: 1e-2, fine-tuning 1e-3). */
export const NNUNET_SGD: SgdOptions = { lr: 1e-2, momentum: 0.99, weightDecay: 3e-5, nesterov: true };

export class SgdOptimizer {
  options: SgdOptions;
  /** Momentum buffer per parameter key; absent until the parameter first receives a gradient (as torch). */
  readonly momentumBuffers = new Map<string, Tensor>();

  constructor(options: SgdOptions = NNUNET_SGD) {
    this.options = options;
  }

  /** Sets the learning rate of the next steps (the poly schedule sets it once per epoch). */
  setLr(lr: number): void {
    this.options = { ...this.options, lr };
  }

  /**
   * One optimizer.step(): updates every parameter that has a gradient, in place; parameters without one
   * (torch: grad None) are skipped entirely — no weight decay, no momentum buffer.
   */
  step(params: ReadonlyMap<string, Tensor>, grads: ReadonlyMap<string, Tensor>, backendIn: Backend): void {
    const backend = requireTrainingBackend(backendIn);
    const step: SgdStep = { ...this.options };
    for (const [name, grad] of grads) {
      const p = params.get(name);
      if (p === undefined) fail('NOT_FOUND', `optimizer: gradient for '${name}', which is not a parameter`);
      if (!sameShape(p.shape, grad.shape))
        fail(
          'SHAPE_MISMATCH',
          `optimizer: '${name}' has shape ${formatShape(p.shape)}, its gradient ${formatShape(grad.shape)}`,
        );
      let buf = this.momentumBuffers.get(name);
      const first = buf === undefined;
      if (buf === undefined) {
        buf = new Tensor(p.shape);
        if (step.momentum !== 0) this.momentumBuffers.set(name, buf);
      }
      backend.sgdUpdate(p, grad, buf, step, first);
    }
  }
}

/**
 * torch.nn.utils.clip_grad_norm_(params, maxNorm) (norm type 2): the total norm over all gradients; when
 * it exceeds maxNorm every gradient is scaled in place by maxNorm / (total + 1e-6). Returns the total
 * norm before clipping.
 */
export function clipGradNorm(grads: Iterable<Tensor>, maxNorm: number): number {
  const list = [...grads];
  let sq = 0;
  for (const g of list) for (let i = 0; i < g.size; i++) sq += (g.data[i] as number) ** 2;
  const total = Math.sqrt(sq);
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1) {
    const c = Math.fround(coef);
    for (const g of list) for (let i = 0; i < g.size; i++) g.data[i] = (g.data[i] as number) * c;
  }
  return total;
}
