import type { Vec3 } from '../util/vec3.js';
/**
 * The op API the network is written against. One model definition runs on any executor that
 * implements `Ops<T>`: the eager engine (T = Tensor), the ONNX tracer (T = a symbolic value) and the
 * shape/MAC counter (T = a shape). Attributes are plain data so every executor sees the same thing.
 */

export interface Conv3dAttrs {
  /** Per spatial axis (D, H, W). */
  readonly stride: Vec3;
  /** Symmetric zero padding per spatial axis (D, H, W). */
  readonly padding: Vec3;
}

export interface Ops<T> {
  /** Shape of a value, NCDHW for activations. */
  shapeOf(x: T): readonly number[];
  /** x (N, Cin, D, H, W), weight (Cout, Cin, kD, kH, kW), bias (Cout) → (N, Cout, D', H', W'). */
  conv3d(x: T, weight: T, bias: T | null, attrs: Conv3dAttrs): T;
  /** Per-sample, per-channel normalisation over D·H·W (biased variance), then affine; as torch InstanceNorm3d. */
  instanceNorm(x: T, weight: T, bias: T, eps: number): T;
  leakyRelu(x: T, negativeSlope: number): T;
  /** Element-wise a + b, same shapes. */
  add(a: T, b: T): T;
  concat(xs: readonly T[], axis: number): T;
  /** torch.nn.functional.interpolate(mode='nearest') with integer scale factors per spatial axis. */
  upsampleNearest(x: T, scale: Vec3): T;
}

/** Where a module gets its parameters from, by official state_dict key. */
export interface ParamSource<T> {
  param(name: string, shape: readonly number[]): T;
}
