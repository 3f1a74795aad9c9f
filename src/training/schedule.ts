/** nnunet/training/learning_rate/poly_lr.py: lr0 · (1 − epoch/maxEpochs)^exponent. */
import { fail } from '../util/errors.js';

export function polyLr(epoch: number, maxEpochs: number, initialLr: number, exponent = 0.9): number {
  if (!(maxEpochs > 0) || epoch < 0 || epoch > maxEpochs)
    fail('BAD_INPUT', `poly LR: epoch ${epoch} must lie in [0, ${maxEpochs}] with maxEpochs > 0`);
  return initialLr * (1 - epoch / maxEpochs) ** exponent;
}

/**
 * nnUNetTrainerV2.maybe_update_lr, called at the end of each epoch before the counter advances: the lr of
 * the NEXT epoch, i.e. polyLr(epoch + 1, …). At the start of training the trainer uses polyLr(0) = lr0.
 */
export function lrAfterEpoch(finishedEpoch: number, maxEpochs: number, initialLr: number): number {
  return polyLr(finishedEpoch + 1, maxEpochs, initialLr);
}
