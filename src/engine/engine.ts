import type { Backend } from './backend.js';
import type { Conv3dAttrs, Ops, ParamSource } from './ops.js';
import {
  addShape,
  concatShape,
  conv3dOutputShape,
  instanceNormShape,
  upsampleNearestShape,
} from './shapes.js';
import { type Tensor, formatShape, sameShape } from './tensor.js';
import { fail } from '../util/errors.js';
import type { Vec3 } from '../util/vec3.js';

/**
 * One recorded op application, with the inputs and attributes its backward needs. The backward pass
 * (src/engine/autograd.ts) walks these in reverse and drops each entry once consumed.
 */
export type TapeEntry =
  | {
      readonly op: 'conv3d';
      readonly inputs: readonly [Tensor, Tensor, Tensor | null];
      readonly output: Tensor;
      readonly attrs: Conv3dAttrs;
    }
  | {
      readonly op: 'instanceNorm';
      readonly inputs: readonly [Tensor, Tensor, Tensor];
      readonly output: Tensor;
      readonly attrs: { readonly eps: number };
    }
  | {
      readonly op: 'leakyRelu';
      readonly inputs: readonly [Tensor];
      readonly output: Tensor;
      readonly attrs: { readonly negativeSlope: number };
    }
  | { readonly op: 'add'; readonly inputs: readonly [Tensor, Tensor]; readonly output: Tensor }
  | {
      readonly op: 'concat';
      readonly inputs: readonly Tensor[];
      readonly output: Tensor;
      readonly attrs: { readonly axis: number };
    }
  | {
      readonly op: 'upsampleNearest';
      readonly inputs: readonly [Tensor];
      readonly output: Tensor;
      readonly attrs: { readonly scale: Vec3 };
    };

/** Append-only record of the forward pass; attach one to an Engine to make it differentiable. */
export class Tape {
  readonly entries: TapeEntry[] = [];
  record(entry: TapeEntry): void {
    this.entries.push(entry);
  }
}

/**
 * The eager executor: validates with the shared shape rules, runs the backend's kernel, and records the
 * application on a tape when one is attached.
 */
export class Engine implements Ops<Tensor> {
  readonly backend: Backend;
  tape: Tape | null = null;

  constructor(backend: Backend) {
    this.backend = backend;
  }

  shapeOf(x: Tensor): readonly number[] {
    return x.shape;
  }

  conv3d(x: Tensor, weight: Tensor, bias: Tensor | null, attrs: Conv3dAttrs): Tensor {
    const shape = conv3dOutputShape(x.shape, weight.shape, bias?.shape ?? null, attrs);
    const y = this.backend.conv3d(x, weight, bias, attrs, shape);
    this.tape?.record({
      op: 'conv3d',
      inputs: [x, weight, bias],
      output: y,
      attrs: { stride: attrs.stride, padding: attrs.padding },
    });
    return y;
  }

  instanceNorm(x: Tensor, weight: Tensor, bias: Tensor, eps: number): Tensor {
    instanceNormShape(x.shape, weight.shape, bias.shape);
    const y = this.backend.instanceNorm(x, weight, bias, eps);
    this.tape?.record({ op: 'instanceNorm', inputs: [x, weight, bias], output: y, attrs: { eps } });
    return y;
  }

  leakyRelu(x: Tensor, negativeSlope: number): Tensor {
    const y = this.backend.leakyRelu(x, negativeSlope);
    this.tape?.record({ op: 'leakyRelu', inputs: [x], output: y, attrs: { negativeSlope } });
    return y;
  }

  add(a: Tensor, b: Tensor): Tensor {
    addShape(a.shape, b.shape);
    const y = this.backend.add(a, b);
    this.tape?.record({ op: 'add', inputs: [a, b], output: y });
    return y;
  }

  concat(xs: readonly Tensor[], axis: number): Tensor {
    const shape = concatShape(
      xs.map((x) => x.shape),
      axis,
    );
    const y = this.backend.concat(xs, axis, shape);
    this.tape?.record({ op: 'concat', inputs: [...xs], output: y, attrs: { axis } });
    return y;
  }

  upsampleNearest(x: Tensor, scale: Vec3): Tensor {
    const shape = upsampleNearestShape(x.shape, scale);
    const y = this.backend.upsampleNearest(x, scale, shape);
    this.tape?.record({ op: 'upsampleNearest', inputs: [x], output: y, attrs: { scale } });
    return y;
  }
}

/** Parameters by official state_dict key; a missing key or wrong shape names both. */
export class TensorParams implements ParamSource<Tensor> {
  readonly tensors: ReadonlyMap<string, Tensor>;
  constructor(tensors: ReadonlyMap<string, Tensor>) {
    this.tensors = tensors;
  }
  param(name: string, shape: readonly number[]): Tensor {
    const t = this.tensors.get(name);
    if (t === undefined)
      fail('NOT_FOUND', `weights have no entry '${name}' (expected shape ${formatShape(shape)})`);
    if (!sameShape(t.shape, shape)) {
      fail(
        'SHAPE_MISMATCH',
        `'${name}': weights have shape ${formatShape(t.shape)}, architecture needs ${formatShape(shape)}`,
      );
    }
    return t;
  }
}
