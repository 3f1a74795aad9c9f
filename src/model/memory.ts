/**
 * Peak memory of one training step, computed up front from the architecture and the batch shape alone.
 * The network is run on shapes (no data), recording the same tape the engine records, and the step is
 * replayed under the engine's memory policy (src/engine/autograd.ts):
 *   - parameters and momentum buffers are resident (4 bytes per parameter each);
 *   - the tape keeps every op's output until backward pops that op, so after the forward pass all
 *     activations are alive (for STU-Net almost all are needed by backward anyway);
 *   - the loss adds one gradient per supervised head plus float64 scratch (log-sum-exp per voxel);
 *   - backward frees an op's output gradient and its activations once the op is processed; parameter
 *     gradients stay until the optimizer step.
 * The result is the largest sum of live bytes over that replay, plus the largest kernel scratch.
 */
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
import { deepSupervisionWeights } from './deep-supervision.js';
import type { Vec3 } from '../util/vec3.js';

export interface Sym {
  readonly id: number;
  readonly shape: readonly number[];
  readonly bytes: number;
}
interface SymEntry {
  readonly op: string;
  readonly inputs: readonly Sym[];
  readonly output: Sym;
}

export class ShapeTape implements Ops<Sym>, ParamSource<Sym> {
  readonly entries: SymEntry[] = [];
  readonly params = new Map<string, Sym>();
  private next = 0;
  sym(shape: readonly number[]): Sym {
    return { id: this.next++, shape, bytes: 4 * shape.reduce((a, b) => a * b, 1) };
  }
  private rec(op: string, inputs: readonly Sym[], shape: readonly number[]): Sym {
    const output = this.sym(shape);
    this.entries.push({ op, inputs, output });
    return output;
  }
  param(name: string, shape: readonly number[]): Sym {
    const p = this.params.get(name) ?? this.sym(shape);
    this.params.set(name, p);
    return p;
  }
  shapeOf(x: Sym): readonly number[] {
    return x.shape;
  }
  conv3d(x: Sym, w: Sym, b: Sym | null, attrs: Conv3dAttrs): Sym {
    const shape = conv3dOutputShape(x.shape, w.shape, b?.shape ?? null, attrs);
    return this.rec('conv3d', b === null ? [x, w] : [x, w, b], shape);
  }
  instanceNorm(x: Sym, w: Sym, b: Sym): Sym {
    return this.rec('instanceNorm', [x, w, b], instanceNormShape(x.shape, w.shape, b.shape));
  }
  leakyRelu(x: Sym): Sym {
    return this.rec('leakyRelu', [x], x.shape);
  }
  add(a: Sym, b: Sym): Sym {
    return this.rec('add', [a, b], addShape(a.shape, b.shape));
  }
  concat(xs: readonly Sym[], axis: number): Sym {
    return this.rec(
      'concat',
      xs,
      concatShape(
        xs.map((x) => x.shape),
        axis,
      ),
    );
  }
  upsampleNearest(x: Sym, scale: Vec3): Sym {
    return this.rec('upsampleNearest', [x], upsampleNearestShape(x.shape, scale));
  }
}

export interface TrainingMemoryEstimate {
  readonly parameterBytes: number;
  /** Momentum buffers (one per parameter). */
  readonly optimizerBytes: number;
  /** Every op output of the forward pass, alive when backward starts. */
  readonly activationBytes: number;
  /** Most gradient bytes alive at once in backward (parameter grads included); autograd's peakGradBytes. */
  readonly backwardPeakGradBytes: number;
  /** The whole step's peak. */
  readonly peakBytes: number;
}

/** Peak bytes of one trainStep for `arch` on an input of shape (N, C, D, H, W). */
export function estimateTrainingMemory(
  arch: StunetArchitecture,
  inputShape: readonly number[],
): TrainingMemoryEstimate {
  const net = new StuNet(arch);
  const t = new ShapeTape();
  const x = t.sym(inputShape);
  const outputs = net.forward(t, t, x, { deepSupervision: true });
  const parameterBytes = 4 * net.parameterCount();
  const activationBytes = t.entries.reduce((s, e) => s + e.output.bytes, 0);
  const base = 2 * parameterBytes + x.bytes;
  // Activations are freed when the last tape entry that references them is popped.
  const refs = new Map<Sym, number>();
  for (const e of t.entries) for (const s of [...e.inputs, e.output]) refs.set(s, (refs.get(s) ?? 0) + 1);
  let acts = activationBytes;
  let peak = base + acts;
  let scratch = 0;
  // Gradient tensors, mirrored from autograd: one object per allocation, shared by reference (add's dy).
  interface Grad {
    readonly bytes: number;
  }
  const grads = new Map<Sym, Grad>();
  const gradRefs = new Map<Grad, number>();
  let live = 0;
  let peakGrads = 0;
  const hold = (g: Grad): void => {
    const n = gradRefs.get(g) ?? 0;
    gradRefs.set(g, n + 1);
    if (n > 0) return;
    live += g.bytes;
    peakGrads = Math.max(peakGrads, live);
    peak = Math.max(peak, base + acts + live);
  };
  const release = (g: Grad): void => {
    const n = (gradRefs.get(g) ?? 1) - 1;
    gradRefs.set(g, n);
    if (n === 0) live -= g.bytes;
  };
  const leaves = new Set(t.params.values());
  const needs = new Set<Sym>(leaves);
  for (const e of t.entries) if (e.inputs.some((s) => needs.has(s))) needs.add(e.output);
  const accumulate = (s: Sym, g: Grad = { bytes: s.bytes }): void => {
    if (!needs.has(s)) return;
    const prev = grads.get(s);
    hold(g);
    if (prev === undefined) {
      grads.set(s, g);
      return;
    }
    const sum = { bytes: s.bytes };
    hold(sum);
    grads.set(s, sum);
    release(prev);
    release(g);
  };
  // Loss: one gradient per supervised head; log-sum-exp scratch (float64 per voxel) of one head at a time.
  const weights = deepSupervisionWeights(outputs.length);
  outputs.forEach((o, i) => {
    if (i > 0 && weights[i] === 0) return;
    scratch = Math.max(scratch, (2 * o.bytes) / (o.shape[1] ?? 1));
    accumulate(o);
  });
  for (let e = t.entries.pop(); e !== undefined; e = t.entries.pop()) {
    const dy = grads.get(e.output);
    if (dy !== undefined) {
      if (e.op === 'add') for (const s of e.inputs) accumulate(s, dy);
      else for (const s of e.inputs) accumulate(s);
      // Float64 plane accumulators of the ref conv / upsample kernels.
      const plane = (s: Sym | undefined): number =>
        s === undefined ? 0 : (2 * s.bytes) / ((s.shape[0] ?? 1) * (s.shape[1] ?? 1));
      scratch = Math.max(scratch, plane(e.inputs[0]), plane(e.output));
      if (!leaves.has(e.output)) {
        grads.delete(e.output);
        release(dy);
      }
    }
    for (const s of [...e.inputs, e.output]) {
      const n = (refs.get(s) ?? 1) - 1;
      refs.set(s, n);
      if (n === 0 && !leaves.has(s) && s !== x) acts -= s.bytes;
    }
  }
  return {
    parameterBytes,
    optimizerBytes: parameterBytes,
    activationBytes,
    backwardPeakGradBytes: peakGrads,
    peakBytes: peak + scratch,
  };
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(u === 0 ? 0 : 2)} ${units[u] as string}`;
}
