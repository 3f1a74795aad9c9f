/** The unit the augmentations work on: one patch of one case. */
import { fail } from '../util/errors.js';
import type { Vec3 } from '../util/vec3.js';

/**
 * One sample. `data` is (C, Z, Y, X) float32, `seg` is (Z, Y, X) int16 with −1 marking voxels outside the
 * nnU-Net crop or past the image border (the loader's padding), removed (→ 0) at the end of the pipeline.
 */
export interface Sample {
  readonly channels: number;
  readonly shapeZYX: Vec3;
  readonly data: Float32Array;
  readonly seg: Int16Array;
}

export function voxelCount(shape: Vec3): number {
  return shape[0] * shape[1] * shape[2];
}

export function checkSample(s: Sample): void {
  const n = voxelCount(s.shapeZYX);
  if (s.data.length !== s.channels * n || s.seg.length !== n)
    fail(
      'SHAPE_MISMATCH',
      `sample (${s.channels}, ${s.shapeZYX.join(', ')}) has ${s.data.length} data and ${s.seg.length} seg values`,
    );
}
