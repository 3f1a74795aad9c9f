/**
 * Sliding-window prediction with Gaussian blending and mirror TTA, stitched slab by slab. Ports nnU-Net
 * v1.7.1 `SegmentationNetwork._internal_predict_3D_3Dconv_tiled` (what the released STU-Net models use)
 * and v2 `nnUNetPredictor.predict_sliding_window_return_logits` (STU-Net 2.2 copy and upstream).
 *
 * Memory bound (K classes, patch (pz, py, px), padded plane Y × X, slab depth s ≤ maxSlabDepth):
 *   (K + 1) · pz · Y · X float32 accumulators
 *   + K · s · Y · X for the slab handed to `onSlab` (s ≤ the z stride, ≈ pz/2 at step 0.5)
 *   + one tile's TTA buffers, ≈ 4 · K · pz · py · px (passes + 3 of them with batchMirrors).
 * With a feature network (`network.classHead`), the tile term is C_f · pz · py · px per pass instead (the
 * head runs on one tile plane at a time; with the fused v1 head, one pass at a time unless
 * ttaFeatureBudgetBytes lets the passes be held) and the accumulators can live in a RingStore (a file, in Node).
 * Never K × the whole volume: tiles go z-major, and once every tile starting at z ≤ s has run, the slices
 * below the next tile start are final and emitted.
 */
import { AbortError, fail, yieldToEventLoop } from '../util/errors.js';
import { Tensor } from '../engine/tensor.js';
import type { Volume } from '../io/volume.js';
import type { ProgressListener } from '../util/progress.js';
import { computeGaussianV2, getGaussianV1 } from './gaussian.js';
import { computeStepsForSlidingWindow, padToPatch, type Padding } from './steps.js';
import { type AccumulationPrecision, type RingStoreFactory, type Slab, SlabAccumulator } from './stitcher.js';
import { addTileThroughHead, TTA_FEATURE_BUDGET_BYTES } from './head-tile.js';
import { mirrorPasses, predictMirrored, type NetworkFn } from './tta.js';
import type { Vec3 } from '../util/vec3.js';

/**
 * 'v1': nnU-Net 1.7.1 (softmax per pass, float32). 'v2-stunet': STU-Net's nnUNet-2.2 copy (logits,
 * Gaussian cast to fp16 before normalising, value_scaling_factor 1000). 'v2-upstream': MIC-DKFZ nnU-Net v2
 * (logits, Gaussian normalised in float64, value_scaling_factor 10).
 */
export type SlidingWindowMode = 'v1' | 'v2-stunet' | 'v2-upstream';

export interface SlidingWindowOptions {
  readonly patchSizeZYX: Vec3;
  readonly mode: SlidingWindowMode;
  /** Tile stride as a fraction of the patch, in (0, 1]; default 0.5. */
  readonly stepSize?: number;
  /** Spatial axes (0 = z, 1 = y, 2 = x) to mirror; default [0, 1, 2] (8 passes); [] disables TTA. */
  readonly mirrorAxes?: readonly number[];
  /** Default true. */
  readonly useGaussian?: boolean;
  /** v2 only; default 'float16' (what the official v2 code does). v1 is always float32. */
  readonly accumulation?: AccumulationPrecision;
  /** Send all mirrored passes of a tile to the network as one batch. Default false. */
  readonly batchMirrors?: boolean;
  /** Split finished z-ranges into slabs of at most this many slices (bounds the slab buffer). */
  readonly maxSlabDepth?: number;
  /** Where the (classes × pz × Y × X) running sums live; default in memory (see RingStore). */
  readonly ringStore?: RingStoreFactory;
  /**
   * Fused v1 head with mirror TTA: the P passes' feature maps of a tile (P · C · pz · py · px float32) are
   * held together when they take at most this many bytes; above it each pass is added to the running sums
   * as soon as it is computed (one feature map held; g/P · softmax per pass, so the float32 sums are added
   * in another order than v1's mean-then-weight: differences of a few ulp). Default TTA_FEATURE_BUDGET_BYTES.
   */
  readonly ttaFeatureBudgetBytes?: number;
  /**
   * Only the tiles that overlap this box of the input (unpadded voxels, [low, high) per axis) run; voxels
   * no tile covers come out 0 in every class. Inside the box every tile that covers a voxel runs, so its
   * values are those of the whole sliding window (the tile grid and Gaussian are the whole image's).
   */
  readonly region?: { readonly lowZYX: Vec3; readonly highZYX: Vec3 };
  readonly signal?: AbortSignal;
  /** Events with stage 'sliding-window' (or `progressStage`), done/total = tiles run. */
  readonly onProgress?: ProgressListener;
  readonly progressStage?: string;
}

