/**
 * Fine-tuning initialisation, after STU-Net's run_finetuning.py `load_pretrained_weights` (read, not
 * copied): start from fresh He weights for the new architecture; the stem's conv1 and conv3 weights
 * (`conv_blocks_context.0.0.conv{1,3}.weight`, (out, in, k, k, k)) are repeated along the input-channel
 * axis when the new dataset has more channels; every other pre-trained tensor of the same key and
 * shape is copied, except the `seg_outputs` heads, which keep their fresh initialisation. Tensors
 * whose shapes differ are skipped, as the official code does, and reported.
 */
import { fail } from '../util/errors.js';
import { Tensor, formatShape, sameShape } from '../engine/tensor.js';
import type { StunetArchitecture } from '../model/architecture.js';
import { initWeightsHe } from '../model/init.js';
import { StuNet } from '../model/stunet.js';

/** The official _ft trainers' initial learning rate. */
export const FINETUNE_LR = 1e-3;

export const STEM_KEYS = [
  'conv_blocks_context.0.0.conv1.weight',
  'conv_blocks_context.0.0.conv3.weight',
] as const;

export interface TransferReport {
  readonly weights: Map<string, Tensor>;
  /** Keys copied from the pre-trained model. */
  readonly loaded: string[];
  /** Stem keys repeated over input channels. */
  readonly repeated: string[];
  /** Keys left at their fresh initialisation (heads and shape mismatches), with the reason. */
  readonly skipped: { key: string; reason: string }[];
}

/** (O, I, …) → (O, I·times, …): torch's w.repeat(1, times, 1, 1, 1). */
export function repeatInputChannels(w: Tensor, times: number): Tensor {
  const [O, I, ...k] = w.shape as [number, number, ...number[]];
  const inner = k.reduce((a, b) => a * b, 1);
  const out = new Tensor([O, I * times, ...k]);
  for (let o = 0; o < O; o++)
    for (let r = 0; r < times; r++)
      out.data.set(w.data.subarray(o * I * inner, (o + 1) * I * inner), (o * I * times + r * I) * inner);
  return out;
}

export function transferPretrained(
  pretrained: ReadonlyMap<string, Tensor>,
  arch: StunetArchitecture,
  seed: number,
): TransferReport {
  const net = new StuNet(arch);
  const weights = initWeightsHe(net, seed);
  const loaded: string[] = [];
  const repeated: string[] = [];
  const skipped: { key: string; reason: string }[] = [];
  for (const spec of net.parameterSpecs()) {
    const key = spec.name;
    if (key.startsWith('seg_outputs')) {
      skipped.push({ key, reason: 'segmentation head (re-initialised)' });
      continue;
    }
    let src = pretrained.get(key);
    if (src === undefined) {
      skipped.push({ key, reason: 'not in the pre-trained model' });
      continue;
    }
    if ((STEM_KEYS as readonly string[]).includes(key) && !sameShape(src.shape, spec.shape)) {
      const [, have] = src.shape;
      const [, want] = spec.shape;
      if (have === undefined || want === undefined)
        fail(
          'SHAPE_MISMATCH',
          `fine-tuning: ${key} has shape ${formatShape(src.shape)}, expected ${formatShape(spec.shape)}`,
        );
      if (want % have !== 0)
        fail(
          'SHAPE_MISMATCH',
          `fine-tuning: ${key} has ${have} input channels; ${want} is not a multiple of it, so the stem cannot be repeated`,
        );
      src = repeatInputChannels(src, want / have);
      repeated.push(key);
    }
    if (!sameShape(src.shape, spec.shape)) {
      skipped.push({
        key,
        reason: `shape ${formatShape(src.shape)} in the pre-trained model, ${formatShape(spec.shape)} here`,
      });
      continue;
    }
    weights.set(key, new Tensor(src.shape, Float32Array.from(src.data)));
    loaded.push(key);
  }
  if (loaded.length === 0)
    fail(
      'BAD_INPUT',
      'fine-tuning: no pre-trained tensor matches this architecture (check --scale, --depth, --dims)',
    );
  return { weights, loaded, repeated, skipped };
}
