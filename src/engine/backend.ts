import type { Conv3dAttrs, Vec3 } from './ops.js';
import type { Tensor } from './tensor.js';

/**
 * The kernels a backend provides. Inputs are validated by the engine (src/engine/shapes.ts) before a
 * kernel is called, so kernels may assume consistent shapes. Kernels never mutate their inputs.
 *
 * The backward half (conv3d w.r.t. data/weights, instance-norm, leaky-ReLU, nearest-upsample adjoint, …)
 * is added to this interface by the training issue; the forward kernels keep their signatures.
 */
export interface Backend {
  readonly name: string;
  conv3d(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | null,
    attrs: Conv3dAttrs,
    outShape: readonly number[],
  ): Tensor;
  instanceNorm(x: Tensor, weight: Tensor, bias: Tensor, eps: number): Tensor;
  leakyRelu(x: Tensor, negativeSlope: number): Tensor;
  add(a: Tensor, b: Tensor): Tensor;
  concat(xs: readonly Tensor[], axis: number, outShape: readonly number[]): Tensor;
  upsampleNearest(x: Tensor, scale: Vec3, outShape: readonly number[]): Tensor;
}
