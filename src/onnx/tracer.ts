import { fail } from '../util/errors.js';
import type { Conv3dAttrs, Ops, ParamSource } from '../engine/ops.js';
import {
  addShape,
  concatShape,
  conv3dOutputShape,
  instanceNormShape,
  upsampleNearestShape,
} from '../engine/shapes.js';
import { formatShape, sameShape, shapeSize } from '../engine/tensor.js';
import type { AttributeSpec, NodeSpec } from './proto.js';
import type { Vec3 } from '../util/vec3.js';

/**
 * Records a network written against `Ops<T>` as an ONNX graph instead of computing it. Shapes are
 * tracked (and validated by the same shapes.ts rules as the eager engine) for the concrete trace
 * input, but every op emitted is size-generic, so the graph runs at any input size the network accepts.
 */

/** A value in the traced graph: its ONNX name and its shape at the trace input size. */
export interface SymbolicValue {
  readonly name: string;
  readonly shape: readonly number[];
}

/**
 * Supplies a parameter's values by official state_dict key; must throw (a StunetError, ideally
 * NOT_FOUND / SHAPE_MISMATCH) when the key is missing or its shape differs from `shape`.
 */
export type WeightProvider = (name: string, shape: readonly number[]) => Float32Array;

export interface TracedInitializer {
  readonly name: string;
  readonly dims: readonly number[];
  /** float32, C-order. Referenced, not copied: the exporter views it as little-endian bytes. */
  readonly data: Float32Array;
  /**
   * 'constant': made by the tracer (Resize scales). Constants stay inline even with external data: ORT's
   * shape inference must read them at load time and refuses external tensors there.
   */
  readonly kind: 'param' | 'constant';
}

export interface TracedGraph {
  readonly nodes: readonly NodeSpec[];
  /** In first-use order; only those some kept node reads. */
  readonly initializers: readonly TracedInitializer[];
  readonly inputs: readonly SymbolicValue[];
  /** Graph outputs, named as requested in `output()`. */
  readonly outputs: readonly SymbolicValue[];
}

const ints = (name: string, values: readonly number[]): AttributeSpec => ({
  name,
  type: 'INTS',
  ints: values,
});

export class OnnxTracer implements Ops<SymbolicValue> {
  private readonly nodes: NodeSpec[] = [];
  private readonly inits = new Map<
    string,
    { value: SymbolicValue; data: Float32Array; kind: TracedInitializer['kind'] }
  >();
  private readonly inputs: SymbolicValue[] = [];
  private readonly outputs: SymbolicValue[] = [];
  /** Every value this tracer made: catches values leaking in from another trace. */
  private readonly owned = new WeakSet<SymbolicValue>();
  /** Value names in use (inputs, initializers, node outputs): ONNX needs them unique. */
  private readonly names = new Set<string>();
  private counter = 0;

  /** Declares a graph input. */
  input(name: string, shape: readonly number[]): SymbolicValue {
    shapeSize(shape);
    const v = this.claim(name, shape, 'input');
    this.inputs.push(v);
    return v;
  }

  /** A float32 constant; registered once per name (a second call must agree on the shape). */
  initializer(
    name: string,
    shape: readonly number[],
    data: Float32Array,
    kind: TracedInitializer['kind'] = 'param',
  ): SymbolicValue {
    const existing = this.inits.get(name);
    if (existing !== undefined) {
      if (!sameShape(existing.value.shape, shape)) {
        fail(
          'SHAPE_MISMATCH',
          `parameter '${name}' requested as ${formatShape(shape)} but earlier as ${formatShape(existing.value.shape)}`,
        );
      }
      return existing.value;
    }
    if (data.length !== shapeSize(shape)) {
      fail(
        'SHAPE_MISMATCH',
        `parameter '${name}' has ${data.length} values but shape ${formatShape(shape)} needs ${shapeSize(shape)}`,
      );
    }
    const value = this.claim(name, shape, 'initializer');
    this.inits.set(name, { value, data, kind });
    return value;
  }

  /** Marks `x` as graph output `name` through an Identity node, so one value may be several outputs. */
  output(x: SymbolicValue, name: string): SymbolicValue {
    this.own(x);
    const out = this.claim(name, x.shape, 'output');
    this.nodes.push({
      name: `${name}/Identity`,
      opType: 'Identity',
      inputs: [x.name],
      outputs: [name],
      attributes: [],
    });
    this.outputs.push(out);
    return out;
  }

  shapeOf(x: SymbolicValue): readonly number[] {
    return this.own(x).shape;
  }

  conv3d(
    x: SymbolicValue,
    weight: SymbolicValue,
    bias: SymbolicValue | null,
    attrs: Conv3dAttrs,
  ): SymbolicValue {
    const shape = conv3dOutputShape(
      this.own(x).shape,
      this.own(weight).shape,
      bias === null ? null : this.own(bias).shape,
      attrs,
    );
    const p = attrs.padding;
    return this.node('Conv', [x, weight, ...(bias === null ? [] : [bias])], shape, [
      ints('kernel_shape', weight.shape.slice(2)),
      ints('strides', attrs.stride),
      ints('pads', [p[0], p[1], p[2], p[0], p[1], p[2]]), // ONNX: all begins, then all ends
      ints('dilations', [1, 1, 1]),
      { name: 'group', type: 'INT', i: 1 },
    ]);
  }

