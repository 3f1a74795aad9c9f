/**
 * Mirror test-time augmentation for one patch. Ports nnU-Net v1.7.1
 * `SegmentationNetwork._internal_maybe_mirror_and_pred_3D` and v2 `nnUNetPredictor._internal_maybe_mirror_and_predict`.
 * Mirror axes are spatial: 0 = z (tensor dim 2), 1 = y (dim 3), 2 = x (dim 4).
 */
import { fail, StunetError } from '../util/errors.js';
import { formatShape, Tensor } from '../engine/tensor.js';
import type { ClassHead } from './head.js';

/**
 * The network as the sliding window sees it: (N, C, Z, Y, X) in, outputs with the full-resolution logits
 * first. With `classHead` set, the first output is instead the last decoder feature map
 * (N, classHead.channels, Z, Y, X) and the sliding window applies the head itself, a few planes at a time.
 */
export type NetworkFn = ((patch: Tensor) => Promise<Tensor[]>) & {
  readonly classHead?: ClassHead;
  /**
   * An ensemble (nnU-Net's folds): the sliding window runs every member on each tile and adds each one's
   * TTA-aggregated output with its own weight, so the sums divided by the weights are the members' mean
   * (v1: of softmax, v2: of logits — nnU-Net's averaging). See ensembleNetwork.
   */
  readonly members?: readonly NetworkFn[];
};

/**
 * Several networks of one model family as one ensemble (fold_0…fold_4). Only the sliding window runs it,
 * member by member; calling it directly is an error.
 */
export function ensembleNetwork(members: readonly NetworkFn[]): NetworkFn {
  if (members.length === 0) fail('BAD_INPUT', 'an ensemble needs at least one network');
  if (members.some((m) => m.members !== undefined)) fail('BAD_INPUT', 'an ensemble cannot hold ensembles');
  const run = (): Promise<Tensor[]> =>
    Promise.reject(
      new StunetError('RUNTIME', 'an ensemble runs through the sliding window, member by member'),
    );
  return Object.assign(run, { members: [...members] });
}

/** 'v1': softmax of every pass, each weighted 1/n and summed; 'v2': logits summed, then divided by n. */
export type Aggregation = 'v1' | 'v2';

// v1 loops m = 0…7 and runs pass m only when its axes are all allowed: none, x, y, xy, z, xz, yz, xyz.
const V1_ORDER: readonly (readonly number[])[] = [[], [2], [1], [2, 1], [0], [2, 0], [1, 0], [2, 1, 0]];

function combinations(items: readonly number[], k: number): number[][] {
  if (k === 0) return [[]];
  const out: number[][] = [];
  items.forEach((first, i) => {
    for (const rest of combinations(items.slice(i + 1), k - 1)) out.push([first, ...rest]);
  });
  return out;
}

/**
 * The flips of each TTA pass in the official order. v2 (both copies) runs the identity, then
 * `itertools.combinations(mirror_axes, 1…n)`: for (0, 1, 2) that is none, z, y, x, zy, zx, yx, zyx.
 */
export function mirrorPasses(mirrorAxes: readonly number[], aggregation: Aggregation): number[][] {
  const unique = new Set(mirrorAxes);
  if (unique.size !== mirrorAxes.length || mirrorAxes.some((a) => a !== 0 && a !== 1 && a !== 2))
    fail(
      'BAD_INPUT',
      `mirror axes must be distinct spatial axes among 0, 1, 2; got [${mirrorAxes.join(', ')}]`,
    );
  if (aggregation === 'v1')
    return V1_ORDER.filter((axes) => axes.every((a) => unique.has(a))).map((a) => [...a]);
  const passes: number[][] = [[]];
  for (let k = 1; k <= mirrorAxes.length; k++) passes.push(...combinations(mirrorAxes, k));
  return passes;
}

/** torch.flip over spatial axes of an (N, C, Z, Y, X) tensor. */
export function flipSpatial(t: Tensor, axes: readonly number[]): Tensor {
  if (t.shape.length !== 5)
    fail('SHAPE_MISMATCH', `flipSpatial needs an (N, C, Z, Y, X) tensor, got rank ${t.shape.length}`);
  if (axes.length === 0) return t;
  const [n, c, Z, Y, X] = t.shape as [number, number, number, number, number];
  const [fz, fy, fx] = [axes.includes(0), axes.includes(1), axes.includes(2)];
  const out = new Float32Array(t.size);
  const src = t.data;
  for (let nc = 0; nc < n * c; nc++) {
    const base = nc * Z * Y * X;
    for (let z = 0; z < Z; z++) {
      const sz = fz ? Z - 1 - z : z;
      for (let y = 0; y < Y; y++) {
        const sy = fy ? Y - 1 - y : y;
        const o = base + (z * Y + y) * X;
        const s = base + (sz * Y + sy) * X;
        if (fx) for (let x = 0; x < X; x++) out[o + x] = src[s + X - 1 - x] as number;
        else out.set(src.subarray(s, s + X), o);
      }
    }
  }
  return new Tensor(t.shape, out);
}

