/**
 * Gaussian-weighted stitching of tile predictions, kept to a ring of z-slices so that the full
 * (classes × volume) array never exists. The official predictors instead hold `aggregated_results` and
 * `aggregated_nb_of_predictions` (v1) / `predicted_logits` and `n_predictions` (v2) for the whole volume.
 */
import { fail } from '../util/errors.js';
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
 * Where the running class sums live: `depth` slots (one per live z-slice), each (Y, X, classes) float32,
 * row-major with the classes innermost, so that the part of a row a tile covers, (px, classes), is one
 * contiguous run. The default keeps them in memory; a Node caller can keep them in a file (out of core), so
 * that the class-proportional part of the stitching never counts against the process's memory. A store
 * starts with arbitrary contents and is never cleared: the accumulator only reads voxels whose weight sum
 * is positive, i.e. that a tile has written since the slot was last released.
 */
export interface RingStore {
  /** Copies columns [x0, x1) of row y of `slot` into `into` ((x1 − x0) · classes values, (x, class) order). */
  read(slot: number, y: number, x0: number, x1: number, into: Float32Array): void;
  /** Writes (x1 − x0) · classes values from `from` to columns [x0, x1) of row y of `slot`. */
  write(slot: number, y: number, x0: number, x1: number, from: Float32Array): void;
  /** Frees what the store holds (files, buffers); safe to call twice. */
  close(): void;
}

/** Makes the store for (depth, Y, X, classes) float32 sums. */
export type RingStoreFactory = (
  depth: number,
  paddedY: number,
  classes: number,
  paddedX: number,
) => RingStore;

/** The in-memory store: one Float32Array. */
export function memoryRingStore(depth: number, paddedY: number, classes: number, paddedX: number): RingStore {
  const row = paddedX * classes;
  const slotSize = paddedY * row;
  const sums = new Float32Array(depth * slotSize);
  const at = (slot: number, y: number, x: number): number => slot * slotSize + y * row + x * classes;
  return {
    read(slot, y, x0, x1, into) {
      into.set(sums.subarray(at(slot, y, x0), at(slot, y, x1)));
    },
    write(slot, y, x0, x1, from) {
      sums.set(from.subarray(0, (x1 - x0) * classes), at(slot, y, x0));
    },
    close: () => undefined,
  };
}

/**
 * Running sums for `depth` consecutive z-slices of the padded (Y, X) plane; slice z lives in slot z % depth.
 * Memory: classes · depth · Y · X float32 in the RingStore (in memory by default) + depth · Y · X weights
 * + one block of the tile planes being added (classes · planes · py · px float32, reused).
 *
 * A tile's planes are added as a voxel-major block (planes, py, px, classes): `begin` loads the current
 * sums of those voxels (zeros where nothing was added yet: those are not read at all), the caller updates
 * the block (`addPlanes` in JS, or a fused head model), `commit` writes it back and adds the weights.
 */
export class SlabAccumulator {
  readonly classes: number;
  private readonly depth: number;
  private readonly plane: number;
  private readonly store: RingStore;
  private readonly weights: Float32Array; // (depth, Y, X): the same for every class
  /** Lowest z not yet released: live slices are [origin, origin + depth). */
  private liveFrom = 0;
  private block: Float32Array = new Float32Array(0);
  private pending: {
    z0: number;
    y0: number;
    x0: number;
    patch: readonly [number, number, number];
    zFrom: number;
    zTo: number;
  } | null = null;

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

  /** Slices held live at once (the ring's depth). */
  get liveDepth(): number {
    return this.depth;
  }

  /**
   * Releases every slice before `z` ≥ origin, also past the live range (a sliding window that skips tiles
   * jumps over a stretch no tile touches): the live slices become [z, z + depth), all empty beyond the
   * ones still held.
   */
  skipTo(z: number): void {
    if (z < this.liveFrom) fail('RUNTIME', `cannot move the live slices back from ${this.liveFrom} to ${z}`);
    this.release(Math.min(z, this.liveFrom + this.depth));
    this.liveFrom = z;
  }

  /** Frees the sums' store. */
  close(): void {
    this.store.close();
    this.block = new Float32Array(0);
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
    const [, py, px] = patch;
    if (
      !(zFrom >= 0 && zTo <= patch[0] && zFrom < zTo) ||
      values.length !== this.classes * (zTo - zFrom) * py * px
    )
      fail('SHAPE_MISMATCH', `tile planes ${zFrom}…${zTo}: values do not match (classes, planes, py, px)`);
    const block = this.begin(z0, y0, x0, patch, zFrom, zTo);
    const half = this.precision === 'float16';
    const K = this.classes;
    const n = (zTo - zFrom) * py * px;
    const w0 = zFrom * py * px;
    for (let v = 0; v < n; v++) {
      const o = v * K;
      if (half || weight === null)
        for (let c = 0; c < K; c++) {
          const x = values[c * n + v] as number;
          const contribution = weight === null ? x : Math.fround(x * (weight[w0 + v] as number));
          const sum = (block[o + c] as number) + contribution;
          block[o + c] = half ? halfFromFloat32Op(sum) : sum;
        }
      else {
        const g = weight[w0 + v] as number;
        for (let c = 0; c < K; c++)
          block[o + c] = (block[o + c] as number) + Math.fround((values[c * n + v] as number) * g);
      }
    }
    this.commit(block, weight);
  }