export interface SlidingWindowSummary {
  readonly classes: number;
  /** Tiles run (of gridTiles, fewer with a region). */
  readonly tiles: number;
  readonly gridTiles: number;
  /** Tile starts per padded axis (z, y, x). */
  readonly steps: number[][];
  readonly padding: Padding;
}

/** The array the network sees: the (C, Z, Y, X) input as a volume or tensor. */
export interface InputVolume {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

export { TTA_FEATURE_BUDGET_BYTES };

/** (C, Z, Y, X). */
type Shape4 = readonly [number, number, number, number];

function checkOptions(input: InputVolume, opts: SlidingWindowOptions): Shape4 {
  const [C, Z, Y, X] = input.shape;
  if (input.shape.length !== 4 || C === undefined || Z === undefined || Y === undefined || X === undefined)
    fail('BAD_INPUT', `sliding window input must be (C, Z, Y, X), got [${input.shape.join(', ')}]`);
  const shape: Shape4 = [C, Z, Y, X];
  if (shape.reduce((a, b) => a * b, 1) !== input.data.length)
    fail('SHAPE_MISMATCH', 'input data length does not match its shape');
  if (opts.mode === 'v1' && opts.accumulation === 'float16')
    fail('UNSUPPORTED', "v1 accumulates in float32; accumulation 'float16' is only for the v2 modes");
  const depth = opts.maxSlabDepth;
  if (depth !== undefined && !(Number.isInteger(depth) && depth >= 1))
    fail('BAD_INPUT', `maxSlabDepth must be a positive integer, got ${depth}`);
  return shape;
}

function importanceMap(opts: SlidingWindowOptions, tiles: number): Float32Array | null {
  if (opts.useGaussian === false) return null;
  if (opts.mode === 'v1') return tiles > 1 ? getGaussianV1(opts.patchSizeZYX) : null; // v1 skips it for one tile
  return opts.mode === 'v2-stunet'
    ? computeGaussianV2(opts.patchSizeZYX, { variant: 'stunet', valueScalingFactor: 1000, dtype: 'float16' })
    : computeGaussianV2(opts.patchSizeZYX, { variant: 'upstream', valueScalingFactor: 10, dtype: 'float16' });
}

/** The (1, C, pz, py, px) tile at padded offset (z0, y0, x0); zeros where it covers padding. */
function extractTile(input: InputVolume, shape: Shape4, low: Vec3, start: Vec3, patch: Vec3): Tensor {
  const [C, Z, Y, X] = shape;
  const [pz, py, px] = patch;
  const out = new Float32Array(C * pz * py * px);
  const xFrom = Math.max(0, start[2] - low[2]);
  const xTo = Math.min(X, start[2] - low[2] + px);
  for (let c = 0; c < C; c++)
    for (let z = 0; z < pz; z++) {
      const iz = start[0] - low[0] + z;
      if (iz < 0 || iz >= Z) continue;
      for (let y = 0; y < py; y++) {
        const iy = start[1] - low[1] + y;
        if (iy < 0 || iy >= Y || xTo <= xFrom) continue;
        const src = ((c * Z + iz) * Y + iy) * X;
        const dst = ((c * pz + z) * py + y) * px + (xFrom - (start[2] - low[2]));
        out.set(input.data.subarray(src + xFrom, src + xTo), dst);
      }
    }
  return new Tensor([1, C, pz, py, px], out);
}

/**
 * Runs the sliding window and hands each finished z-range to `onSlab` in order (awaited, so a slow
 * writer applies back-pressure). Slabs cover z = 0…Z exactly once.
 */
export async function slidingWindowPredict(
  input: InputVolume,
  network: NetworkFn,
  opts: SlidingWindowOptions,
  onSlab: (slab: Slab) => void | Promise<void>,
): Promise<SlidingWindowSummary> {
  const shape = checkOptions(input, opts);
  const imageZYX: Vec3 = [shape[1], shape[2], shape[3]];
  const patch = opts.patchSizeZYX;
  const padding = padToPatch(imageZYX, patch);
  const steps = computeStepsForSlidingWindow(patch, padding.paddedZYX, opts.stepSize ?? 0.5);
  const [zSteps, ySteps, xSteps] = steps as [number[], number[], number[]];
  const gridTiles = zSteps.length * ySteps.length * xSteps.length;
  const runs = tileFilter(opts.region, padding.lowZYX, patch);
  const tiles =
    zSteps.filter((z) => runs(0, z)).length *
    ySteps.filter((y) => runs(1, y)).length *
    xSteps.filter((x) => runs(2, x)).length;
  const aggregation = opts.mode === 'v1' ? 'v1' : 'v2';
  const passes = mirrorPasses(opts.mirrorAxes ?? [0, 1, 2], aggregation);
  const weight = importanceMap(opts, gridTiles);
  const precision: AccumulationPrecision = opts.mode === 'v1' ? 'float32' : (opts.accumulation ?? 'float16');
  const stage = opts.progressStage ?? 'sliding-window';
  let done = 0;

  const checkAbort = (): void => {
    if (opts.signal?.aborted === true)
      throw new AbortError(
        `sliding-window prediction cancelled after ${done} of ${tiles} tiles`,
        opts.signal.reason,
      );
  };
  const ring = new SlabRing(imageZYX, padding, patch, precision, opts, onSlab);
  opts.onProgress?.({ stage, done: 0, total: tiles });
  try {
    for (const z0 of zSteps) {
      if (!runs(0, z0)) continue;
      await ring.flush(z0); // every tile that touches z < z0 has run
      for (const y0 of ySteps)
        for (const x0 of xSteps) {
          if (!runs(1, y0) || !runs(2, x0)) continue;
          if (opts.signal !== undefined) await yieldToEventLoop();
          checkAbort();
          const tile = extractTile(input, shape, padding.lowZYX, [z0, y0, x0], patch);
          const mirrorOpts = {
            passes,
            aggregation,
            batch: opts.batchMirrors ?? false,
            beforeCall: checkAbort,
          } as const;
          for (const member of network.members ?? [network])
            await addTile(member, tile, [z0, y0, x0], { ring, mirrorOpts, weight, patch, opts });
          done += 1;
          opts.onProgress?.({ stage, done, total: tiles });
        }
    }
    const classes = await ring.finish();
    return { classes, tiles, gridTiles, steps, padding };
  } finally {
    ring.close();
  }
}

/**
 * The accumulator and the slabs it hands on: created once the class count is known, flushed as the tiles
 * move down z. A stretch no tile touches (before the first tile run, or skipped outside a region) comes out
 * as zeros, and the ring jumps over it.
 */
class SlabRing {
  private acc: SlabAccumulator | null = null;
  private readonly maxDepth: number;

