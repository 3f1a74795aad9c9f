/**
 * Gaussian-weighted stitching of tile predictions, kept to a ring of z-slices so that the full
 * (classes × volume) array never exists. The official predictors instead hold `aggregated_results` and
 * `aggregated_nb_of_predictions` (v1) / `predicted_logits` and `n_predictions` (v2) for the whole volume.
 */
import { fail } from '../errors.js';
import { halfFromFloat32Op } from './float16.js';

/**
 * 'float32': what v1 does (and the accurate choice). 'float16': what both v2 predictors do, even on the
 * CPU: every accumulation and the final division are rounded to half, as torch computes them.
 */
export type AccumulationPrecision = 'float32' | 'float16';

/** A finished run of z-slices, in the caller's (unpadded) coordinates. */
export interface Slab {
  readonly zStart: number;
  /** Exclusive. */
  readonly zEnd: number;
  readonly classes: number;
  /** (classes, zEnd − zStart, Y, X): v1 probabilities, v2 logits. */
  readonly values: Float32Array;
}

/**
 * Where the running class sums live: `depth` slots (one per live z-slice), each (Y, classes, X) float32,
 * row-major, accessed as blocks of whole rows. The default keeps them in memory; a Node caller can keep
 * them in a file (out of core), so that the class-proportional part of the stitching never counts
 * against the process's memory.
 */
export interface RingStore {
  /** Rows [y0, y1) of `slot` as ((y1 − y0), classes, X): a live view or a loaded copy, valid until the next call. */
  load(slot: number, y0: number, y1: number): Float32Array;
  /** Writes back a block from `load` (a no-op for views). */
  save(slot: number, y0: number, block: Float32Array): void;
  /** Zeroes a slot. */
  clear(slot: number): void;
  /** Frees what the store holds (files, buffers); safe to call twice. */
  close(): void;
}

/** Makes the store for (depth, Y, classes, X) float32 sums; it starts zeroed. */
export type RingStoreFactory = (
  depth: number,
  paddedY: number,
  classes: number,
  paddedX: number,
) => RingStore;

/** The in-memory store: one Float32Array, blocks are views. */
export function memoryRingStore(depth: number, paddedY: number, classes: number, paddedX: number): RingStore {
  const slot = paddedY * classes * paddedX;
  const row = classes * paddedX;
  const sums = new Float32Array(depth * slot);
  return {
    load: (s, y0, y1) => sums.subarray(s * slot + y0 * row, s * slot + y1 * row),
    save: () => undefined,
    clear: (s) => sums.fill(0, s * slot, (s + 1) * slot),
    close: () => undefined,
  };
}

/**
 * Running sums for `depth` consecutive z-slices of the padded (Y, X) plane; slice z lives in slot z % depth.
 * Memory: classes · depth · Y · X float32 in the RingStore (in memory by default) + depth · Y · X weights.
 */
export class SlabAccumulator {
  readonly classes: number;
  private readonly depth: number;
  private readonly plane: number;
  private readonly store: RingStore;
  private readonly weights: Float32Array; // (depth, Y, X): the same for every class
  /** Lowest z not yet released: live slices are [origin, origin + depth). */
  private liveFrom = 0;

  constructor(
    classes: number,
    depth: number,
    private readonly paddedY: number,
    private readonly paddedX: number,
    private readonly precision: AccumulationPrecision,
    storeFactory: RingStoreFactory = memoryRingStore,
  ) {
    this.classes = classes;
    this.depth = depth;
    this.plane = paddedY * paddedX;
    this.store = storeFactory(depth, paddedY, classes, paddedX);
    this.weights = new Float32Array(depth * this.plane);
  }

  /** Lowest padded z not yet released: live slices are [origin, origin + depth). */
  get origin(): number {
    return this.liveFrom;
  }

  /** Frees the sums' store. */
  close(): void {
    this.store.close();
  }

  /**
   * Adds one tile: `values` (classes, pz, py, px) times `weight` (pz, py, px; null = 1 and no multiply, as
   * v1 does for a single tile or without a Gaussian) at padded offset (z0, y0, x0).
   */
  add(
    values: Float32Array,
    weight: Float32Array | null,
    z0: number,
    y0: number,
    x0: number,
    patch: readonly [number, number, number],
  ): void {
    this.addPlanes(values, weight, z0, y0, x0, patch, 0, patch[0]);
  }

