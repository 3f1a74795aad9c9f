/**
 * The feature-network path of the sliding window: one tile through a feature network whose 1×1×1 class
 * head runs here (plane run by plane run) instead of inside the network, so that the (K, pz, py, px) logits
 * of a tile never exist at once. Called by slidingWindowPredict when `network.classHead` is set.
 */
import { fail } from '../util/errors.js';
import type { Tensor } from '../engine/tensor.js';
import type { Vec3 } from '../util/vec3.js';
import { softmaxAccumulate, type ClassHead, type SoftmaxScratch } from './head.js';
import type { SlabAccumulator } from './stitcher.js';
import { flipSpatial, type NetworkFn } from './tta.js';

/** Tile planes per head application: bounds the (K, planes, py, px) logits/probability/sum buffers. */
const HEAD_PLANES = 1;

/**
 * Default ttaFeatureBudgetBytes: 0, passes always streamed. Holding 8 passes at 128³ costs 1 GiB for S
 * (C 16), 2 GiB for B (C 32), 4 GiB for L (C 64); streaming them measured about the same time (S one tile:
 * 56.6 s vs 56.3 s held; B: 137 s vs 129 s; see the README).
 */
export const TTA_FEATURE_BUDGET_BYTES = 0;

/**
 * One tile through a feature network (1×1×1 head commutes with flips, so each pass's feature map is
 * flipped back first), then per run of HEAD_PLANES planes: logits = head(features), v1 softmax per pass
 * averaged (1/n each, pass order) or v2 logits averaged, Gaussian-weighted into the accumulator: the same
 * per-voxel arithmetic as predictMirrored + SlabAccumulator.add on a logit network. With a fused head
 * (`accumulateSoftmax`, v1) the head model updates the accumulator's block of sums directly, either with
 * all passes held together (`streamPasses` false: v1's mean-then-weight order) or one pass at a time as
 * soon as it is computed (sums += (g/P) · softmax_p; only one feature map exists; the Gaussian goes into
 * the weight sums with the first pass, so later passes read the sums the earlier ones wrote).
 */
export async function addTileThroughHead(
  network: NetworkFn,
  head: ClassHead,
  tile: Tensor,
  opts: {
    readonly passes: readonly (readonly number[])[];
    readonly aggregation: 'v1' | 'v2';
    readonly beforeCall: () => void;
  },
  acc: SlabAccumulator,
  weight: Float32Array | null,
  at: Vec3,
  patch: Vec3,
  streamPasses: boolean,
): Promise<void> {
  const [pz, py, px] = patch;
  const C = head.channels;
  const K = head.classes;
  if (K !== acc.classes) fail('SHAPE_MISMATCH', `the class head has ${K} classes, earlier ${acc.classes}`);
  const n = opts.passes.length;
  const planeVoxels = py * px;
  const tileVoxels = pz * planeVoxels;
  const chunkBuffer = (): Float32Array => new Float32Array(C * Math.min(HEAD_PLANES, pz) * planeVoxels);
  const pass = (axes: readonly number[]): Promise<Float32Array> => {
    opts.beforeCall();
    return passFeatures(network, tile, axes, C, patch);
  };
  const fused = opts.aggregation === 'v1' ? head.accumulateSoftmax?.bind(head) : undefined;
  if (fused !== undefined) {
    // sums += headWeight · mean of softmax(head(features)) over `features`, plane run by plane run
    const fusedPlanes = async (
      features: readonly Float32Array[],
      headWeight: Float32Array | null,
      addWeights: boolean,
    ): Promise<void> => {
      const withChunks = features.map((f) => ({ f, into: chunkBuffer() }));
      for (let z = 0; z < pz; z += HEAD_PLANES) {
        const from = z * planeVoxels;
        const nv = Math.min(HEAD_PLANES, pz - z) * planeVoxels;
        const fs = withChunks.map(({ f, into }) => featureChunk(f, C, tileVoxels, from, nv, into));
        const sums = acc.begin(at[0], at[1], at[2], patch, z, z + nv / planeVoxels);
        const g = headWeight === null ? null : headWeight.subarray(from, from + nv);
        acc.commit(await fused(fs, nv, g, sums), weight, addWeights);
      }
    };
    if (!streamPasses || n === 1) {
      const features: Float32Array[] = [];
      for (const axes of opts.passes) features.push(await pass(axes));
      await fusedPlanes(features, weight, true);
      return;
    }
    // g/P per voxel (exact in float32 for P a power of two, as mirror passes are)
    const scaled = new Float32Array(tileVoxels);
    for (let i = 0; i < tileVoxels; i++) scaled[i] = (weight === null ? 1 : (weight[i] as number)) / n;
    for (const [p, axes] of opts.passes.entries()) await fusedPlanes([await pass(axes)], scaled, p === 0);
    return;
  }
  const features: { f: Float32Array; into: Float32Array }[] = [];
  for (const axes of opts.passes) features.push({ f: await pass(axes), into: chunkBuffer() });
  let values: Float32Array | null = null;
  let scratch: SoftmaxScratch | null = null;
  for (let z = 0; z < pz; z += HEAD_PLANES) {
    const dz = Math.min(HEAD_PLANES, pz - z);
    const nv = dz * planeVoxels;
    if (values === null || values.length !== K * nv) values = new Float32Array(K * nv);
    else values.fill(0);
    for (const { f, into } of features) {
      const chunk = featureChunk(f, C, tileVoxels, z * planeVoxels, nv, into);
      const logits = await head.apply(chunk, [dz, py, px]);
      if (opts.aggregation === 'v2') {
        for (let j = 0; j < values.length; j++) values[j] = (values[j] as number) + (logits[j] as number);
        continue;
      }
      scratch = softmaxAccumulate(logits, K, nv, 1 / n, values, scratch);
    }
    if (opts.aggregation === 'v2')
      for (let j = 0; j < values.length; j++) values[j] = (values[j] as number) / n;
    acc.addPlanes(values, weight, at[0], at[1], at[2], patch, z, z + dz);
  }
}

/** The (C, n) chunk of tile planes [z, z + dz) of a (C, pz, py, px) feature map, into `into`. */
function featureChunk(
  f: Float32Array,
  C: number,
  tileVoxels: number,
  from: number,
  n: number,
  into: Float32Array,
): Float32Array {
  const chunk = into.subarray(0, C * n);
  for (let c = 0; c < C; c++) chunk.set(f.subarray(c * tileVoxels + from, c * tileVoxels + from + n), c * n);
  return chunk;
}

/** One pass of a tile through the feature network, flipped back: (C, pz, py, px) features. */
async function passFeatures(
  network: NetworkFn,
  tile: Tensor,
  axes: readonly number[],
  C: number,
  patch: Vec3,
): Promise<Float32Array> {
  const [pz, py, px] = patch;
  const o = (await network(flipSpatial(tile, axes)))[0];
  if (o === undefined) fail('RUNTIME', 'the network returned no output');
  const [on, oc, oz, oy, ox] = o.shape;
  if (o.shape.length !== 5 || on !== 1 || oc !== C || oz !== pz || oy !== py || ox !== px)
    fail(
      'SHAPE_MISMATCH',
      `feature output [${o.shape.join(', ')}] does not match (1, ${C}, ${pz}, ${py}, ${px})`,
    );
  return flipSpatial(o, axes).data;
}
