/**
 * nnU-Net v1 training loss (ports nnunet/training/loss_functions: DC_and_CE_loss with SoftDiceLoss and
 * RobustCrossEntropyLoss, and MultipleOutputLoss2), forward and gradient w.r.t. the logits in one fused
 * pass, float64 throughout. Softmax is over the channel axis of logits (N, C, D, H, W).
 *
 * Soft Dice per group k (a sample, or the whole batch with batch_dice) and class c:
 *   tp = Σ p·y, fp = Σ p·(1−y), fn = Σ (1−p)·y, dc = (2tp + s) / (2tp + fp + fn + s + 1e-8),
 * so the denominator is Σp + Σy + s + 1e-8 and ∂dc/∂p = (2y·den − num)/den². The Dice term is −mean(dc)
 * over groups × foreground classes (background dropped); CE is the mean over all voxels. Both sum 1:1.
 */
import { fail } from '../util/errors.js';
import { Tensor, formatShape } from '../engine/tensor.js';
import type { LabelMap } from '../augmentation/deep-supervision.js';

export interface DiceCeOptions {
  /** Sum tp/fp/fn over the batch too (nnU-Net plans' batch_dice). */
  readonly batchDice: boolean;
  /** Default 1e-5 (nnUNetTrainerV2). */
  readonly smooth?: number;
}

export interface DiceCeResult {
  /** ce + dice. */
  readonly loss: number;
  /** −mean(dc), in [−1, 0]. */
  readonly dice: number;
  readonly ce: number;
  /** d(weight·loss)/d(logits), float32, shape of the logits. */
  readonly grad: Tensor;
}

function checkTarget(logits: Tensor, target: LabelMap): void {
  const [n, , ...spatial] = logits.shape;
  const ok =
    logits.shape.length === 5 &&
    target.shape.length === 5 &&
    target.shape[0] === n &&
    target.shape[1] === 1 &&
    spatial.every((d, a) => target.shape[2 + a] === d);
  if (!ok)
    fail(
      'SHAPE_MISMATCH',
      `loss: target ${formatShape(target.shape)} must be (N, 1, D, H, W) matching logits ${formatShape(logits.shape)}`,
    );
}

/** DC_and_CE_loss({batch_dice, smooth, do_bg: False}, {}) of one output, scaled by `weight`. */
export function diceCeLoss(logits: Tensor, target: LabelMap, opts: DiceCeOptions, weight = 1): DiceCeResult {
  checkTarget(logits, target);
  const [N, C] = logits.shape as [number, number];
  const S = logits.size / (N * C);
  const smooth = opts.smooth ?? 1e-5;
  const groups = opts.batchDice ? 1 : N;
  const z = logits.data;
  // Pass 1: per-voxel log-sum-exp, per (group, class) Σp, Σy, tp, and the CE sum.
  const lse = new Float64Array(N * S);
  const sumP = new Float64Array(groups * C);
  const sumY = new Float64Array(groups * C);
  const tp = new Float64Array(groups * C);
  let ceSum = 0;
  for (let n = 0; n < N; n++) {
    const g = opts.batchDice ? 0 : n;
    for (let i = 0; i < S; i++) {
      const y = target.data[n * S + i] as number;
      if (!Number.isInteger(y) || y < 0 || y >= C)
        fail('BAD_INPUT', `loss: target label ${y} at sample ${n}, voxel ${i} is not a class in [0, ${C})`);
      let max = -Infinity;
      for (let c = 0; c < C; c++) max = Math.max(max, z[(n * C + c) * S + i] as number);
      let sum = 0;
      for (let c = 0; c < C; c++) sum += Math.exp((z[(n * C + c) * S + i] as number) - max);
      const l = max + Math.log(sum);
      lse[n * S + i] = l;
      ceSum += l - (z[(n * C + y) * S + i] as number);
      for (let c = 0; c < C; c++) {
        const p = Math.exp((z[(n * C + c) * S + i] as number) - l);
        sumP[g * C + c] = (sumP[g * C + c] as number) + p;
        if (c === y) tp[g * C + c] = (tp[g * C + c] as number) + p;
      }
      sumY[g * C + y] = (sumY[g * C + y] as number) + 1;
    }
  }
  // Dice per (group, foreground class) and ∂(−mean dc)/∂p split as a·y + b.
  const terms = groups * (C - 1);
  let dcSum = 0;
  const dA = new Float64Array(groups * C); // coefficient of y
  const dB = new Float64Array(groups * C); // constant
  for (let g = 0; g < groups; g++) {
    for (let c = 1; c < C; c++) {
      const k = g * C + c;
      const [tpk, p, y] = [tp[k], sumP[k], sumY[k]];
      if (tpk === undefined || p === undefined || y === undefined)
        fail('RUNTIME', `loss: no sums for group ${g}, class ${c}`);
      const num = 2 * tpk + smooth;
      const den = p + y + smooth + 1e-8;
      dcSum += num / den;
      dA[k] = (-2 / den / terms) * weight;
      dB[k] = (num / (den * den) / terms) * weight;
    }
  }
  const count = N * S;
  // Pass 2: dL/dz_c = p_c (g_c − Σ_j p_j g_j) + (p_c − y_c)/count, all times `weight`.
  const grad = new Tensor(logits.shape);
  const p = new Float64Array(C);
  const gp = new Float64Array(C);
  for (let n = 0; n < N; n++) {
    const g = opts.batchDice ? 0 : n;
    for (let i = 0; i < S; i++) {
      const y = target.data[n * S + i] as number;
      const l = lse[n * S + i] as number;
      let dot = 0;
      for (let c = 0; c < C; c++) {
        const pc = Math.exp((z[(n * C + c) * S + i] as number) - l);
        const gc = (dB[g * C + c] as number) + (c === y ? (dA[g * C + c] as number) : 0);
        p[c] = pc;
        gp[c] = gc;
        dot += pc * gc;
      }
      for (let c = 0; c < C; c++) {
        const pc = p[c] as number;
        const ce = ((pc - (c === y ? 1 : 0)) / count) * weight;
        grad.data[(n * C + c) * S + i] = pc * ((gp[c] as number) - dot) + ce;
      }
    }
  }
  const dice = C > 1 ? -dcSum / terms : 0;
  const ce = ceSum / count;
  return { loss: ce + dice, dice, ce, grad };
}

export interface DeepSupervisionLoss {
  /** Σ_i w_i · (ce_i + dice_i) over outputs with w_i ≠ 0 (output 0 always counts). */
  readonly loss: number;
  /** Per output; null where the weight is 0 and MultipleOutputLoss2 skips the output. */
  readonly perOutput: (DiceCeResult | null)[];
}

/** MultipleOutputLoss2(DC_and_CE_loss, weights): outputs and targets full resolution first. */
export function multipleOutputLoss(
  outputs: readonly Tensor[],
  targets: readonly LabelMap[],
  weights: readonly number[],
  opts: DiceCeOptions,
): DeepSupervisionLoss {
  if (outputs.length !== targets.length || outputs.length !== weights.length)
    fail(
      'BAD_INPUT',
      `deep-supervision loss: ${outputs.length} outputs, ${targets.length} targets and ${weights.length} weights must agree`,
    );
  let loss = 0;
  const perOutput = outputs.map((x, i) => {
    const [w, target] = [weights[i], targets[i]];
    if (w === undefined || target === undefined)
      fail('BAD_INPUT', `deep-supervision loss: no target or weight for output ${i}`);
    if (i > 0 && w === 0) return null;
    const r = diceCeLoss(x, target, opts, w);
    loss += w * r.loss;
    return r;
  });
  return { loss, perOutput };
}