  /**
   * Adds tile planes [zFrom, zTo) only: `values` is (classes, zTo − zFrom, py, px), `weight` still the
   * whole (pz, py, px) map. Adding a tile's planes in any split gives bit-identical sums to `add`.
   */
  addPlanes(
    values: Float32Array,
    weight: Float32Array | null,
    z0: number,
    y0: number,
    x0: number,
    patch: readonly [number, number, number],
    zFrom: number,
    zTo: number,
  ): void {
    const [pz, py, px] = patch;
    if (z0 < this.liveFrom || z0 + pz > this.liveFrom + this.depth)
      fail(
        'RUNTIME',
        `tile z ${z0}…${z0 + pz} falls outside the live slices ${this.liveFrom}…${this.liveFrom + this.depth}`,
      );
    if (y0 + py > this.paddedY || x0 + px > this.paddedX)
      fail('RUNTIME', 'tile falls outside the padded plane');
    if (!(zFrom >= 0 && zTo <= pz && zFrom < zTo) || values.length !== this.classes * (zTo - zFrom) * py * px)
      fail('SHAPE_MISMATCH', `tile planes ${zFrom}…${zTo}: values do not match (classes, planes, py, px)`);
    const half = this.precision === 'float16';
    const chunkVoxels = (zTo - zFrom) * py * px;
    const X = this.paddedX;
    const K = this.classes;
    for (let z = zFrom; z < zTo; z++) {
      const slot = (z0 + z) % this.depth;
      const block = this.store.load(slot, y0, y0 + py); // (py, K, X)
      for (let y = 0; y < py; y++) {
        const dst = slot * this.plane + (y0 + y) * X + x0;
        const src = (z * py + y) * px;
        const vsrc = ((z - zFrom) * py + y) * px;
        for (let x = 0; x < px; x++) {
          const g = weight === null ? 1 : (weight[src + x] as number);
          const w = (this.weights[dst + x] as number) + g;
          this.weights[dst + x] = half ? halfFromFloat32Op(w) : w;
        }
        if (!half && weight !== null) {
          // The common case, kept branch-free (same arithmetic as below).
          for (let c = 0; c < K; c++) {
            const d = (y * K + c) * X + x0;
            const s = c * chunkVoxels + vsrc;
            for (let x = 0; x < px; x++)
              block[d + x] =
                (block[d + x] as number) +
                Math.fround((values[s + x] as number) * (weight[src + x] as number));
          }
          continue;
        }
        for (let c = 0; c < K; c++) {
          const d = (y * K + c) * X + x0;
          const s = c * chunkVoxels + vsrc;
          for (let x = 0; x < px; x++) {
            const v = values[s + x] as number;
            const contribution = weight === null ? v : Math.fround(v * (weight[src + x] as number));
            const sum = (block[d + x] as number) + contribution;
            block[d + x] = half ? halfFromFloat32Op(sum) : sum;
          }
        }
      }
      this.store.save(slot, y0, block);
    }
  }

  /** sums / weights for padded slices [zFrom, zTo), cropped to [y0, y0 + ny) × [x0, x0 + nx): (classes, dz, ny, nx). */
  read(zFrom: number, zTo: number, y0: number, ny: number, x0: number, nx: number): Float32Array {
    this.checkLive(zFrom, zTo);
    const dz = zTo - zFrom;
    const out = new Float32Array(this.classes * dz * ny * nx);
    const half = this.precision === 'float16';
    const X = this.paddedX;
    const K = this.classes;
    for (let z = zFrom; z < zTo; z++) {
      const slot = z % this.depth;
      const block = this.store.load(slot, y0, y0 + ny);
      for (let c = 0; c < K; c++)
        for (let y = 0; y < ny; y++) {
          const w = slot * this.plane + (y0 + y) * X + x0;
          const s = (y * K + c) * X + x0;
          let o = ((c * dz + (z - zFrom)) * ny + y) * nx;
          for (let x = 0; x < nx; x++) {
            const q = (block[s + x] as number) / (this.weights[w + x] as number);
            out[o++] = half ? halfFromFloat32Op(q) : q;
          }
        }
    }
    return out;
  }

  /** Frees slices [origin, zTo) for reuse by later tiles. */
  release(zTo: number): void {
    this.checkLive(this.liveFrom, zTo);
    for (let z = this.liveFrom; z < zTo; z++) {
      const slot = z % this.depth;
      this.weights.fill(0, slot * this.plane, (slot + 1) * this.plane);
      this.store.clear(slot);
    }
    this.liveFrom = zTo;
  }

  private checkLive(zFrom: number, zTo: number): void {
    if (zFrom < this.liveFrom || zTo > this.liveFrom + this.depth || zFrom > zTo)
      fail('RUNTIME', `slices ${zFrom}…${zTo} are not live (${this.liveFrom}…${this.liveFrom + this.depth})`);
  }
}

/** Index of the largest class per voxel of (K, S) values; the first one wins ties, like numpy's argmax. */
export function argmaxChannels(values: Float32Array, classes: number): Uint8Array | Uint16Array {
  const S = values.length / classes;
  const out = classes <= 256 ? new Uint8Array(S) : new Uint16Array(S);
  for (let s = 0; s < S; s++) {
    let best = 0;
    let bestValue = values[s] as number;
    for (let k = 1; k < classes; k++) {
      const v = values[k * S + s] as number;
      if (v > bestValue) {
        bestValue = v;
        best = k;
      }
    }
    out[s] = best;
  }
  return out;
}