  /**
   * Starts adding tile planes [zFrom, zTo) of the tile at padded (z0, y0, x0): returns the current sums of
   * those voxels as ((zTo − zFrom) · py · px, classes), zeros where nothing was added yet. The block is
   * reused: finish with `commit` before the next `begin`.
   */
  begin(
    z0: number,
    y0: number,
    x0: number,
    patch: readonly [number, number, number],
    zFrom: number,
    zTo: number,
  ): Float32Array {
    const [pz, py, px] = patch;
    if (z0 < this.liveFrom || z0 + pz > this.liveFrom + this.depth)
      fail(
        'RUNTIME',
        `tile z ${z0}…${z0 + pz} falls outside the live slices ${this.liveFrom}…${this.liveFrom + this.depth}`,
      );
    if (y0 < 0 || x0 < 0 || y0 + py > this.paddedY || x0 + px > this.paddedX)
      fail('RUNTIME', 'tile falls outside the padded plane');
    if (!(Number.isInteger(zFrom) && Number.isInteger(zTo) && zFrom >= 0 && zTo <= pz && zFrom < zTo))
      fail('SHAPE_MISMATCH', `tile planes ${zFrom}…${zTo} are not within 0…${pz}`);
    const K = this.classes;
    const size = (zTo - zFrom) * py * px * K;
    if (this.block.length < size) this.block = new Float32Array(size);
    const block = this.block.subarray(0, size);
    const X = this.paddedX;
    const rowValues = px * K;
    for (let z = zFrom; z < zTo; z++) {
      const slot = (z0 + z) % this.depth;
      for (let y = 0; y < py; y++) {
        const w = slot * this.plane + (y0 + y) * X + x0;
        const b = ((z - zFrom) * py + y) * rowValues;
        // Runs of columns with (positive weight → read) or (zero weight → zeros; stale or never written).
        let x = 0;
        while (x < px) {
          const live = (this.weights[w + x] as number) !== 0;
          let e = x + 1;
          while (e < px && ((this.weights[w + e] as number) !== 0) === live) e++;
          const into = block.subarray(b + x * K, b + e * K);
          if (live) this.store.read(slot, y0 + y, x0 + x, x0 + e, into);
          else into.fill(0);
          x = e;
        }
      }
    }
    this.pending = { z0, y0, x0, patch, zFrom, zTo };
    return block;
  }

  /**
   * Finishes `begin`: writes the updated sums (the block `begin` returned, or another array of its size and
   * layout) and adds `weight` (the tile's whole (pz, py, px) map; null = 1) to the weight sums, unless
   * `addWeights` is false (a later contribution to planes whose weight was already added).
   */
  commit(sums: Float32Array, weight: Float32Array | null, addWeights = true): void {
    const p = this.pending ?? fail('RUNTIME', 'commit without begin');
    this.pending = null;
    const { z0, y0, x0, zFrom, zTo } = p;
    const [, py, px] = p.patch;
    const K = this.classes;
    if (sums.length < (zTo - zFrom) * py * px * K)
      fail('SHAPE_MISMATCH', 'the updated sums are smaller than the tile planes');
    const half = this.precision === 'float16';
    const X = this.paddedX;
    const rowValues = px * K;
    for (let z = zFrom; z < zTo; z++) {
      const slot = (z0 + z) % this.depth;
      for (let y = 0; y < py; y++) {
        const b = ((z - zFrom) * py + y) * rowValues;
        this.store.write(slot, y0 + y, x0, x0 + px, sums.subarray(b, b + rowValues));
        if (!addWeights) continue;
        const dst = slot * this.plane + (y0 + y) * X + x0;
        const src = (z * py + y) * px;
        for (let x = 0; x < px; x++) {
          const w = (this.weights[dst + x] as number) + (weight === null ? 1 : (weight[src + x] as number));
          this.weights[dst + x] = half ? halfFromFloat32Op(w) : w;
        }
      }
    }
  }

  /** sums / weights for padded slices [zFrom, zTo), cropped to [y0, y0 + ny) × [x0, x0 + nx): (classes, dz, ny, nx). */
  read(zFrom: number, zTo: number, y0: number, ny: number, x0: number, nx: number): Float32Array {
    this.checkLive(zFrom, zTo);
    const dz = zTo - zFrom;
    const K = this.classes;
    const out = new Float32Array(K * dz * ny * nx);
    const half = this.precision === 'float16';
    const X = this.paddedX;
    const rowValues = nx * K;
    if (this.block.length < rowValues) this.block = new Float32Array(rowValues);
    const row = this.block.subarray(0, rowValues);
    const classStride = dz * ny * nx;
    for (let z = zFrom; z < zTo; z++) {
      const slot = z % this.depth;
      for (let y = 0; y < ny; y++) {
        this.store.read(slot, y0 + y, x0, x0 + nx, row);
        const w = slot * this.plane + (y0 + y) * X + x0;
        const o = ((z - zFrom) * ny + y) * nx;
        // Class-major: contiguous writes, strided reads from the (cache-resident) row.
        for (let c = 0; c < K; c++) {
          const d = c * classStride + o;
          if (half)
            for (let x = 0; x < nx; x++)
              out[d + x] = halfFromFloat32Op((row[x * K + c] as number) / (this.weights[w + x] as number));
          else
            for (let x = 0; x < nx; x++)
              out[d + x] = (row[x * K + c] as number) / (this.weights[w + x] as number);
        }
      }
    }
    return out;
  }

  /** Frees slices [origin, zTo) for reuse by later tiles (their sums become unreadable: weight 0). */
  release(zTo: number): void {
    this.checkLive(this.liveFrom, zTo);
    for (let z = this.liveFrom; z < zTo; z++) {
      const slot = z % this.depth;
      this.weights.fill(0, slot * this.plane, (slot + 1) * this.plane);
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
