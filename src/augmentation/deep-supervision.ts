/**
 * Deep supervision as nnU-Net v1's nnUNetTrainerV2 sets it up: one loss weight and one down-sampled
 * target per network output (full resolution first).
 */
import { fail } from '../util/errors.js';
import { formatShape } from '../engine/tensor.js';
import type { Vec3 } from '../util/vec3.js';
import { roundHalfEven } from '../util/rounding.js';

/** A label map (N, 1, D, H, W) of class indices; nnU-Net carries these as floats, we accept any numbers. */
export interface LabelMap {
  readonly shape: readonly number[];
  readonly data: ArrayLike<number>;
}

/**
 * Order-0 (nearest) resize of a label map to `outSpatial`, as batchgenerators resize_segmentation →
 * skimage resize → scipy zoom(grid_mode=True, mode 'nearest'): output o samples input
 * ⌊(o + ½)·in/out − ½ + ½⌋, clamped. For a factor 2 this picks the odd indices 1, 3, 5, ….
 */
export function resizeLabelsNearest(seg: LabelMap, outSpatial: readonly number[]): LabelMap {
  if (seg.shape.length !== 5 || outSpatial.length !== 3)
    fail('SHAPE_MISMATCH', `label map must be (N, C, D, H, W), got ${formatShape(seg.shape)}`);
  const [N, C, D, H, W] = seg.shape as [number, number, number, number, number];
  const [oD, oH, oW] = outSpatial as [number, number, number];
  const index = (inSize: number, outSize: number): Int32Array => {
    const zoom = inSize / outSize;
    return Int32Array.from({ length: outSize }, (_, o) =>
      Math.min(inSize - 1, Math.max(0, Math.floor((o + 0.5) * zoom - 0.5 + 0.5))),
    );
  };
  const [iz, iy, ix] = [index(D, oD), index(H, oH), index(W, oW)];
  const out = new Float32Array(N * C * oD * oH * oW);
  let k = 0;
  for (let nc = 0; nc < N * C; nc++) {
    for (let z = 0; z < oD; z++) {
      for (let y = 0; y < oH; y++) {
        const row = ((nc * D + (iz[z] as number)) * H + (iy[y] as number)) * W;
        for (let x = 0; x < oW; x++) out[k++] = seg.data[row + (ix[x] as number)] as number;
      }
    }
  }
  return { shape: [N, C, oD, oH, oW], data: out };
}

/** downsample_seg_for_ds_transform2: one target per scale; scale 1 returns the input itself. */
export function downsampleSegForDs(seg: LabelMap, scales: readonly Vec3[]): LabelMap[] {
  return scales.map((s) => {
    if (s.every((v) => v === 1)) return seg;
    const out = s.map((v, a) => {
      const n = seg.shape[2 + a];
      if (n === undefined)
        fail('SHAPE_MISMATCH', `label map must be (N, C, D, H, W), got ${formatShape(seg.shape)}`);
      return roundHalfEven(n * v);
    });
    return resizeLabelsNearest(seg, out);
  });
}

/** A .npy label map (uint8/int/float, as nnU-Net stores them) as a LabelMap; int64 is narrowed. */
export function labelMapFromNpy(a: {
  readonly shape: readonly number[];
  readonly data: ArrayLike<number> | BigInt64Array;
}): LabelMap {
  const data = a.data instanceof BigInt64Array ? Float64Array.from(a.data, Number) : a.data;
  if (a.shape.length !== 5 || a.shape[1] !== 1)
    fail('SHAPE_MISMATCH', `label map must be (N, 1, D, H, W), got ${formatShape(a.shape)}`);
  return { shape: a.shape, data };
}
