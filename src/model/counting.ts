import type { Conv3dAttrs, Ops, ParamSource } from '../engine/ops.js';
import {
  addShape,
  concatShape,
  conv3dOutputShape,
  instanceNormShape,
  upsampleNearestShape,
} from '../engine/shapes.js';
import type { StunetArchitecture } from './architecture.js';
import { StuNet } from './stunet.js';
import type { Vec3 } from '../util/vec3.js';

/** A value that is only a shape: running the model on these costs nothing and measures it. */
export interface ShapeValue {
  readonly shape: readonly number[];
}

/**
 * Executor that propagates shapes and counts conv multiply-accumulates: for each conv,
 * output voxels × Cout × Cin × prod(kernel), batch included (the official counting used batch 1).
 * Bias adds, norms, activations, interpolation and concatenation are not counted.
 */
export class CountingOps implements Ops<ShapeValue> {
  convMacs = 0;
  /** Largest single activation produced, in elements (a lower bound on the working set). */
  maxActivationElements = 0;

  private out(shape: readonly number[]): ShapeValue {
    this.maxActivationElements = Math.max(
      this.maxActivationElements,
      shape.reduce((a, b) => a * b, 1),
    );
    return { shape };
  }
  shapeOf(x: ShapeValue): readonly number[] {
    return x.shape;
  }
  conv3d(x: ShapeValue, w: ShapeValue, b: ShapeValue | null, attrs: Conv3dAttrs): ShapeValue {
    const shape = conv3dOutputShape(x.shape, w.shape, b?.shape ?? null, attrs);
    const outElements = shape.reduce((a, c) => a * c, 1);
    const perOutput = w.shape.slice(1).reduce((a, c) => a * c, 1); // Cin · kD · kH · kW
    this.convMacs += outElements * perOutput;
    return this.out(shape);
  }
  instanceNorm(x: ShapeValue, w: ShapeValue, b: ShapeValue): ShapeValue {
    return this.out(instanceNormShape(x.shape, w.shape, b.shape));
  }
  leakyRelu(x: ShapeValue): ShapeValue {
    return this.out(x.shape);
  }
  add(a: ShapeValue, b: ShapeValue): ShapeValue {
    return this.out(addShape(a.shape, b.shape));
  }
  concat(xs: readonly ShapeValue[], axis: number): ShapeValue {
    return this.out(
      concatShape(
        xs.map((x) => x.shape),
        axis,
      ),
    );
  }
  upsampleNearest(x: ShapeValue, scale: Vec3): ShapeValue {
    return this.out(upsampleNearestShape(x.shape, scale));
  }
}

const shapeParams: ParamSource<ShapeValue> = { param: (_name, shape) => ({ shape }) };

export interface ModelCounts {
  readonly parameters: number;
  readonly convMacs: number;
  readonly outputShapes: readonly (readonly number[])[];
}

/** Parameters and conv MACs of one forward pass at batch 1 (deep supervision on: every head counts). */
export function countModel(arch: StunetArchitecture, patchZYX: Vec3): ModelCounts {
  const net = new StuNet(arch);
  const ops = new CountingOps();
  const outputs = net.forward(
    ops,
    shapeParams,
    { shape: [1, arch.inputChannels, ...patchZYX] },
    { deepSupervision: true },
  );
  return {
    parameters: net.parameterCount(),
    convMacs: ops.convMacs,
    outputShapes: outputs.map((o) => o.shape),
  };
}
