import type { Conv3dAttrs } from './ops.js';
import type { Tensor } from './tensor.js';
import type { Vec3 } from '../util/vec3.js';

/** Hyper-parameters of one SGD step (PyTorch torch.optim.SGD semantics). */
export interface SgdStep {
  readonly lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
}

/**
 * The kernels a backend provides. Inputs are validated by the engine (src/engine/shapes.ts) before a
 * kernel is called, so kernels may assume consistent shapes. Kernels never mutate their inputs, except
 * the SGD update, which updates its parameter and momentum buffer in place (documented there).
 *
 * Forward kernels: used by the eager engine. Backward kernels: used by the autograd tape (training);
 * each returns gradients w.r.t. the forward inputs given the gradient `dy` of the forward output.
 */
export interface Backend {
  readonly name: string;

  // ---- forward ----
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

  // ---- backward (training issue; optional until a backend implements them) ----
  /** dL/dx of conv3d: the transposed convolution of dy (N, Co, …) with weight, to xShape (N, Ci, D, H, W). */
  conv3dBackwardData?(dy: Tensor, weight: Tensor, attrs: Conv3dAttrs, xShape: readonly number[]): Tensor;
  /** dL/dweight (Co, Ci, kD, kH, kW) and dL/dbias (Co) = Σ dy over N and space. */
  conv3dBackwardWeight?(
    x: Tensor,
    dy: Tensor,
    attrs: Conv3dAttrs,
    weightShape: readonly number[],
  ): { dWeight: Tensor; dBias: Tensor };
  /** Gradients of instance norm (affine) w.r.t. x, weight, bias; statistics recomputed from x. */
  instanceNormBackward?(
    x: Tensor,
    weight: Tensor,
    dy: Tensor,
    eps: number,
  ): { dx: Tensor; dWeight: Tensor; dBias: Tensor };
  /** dL/dx of leaky ReLU given its input x (slope where x < 0, as torch: x > 0 → 1). */
  leakyReluBackward?(x: Tensor, dy: Tensor, negativeSlope: number): Tensor;
  /** Adjoint of nearest upsampling: each input voxel receives the sum of dy over its scale block. */
  upsampleNearestBackward?(dy: Tensor, scale: Vec3, xShape: readonly number[]): Tensor;
  /** A contiguous range [start, start + size) along `axis` (concat's backward). */
  slice?(x: Tensor, axis: number, start: number, size: number): Tensor;
  /**
   * In place: one torch.optim.SGD step for one parameter. With weight decay wd and momentum μ:
   * g ← grad + wd·p; buf ← μ·buf + g (buf = g on the first step, signalled by `firstStep`);
   * d ← nesterov ? g + μ·buf : buf; p ← p − lr·d.
   */
  sgdUpdate?(param: Tensor, grad: Tensor, momentumBuffer: Tensor, step: SgdStep, firstStep: boolean): void;
}