  constructor(
    private readonly imageZYX: Vec3,
    private readonly padding: Padding,
    private readonly patch: Vec3,
    private readonly precision: AccumulationPrecision,
    private readonly opts: SlidingWindowOptions,
    private readonly onSlab: (slab: Slab) => void | Promise<void>,
  ) {
    this.maxDepth = opts.maxSlabDepth ?? Infinity;
  }

  /** The accumulator (created for `k` classes at the first tile, which starts at padded z0). */
  async accumulator(k: number, z0: number): Promise<SlabAccumulator> {
    if (this.acc !== null) return this.acc;
    const [, Y, X] = this.padding.paddedZYX;
    const a = new SlabAccumulator(k, this.patch[0], Y, X, this.precision, this.opts.ringStore);
    this.acc = a;
    if (z0 > 0) {
      await this.emit(0, z0, k, null);
      a.skipTo(z0);
    }
    return a;
  }

  /** Emits the slices below `to` (every tile that touches them has run) and frees them. */
  async flush(to: number): Promise<void> {
    const a = this.acc;
    if (a === null) return;
    const liveEnd = Math.min(to, a.origin + a.liveDepth);
    await this.emit(a.origin, liveEnd, a.classes, a);
    a.release(liveEnd);
    if (to > liveEnd) {
      await this.emit(liveEnd, to, a.classes, null);
      a.skipTo(to);
    }
  }