  instanceNorm(x: SymbolicValue, weight: SymbolicValue, bias: SymbolicValue, eps: number): SymbolicValue {
    const shape = instanceNormShape(this.own(x).shape, this.own(weight).shape, this.own(bias).shape);
    return this.node('InstanceNormalization', [x, weight, bias], shape, [
      { name: 'epsilon', type: 'FLOAT', f: eps },
    ]);
  }

  leakyRelu(x: SymbolicValue, negativeSlope: number): SymbolicValue {
    return this.node('LeakyRelu', [x], this.own(x).shape, [
      { name: 'alpha', type: 'FLOAT', f: negativeSlope },
    ]);
  }

  add(a: SymbolicValue, b: SymbolicValue): SymbolicValue {
    return this.node('Add', [a, b], addShape(this.own(a).shape, this.own(b).shape), []);
  }

  concat(xs: readonly SymbolicValue[], axis: number): SymbolicValue {
    const shape = concatShape(
      xs.map((x) => this.own(x).shape),
      axis,
    );
    return this.node('Concat', xs, shape, [{ name: 'axis', type: 'INT', i: axis }]);
  }

  upsampleNearest(x: SymbolicValue, scale: Vec3): SymbolicValue {
    const shape = upsampleNearestShape(this.own(x).shape, scale);
    if (scale.every((s) => s === 1)) return x;
    // Resize-13 with float scales. 'asymmetric' + 'floor' maps output i to input floor(i / s), which is
    // exactly torch's interpolate(mode='nearest') for integer factors. roi is omitted ('').
    const scalesName = `resize_scales_${scale.join('x')}`;
    const scales = this.initializer(scalesName, [5], Float32Array.from([1, 1, ...scale]), 'constant');
    return this.node('Resize', [x, null, scales], shape, [
      { name: 'mode', type: 'STRING', s: 'nearest' },
      { name: 'coordinate_transformation_mode', type: 'STRING', s: 'asymmetric' },
      { name: 'nearest_mode', type: 'STRING', s: 'floor' },
    ]);
  }

  /** The recorded graph, pruned to what the declared outputs depend on. */
  graph(): TracedGraph {
    if (this.outputs.length === 0) fail('BAD_INPUT', 'the traced model declared no outputs');
    const needed = new Set(this.outputs.map((o) => o.name));
    const kept: NodeSpec[] = [];
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const n = this.nodes[i];
      if (n === undefined || !n.outputs.some((o) => needed.has(o))) continue;
      kept.push(n);
      for (const input of n.inputs) needed.add(input);
    }
    kept.reverse();
    const initializers: TracedInitializer[] = [];
    for (const [name, { value, data, kind }] of this.inits) {
      if (needed.has(name)) initializers.push({ name, dims: value.shape, data, kind });
    }
    return { nodes: kept, initializers, inputs: [...this.inputs], outputs: [...this.outputs] };
  }

  private node(
    opType: string,
    inputs: readonly (SymbolicValue | null)[],
    shape: readonly number[],
    attributes: readonly AttributeSpec[],
  ): SymbolicValue {
    // Name nodes after the parameter they use when there is one (conv_blocks_context.0.0.conv1/Conv):
    // profiles and error messages from ORT then point at the module.
    const param = inputs[1];
    const hint =
      param !== undefined && param !== null && this.inits.has(param.name)
        ? param.name.replace(/\.weight$/, '')
        : '';
    const base = hint === '' ? `${opType}_${this.counter++}` : `${hint}/${opType}`;
    let name = base;
    for (let k = 1; this.names.has(name); k++) name = `${base}_${k}`;
    const out = this.claim(name, shape, 'node');
    this.nodes.push({ name, opType, inputs: inputs.map((i) => i?.name ?? ''), outputs: [name], attributes });
    return out;
  }

  private claim(name: string, shape: readonly number[], kind: string): SymbolicValue {
    if (name === '') fail('BAD_INPUT', `${kind} name must not be empty`);
    if (this.names.has(name)) fail('BAD_INPUT', `${kind} name '${name}' is already used in the traced graph`);
    this.names.add(name);
    const v: SymbolicValue = { name, shape: [...shape] };
    this.owned.add(v);
    return v;
  }

  private own(x: SymbolicValue): SymbolicValue {
    if (!this.owned.has(x))
      fail('BAD_INPUT', `value '${x.name}' does not belong to this trace (mixed tracers or eager tensors?)`);
    return x;
  }
}

/** ParamSource for tracing: each state_dict key becomes one initializer, fetched once from `weights`. */
export class OnnxParams implements ParamSource<SymbolicValue> {
  private readonly tracer: OnnxTracer;
  private readonly weights: WeightProvider;
  private readonly seen = new Map<string, SymbolicValue>();

  constructor(tracer: OnnxTracer, weights: WeightProvider) {
    this.tracer = tracer;
    this.weights = weights;
  }

  param(name: string, shape: readonly number[]): SymbolicValue {
    const known = this.seen.get(name);
    if (known !== undefined) {
      if (!sameShape(known.shape, shape)) {
        fail(
          'SHAPE_MISMATCH',
          `parameter '${name}' requested as ${formatShape(shape)} but earlier as ${formatShape(known.shape)}`,
        );
      }
      return known;
    }
    const data = this.weights(name, shape);
    if (!(data instanceof Float32Array))
      fail('BAD_INPUT', `weight provider returned a non-Float32Array for '${name}'`);
    const v = this.tracer.initializer(name, shape, data);
    this.seen.set(name, v);
    return v;
  }

  /** State_dict keys requested so far, in first-use order. */
  names(): string[] {
    return [...this.seen.keys()];
  }
}
