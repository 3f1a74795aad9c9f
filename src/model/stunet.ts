/**
 * STU-Net, defined once (ports nnU-Net v1.7.1 fork STUNet.py of uni-medical/STU-Net). A small module tree
 * mirrors the official nn.Module tree, so parameter names are the official state_dict keys and
 * `parameterSpecs()` lists them in the official registration order. `forward` is generic over the op API:
 * the eager engine runs it, the ONNX tracer records it, the counter measures it.
 */
import type { Ops, ParamSource } from '../engine/ops.js';
import { type StunetArchitecture, validateArchitecture } from './architecture.js';
import { map3, type Vec3 } from '../util/vec3.js';

export interface ParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
}

const LEAKY_SLOPE = 0.01; // nn.LeakyReLU default
const NORM_EPS = 1e-5; // nn.InstanceNorm3d default
const ONES: Vec3 = [1, 1, 1];
const ZEROS: Vec3 = [0, 0, 0];

class Conv3d {
  constructor(
    readonly name: string,
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernel: Vec3,
    readonly stride: Vec3,
    readonly padding: Vec3,
  ) {}
  specs(): ParamSpec[] {
    return [
      { name: `${this.name}.weight`, shape: [this.outChannels, this.inChannels, ...this.kernel] },
      { name: `${this.name}.bias`, shape: [this.outChannels] },
    ];
  }
  forward<T>(ops: Ops<T>, p: ParamSource<T>, x: T): T {
    const [w, b] = this.specs() as [ParamSpec, ParamSpec];
    return ops.conv3d(x, p.param(w.name, w.shape), p.param(b.name, b.shape), {
      stride: this.stride,
      padding: this.padding,
    });
  }
}

class InstanceNorm3d {
  constructor(
    readonly name: string,
    readonly channels: number,
  ) {}
  specs(): ParamSpec[] {
    return [
      { name: `${this.name}.weight`, shape: [this.channels] },
      { name: `${this.name}.bias`, shape: [this.channels] },
    ];
  }
  forward<T>(ops: Ops<T>, p: ParamSource<T>, x: T): T {
    const [w, b] = this.specs() as [ParamSpec, ParamSpec];
    return ops.instanceNorm(x, p.param(w.name, w.shape), p.param(b.name, b.shape), NORM_EPS);
  }
}

/** conv→IN→LReLU→conv→IN, + shortcut (1×1×1 projection `conv3` when channels or stride change), LReLU. */
class BasicResBlock {
  readonly conv1: Conv3d;
  readonly norm1: InstanceNorm3d;
  readonly conv2: Conv3d;
  readonly norm2: InstanceNorm3d;
  readonly conv3: Conv3d | null;
  constructor(name: string, cin: number, cout: number, kernel: Vec3, stride: Vec3, projection: boolean) {
    const pad = map3(kernel, (k) => Math.floor(k / 2));
    this.conv1 = new Conv3d(`${name}.conv1`, cin, cout, kernel, stride, pad);
    this.norm1 = new InstanceNorm3d(`${name}.norm1`, cout);
    this.conv2 = new Conv3d(`${name}.conv2`, cout, cout, kernel, ONES, pad);
    this.norm2 = new InstanceNorm3d(`${name}.norm2`, cout);
    this.conv3 = projection ? new Conv3d(`${name}.conv3`, cin, cout, ONES, stride, ZEROS) : null;
  }
  specs(): ParamSpec[] {
    return [this.conv1, this.norm1, this.conv2, this.norm2, ...(this.conv3 ? [this.conv3] : [])].flatMap(
      (m) => m.specs(),
    );
  }
  forward<T>(ops: Ops<T>, p: ParamSource<T>, x: T): T {
    let y = ops.leakyRelu(this.norm1.forward(ops, p, this.conv1.forward(ops, p, x)), LEAKY_SLOPE);
    y = this.norm2.forward(ops, p, this.conv2.forward(ops, p, y));
    const shortcut = this.conv3 ? this.conv3.forward(ops, p, x) : x;
    return ops.leakyRelu(ops.add(y, shortcut), LEAKY_SLOPE);
  }
}

/** Upsample_Layer_nearest: weight-free nearest upsampling by the pool factor, then a 1×1×1 conv. */
class UpsampleLayer {
  readonly conv: Conv3d;
  constructor(
    name: string,
    cin: number,
    cout: number,
    readonly scale: Vec3,
  ) {
    this.conv = new Conv3d(`${name}.conv`, cin, cout, ONES, ONES, ZEROS);
  }
  specs(): ParamSpec[] {
    return this.conv.specs();
  }
  forward<T>(ops: Ops<T>, p: ParamSource<T>, x: T): T {
    return this.conv.forward(ops, p, ops.upsampleNearest(x, this.scale));
  }
}

