/**
 * Tile placement for sliding-window inference. Ports nnU-Net v1.7.1
 * `SegmentationNetwork._compute_steps_for_sliding_window` (identical to v2's
 * `compute_steps_for_sliding_window`, STU-Net copy and upstream) and the zero padding both predictors apply
 * first (batchgenerators / acvl_utils `pad_nd_image`).
 */
import { fail } from '../util/errors.js';
import type { Vec3 } from '../util/vec3.js';
import { roundHalfEven } from '../util/rounding.js';

/**
 * Start coordinates of the tiles along each axis. The stride is at most patch·stepSize but shrinks so that
 * the last tile ends exactly at the image border: size 110, patch 64, step 0.5 → target stride 32,
 * ⌈46 / 32⌉ + 1 = 3 tiles, actual stride 46 / 2 = 23 → starts 0, 23, 46.
 *
 * As in the official code, an image smaller than the patch is not rejected: an axis gets [0] or even []
 * (size 30, patch 64, step 0.5 → ⌈−34 / 32⌉ + 1 = 0 tiles). Predictors call it on padded sizes only.
 */
export function computeStepsForSlidingWindow(
  patchSize: readonly number[],
  imageSize: readonly number[],
  stepSize: number,
): number[][] {
  if (patchSize.length !== imageSize.length)
    fail(
      'BAD_INPUT',
      `patch size [${patchSize.join(', ')}] and image size [${imageSize.join(', ')}] differ in rank`,
    );
  if (!(stepSize > 0 && stepSize <= 1)) fail('BAD_INPUT', `step size must be in (0, 1], got ${stepSize}`);
  return patchSize.map((patch, d) => {
    const image = imageSize[d] ?? fail('BAD_INPUT', `image size [${imageSize.join(', ')}] has no axis ${d}`);
    if (!Number.isInteger(patch) || patch < 1 || !Number.isInteger(image) || image < 0)
      fail('BAD_INPUT', `invalid patch/image size ${patch}/${image} on axis ${d}`);
    const targetStep = patch * stepSize;
    const numSteps = Math.ceil((image - patch) / targetStep) + 1;
    const maxStart = image - patch;
    const actualStep = numSteps > 1 ? maxStart / (numSteps - 1) : 99999999999;
    const starts: number[] = [];
    for (let i = 0; i < numSteps; i++) starts.push(roundHalfEven(actualStep * i));
    return starts;
  });
}

/** Zero padding to at least the patch size: content centred, an odd remainder goes to the high side. */
export interface Padding {
  /** Padded (Z, Y, X). */
  readonly paddedZYX: Vec3;
  /** Voxels added before the content on each axis; the content is [low, low + size). */
  readonly lowZYX: Vec3;
}

export function padToPatch(imageZYX: Vec3, patchZYX: Vec3): Padding {
  const pad = (d: 0 | 1 | 2): [number, number] => {
    const padded = Math.max(imageZYX[d], patchZYX[d]);
    return [padded, Math.floor((padded - imageZYX[d]) / 2)];
  };
  const [z, y, x] = [pad(0), pad(1), pad(2)];
  return { paddedZYX: [z[0], y[0], x[0]], lowZYX: [z[1], y[1], x[1]] };
}