/** Softmax over the channel axis of (K, S) values into `out` (float32 results, float64 math). */
export function softmaxChannels(
  logits: Float32Array,
  K: number,
  out: Float32Array = new Float32Array(logits.length),
): Float32Array {
  const S = logits.length / K;
  const e = new Float64Array(K);
  for (let s = 0; s < S; s++) {
    let max = -Infinity;
    for (let k = 0; k < K; k++) max = Math.max(max, logits[k * S + s] as number);
    let sum = 0;
    for (let k = 0; k < K; k++) {
      const v = Math.exp((logits[k * S + s] as number) - max);
      e[k] = v;
      sum += v;
    }
    for (let k = 0; k < K; k++) out[k * S + s] = (e[k] as number) / sum;
  }
  return out;
}

/** Batch element `i` of an (N, …) tensor as a view. */
function item(t: Tensor, i: number): Float32Array {
  const per = t.size / (t.shape[0] ?? fail('SHAPE_MISMATCH', 'a 0-D tensor has no batch axis'));
  return t.data.subarray(i * per, (i + 1) * per);
}

export interface MirrorOptions {
  readonly passes: readonly (readonly number[])[];
  readonly aggregation: Aggregation;
  /** Run all passes as one (n, C, Z, Y, X) batch (the network must accept a dynamic batch). */
  readonly batch: boolean;
  /** Called before every network call (cancellation point). */
  readonly beforeCall?: () => void;
}

/**
 * TTA prediction for one (1, C, Z, Y, X) patch → (K, Z, Y, X) float32: v1 mean of softmaxes, v2 mean of
 * logits, accumulated in float32 in the official order (each pass flipped back before adding).
 */
export async function predictMirrored(
  network: NetworkFn,
  patch: Tensor,
  opts: MirrorOptions,
): Promise<{ values: Float32Array; classes: number }> {
  const [, , Z, Y, X] = patch.shape as [number, number, number, number, number];
  const n = opts.passes.length;
  if (n === 0) fail('BAD_INPUT', 'no TTA passes');
  const state: { acc: Float32Array | null; scratch: Float32Array | null; classes: number } = {
    acc: null,
    scratch: null,
    classes: 0,
  };
  const weight = 1 / n;
  // Passes are folded in one at a time, in order, so running them one by one holds a single output.
  const addPass = (o: Tensor, axes: readonly number[]): void => {
    const back = flipSpatial(o, axes).data;
    state.classes =
      o.shape[1] ?? fail('SHAPE_MISMATCH', `network output ${formatShape(o.shape)} has no class axis`);
    const acc = (state.acc ??= new Float32Array(back.length));
    if (acc.length !== back.length)
      fail('SHAPE_MISMATCH', 'TTA passes returned different numbers of classes');
    if (opts.aggregation === 'v1') {
      const p = softmaxChannels(back, state.classes, (state.scratch ??= new Float32Array(back.length)));
      for (let j = 0; j < acc.length; j++) acc[j] = (acc[j] as number) + weight * (p[j] as number);
    } else {
      for (let j = 0; j < acc.length; j++) acc[j] = (acc[j] as number) + (back[j] as number);
    }
  };
  if (opts.batch && n > 1) {
    const stacked = new Float32Array(patch.size * n);
    opts.passes.forEach((axes, i) => {
      stacked.set(flipSpatial(patch, axes).data, i * patch.size);
    });
    opts.beforeCall?.();
    const out = firstOutput(await network(new Tensor([n, ...patch.shape.slice(1)], stacked)), n, Z, Y, X);
    opts.passes.forEach((axes, i) => {
      addPass(new Tensor([1, ...out.shape.slice(1)], item(out, i)), axes);
    });
  } else {
    for (const axes of opts.passes) {
      opts.beforeCall?.();
      addPass(firstOutput(await network(flipSpatial(patch, axes)), 1, Z, Y, X), axes);
    }
  }
  const values = state.acc ?? fail('RUNTIME', 'no TTA output');
  // v1 adds softmax · (1/n) per pass (exact: n is a power of two); v2 sums the logits, then divides.
  if (opts.aggregation === 'v2')
    for (let j = 0; j < values.length; j++) values[j] = (values[j] as number) / n;
  return { values, classes: state.classes };
}

function firstOutput(outs: readonly Tensor[], n: number, Z: number, Y: number, X: number): Tensor {
  const o = outs[0];
  if (o === undefined) fail('RUNTIME', 'the network returned no output');
  const [on, , oz, oy, ox] = o.shape;
  if (o.shape.length !== 5 || on !== n || oz !== Z || oy !== Y || ox !== X)
    fail(
      'SHAPE_MISMATCH',
      `network output [${o.shape.join(', ')}] does not match the patch (${n}, K, ${Z}, ${Y}, ${X}); ` +
        'run the network without deep supervision (full-resolution output first)',
    );
  return o;
}