  /** Flushes the rest; the class count. */
  async finish(): Promise<number> {
    const a = this.acc;
    if (a === null) fail('BAD_INPUT', 'the sliding window produced no tiles');
    await this.flush(this.padding.paddedZYX[0]);
    return a.classes;
  }

  close(): void {
    this.acc?.close();
  }

  // Padded slices [from, to) that hold image content, from the sums (or zeros without them), in slabs.
  private async emit(from: number, to: number, classes: number, a: SlabAccumulator | null): Promise<void> {
    const [lowZ, lowY, lowX] = this.padding.lowZYX;
    const [Z, Y, X] = this.imageZYX;
    let z = Math.max(from, lowZ);
    const end = Math.min(to, lowZ + Z);
    while (z < end) {
      const zNext = Math.min(end, z + this.maxDepth);
      const values =
        a === null ? new Float32Array(classes * (zNext - z) * Y * X) : a.read(z, zNext, lowY, Y, lowX, X);
      await this.onSlab({ zStart: z - lowZ, zEnd: zNext - lowZ, classes, values });
      z = zNext;
    }
  }
}

/** One network's TTA-aggregated tile into the sums (through its class head when it has one). */
async function addTile(
  member: NetworkFn,
  tile: Tensor,
  at: Vec3,
  c: {
    readonly ring: SlabRing;
    readonly mirrorOpts: Parameters<typeof addTileThroughHead>[3];
    readonly weight: Float32Array | null;
    readonly patch: Vec3;
    readonly opts: SlidingWindowOptions;
  },
): Promise<void> {
  const head = member.classHead;
  if (head !== undefined) {
    const a = await c.ring.accumulator(head.classes, at[0]);
    const held = c.mirrorOpts.passes.length * head.channels * c.patch[0] * c.patch[1] * c.patch[2] * 4;
    const stream = held > (c.opts.ttaFeatureBudgetBytes ?? TTA_FEATURE_BUDGET_BYTES);
    await addTileThroughHead(member, head, tile, c.mirrorOpts, a, c.weight, at, c.patch, stream);
    return;
  }
  const { values, classes } = await predictMirrored(member, tile, {
    ...c.mirrorOpts,
    batch: c.opts.batchMirrors ?? false,
  });
  const a = await c.ring.accumulator(classes, at[0]);
  if (classes !== a.classes)
    fail('SHAPE_MISMATCH', `the network returned ${classes} classes, earlier ${a.classes}`);
  a.add(values, c.weight, at[0], at[1], at[2], c.patch);
}

/** Whether a tile starting at padded `start` on `axis` overlaps the region (always, without one). */
function tileFilter(
  region: SlidingWindowOptions['region'],
  low: Vec3,
  patch: Vec3,
): (axis: 0 | 1 | 2, start: number) => boolean {
  if (region === undefined) return () => true;
  for (const a of [0, 1, 2] as const)
    if (!(region.lowZYX[a] < region.highZYX[a]))
      fail(
        'BAD_INPUT',
        `sliding window: the region [${region.lowZYX.join(', ')}]…[${region.highZYX.join(', ')}] is empty`,
      );
  return (axis, start) => {
    const from = start - low[axis];
    return from < region.highZYX[axis] && from + patch[axis] > region.lowZYX[axis];
  };
}

/**
 * Convenience for small inputs (tests, previews): collects every slab into one (K, Z, Y, X) volume. This
 * holds K × the whole volume — exactly what slidingWindowPredict avoids; use that for real scans.
 */
export async function slidingWindowPredictFull(
  input: InputVolume,
  network: NetworkFn,
  opts: SlidingWindowOptions,
): Promise<Volume & SlidingWindowSummary> {
  const [, Z, Y, X] = checkOptions(input, opts);
  const slabs: Slab[] = [];
  const summary = await slidingWindowPredict(input, network, opts, (s) => {
    slabs.push(s);
  });
  const K = summary.classes;
  const plane = Y * X;
  const data = new Float32Array(K * Z * plane);
  for (const s of slabs) {
    const dz = s.zEnd - s.zStart;
    for (let c = 0; c < K; c++)
      data.set(s.values.subarray(c * dz * plane, (c + 1) * dz * plane), (c * Z + s.zStart) * plane);
  }
  return { ...summary, data, shape: [K, Z, Y, X] };
}