type Stage = readonly BasicResBlock[];

function stage(name: string, cin: number, cout: number, depth: number, kernel: Vec3, stride: Vec3): Stage {
  const blocks = [new BasicResBlock(`${name}.0`, cin, cout, kernel, stride, true)];
  for (let i = 1; i < depth; i++)
    blocks.push(new BasicResBlock(`${name}.${i}`, cout, cout, kernel, ONES, false));
  return blocks;
}

function runStage<T>(s: Stage, ops: Ops<T>, p: ParamSource<T>, x: T): T {
  return s.reduce((h, block) => block.forward(ops, p, h), x);
}

export interface ForwardOptions {
  /** true: all heads, full resolution first (official training output); false: full resolution only. */
  readonly deepSupervision: boolean;
}

export class StuNet {
  readonly arch: StunetArchitecture;
  readonly context: Stage[] = [];
  readonly upsampleLayers: UpsampleLayer[] = [];
  readonly localization: Stage[] = [];
  readonly segOutputs: Conv3d[] = [];

  constructor(arch: StunetArchitecture) {
    validateArchitecture(arch);
    this.arch = arch;
    const { dims, depth, poolOpKernelSizes: pools, convKernelSizes: kernels } = arch;
    const numPool = pools.length;
    const at = <V>(xs: readonly V[], i: number): V => xs[i < 0 ? xs.length + i : i] as V;
    this.context.push(
      stage('conv_blocks_context.0', arch.inputChannels, at(dims, 0), at(depth, 0), at(kernels, 0), ONES),
    );
    for (let d = 1; d <= numPool; d++) {
      this.context.push(
        stage(
          `conv_blocks_context.${d}`,
          at(dims, d - 1),
          at(dims, d),
          at(depth, d),
          at(kernels, d),
          at(pools, d - 1),
        ),
      );
    }
    for (let u = 0; u < numPool; u++) {
      this.upsampleLayers.push(
        new UpsampleLayer(`upsample_layers.${u}`, at(dims, -1 - u), at(dims, -2 - u), at(pools, -1 - u)),
      );
    }
    for (let u = 0; u < numPool; u++) {
      const c = at(dims, -2 - u);
      this.localization.push(
        stage(`conv_blocks_localization.${u}`, 2 * c, c, at(depth, -2 - u), at(kernels, -2 - u), ONES),
      );
    }
    for (let u = 0; u < numPool; u++) {
      this.segOutputs.push(
        new Conv3d(`seg_outputs.${u}`, at(dims, -2 - u), arch.numClasses, ONES, ONES, ZEROS),
      );
    }
  }

  /** Official state_dict keys and shapes, in the official order. */
  parameterSpecs(): ParamSpec[] {
    return [
      ...this.context.flat().flatMap((b) => b.specs()),
      ...this.upsampleLayers.flatMap((l) => l.specs()),
      ...this.localization.flat().flatMap((b) => b.specs()),
      ...this.segOutputs.flatMap((c) => c.specs()),
    ];
  }

  parameterCount(): number {
    return this.parameterSpecs().reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
  }

  /** x (N, inputChannels, D, H, W) → logits; see ForwardOptions for the order. */
  forward<T>(ops: Ops<T>, p: ParamSource<T>, input: T, options: ForwardOptions): T[] {
    const skips: T[] = [];
    let x = input;
    for (let d = 0; d < this.context.length - 1; d++) {
      x = runStage(this.context[d] as Stage, ops, p, x);
      skips.push(x);
    }
    x = runStage(this.context[this.context.length - 1] as Stage, ops, p, x);
    const outputs: T[] = [];
    for (let u = 0; u < this.localization.length; u++) {
      x = (this.upsampleLayers[u] as UpsampleLayer).forward(ops, p, x);
      x = ops.concat([x, skips[skips.length - 1 - u] as T], 1); // upsampled first, skip second
      x = runStage(this.localization[u] as Stage, ops, p, x);
      // Heads only run when their output is returned (the official code computes all, returns the last).
      if (options.deepSupervision || u === this.localization.length - 1) {
        outputs.push((this.segOutputs[u] as Conv3d).forward(ops, p, x));
      }
    }
    // Official return order: full resolution (last decoder stage) first, then coarser ones.
    return outputs.reverse();
  }
}
