/**
 * Deep supervision as nnU-Net v1's nnUNetTrainerV2 sets it up: one loss weight and one output scale per
 * network output (full resolution first), derived from the architecture's pooling.
 */
import { fail } from '../util/errors.js';
import { map3, type Vec3 } from '../util/vec3.js';

/**
 * nnUNetTrainerV2.initialize: w_i = 1/2^i, the lowest-resolution output gets 0, normalised to sum 1.
 * 5 outputs → [8/15, 4/15, 2/15, 1/15, 0].
 */
export function deepSupervisionWeights(numOutputs: number): number[] {
  if (!Number.isInteger(numOutputs) || numOutputs < 1)
    fail('BAD_INPUT', `deep supervision needs at least one output, got ${numOutputs}`);
  const w = Array.from({ length: numOutputs }, (_, i) => (i === 0 || i < numOutputs - 1 ? 1 / 2 ** i : 0));
  const sum = w.reduce((a, b) => a + b, 0);
  return w.map((v) => v / sum);
}

/**
 * nnUNetTrainerV2.setup_DA_params: [1, 1, 1] then 1/cumprod(pools) without the last entry, one scale per
 * output (pools [[2,2,2]×4, [1,1,2]] → 1, 1/2, 1/4, 1/8, 1/16 on every axis).
 */
export function deepSupervisionScales(pools: readonly Vec3[]): Vec3[] {
  const scales: Vec3[] = [[1, 1, 1]];
  let prod: Vec3 = [1, 1, 1];
  for (const p of pools.slice(0, -1)) {
    prod = map3(prod, (v, a) => v * p[a]);
    scales.push(map3(prod, (v) => 1 / v));
  }
  return scales;
}
