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
 * Running sums for `depth` consecutive z-slices of the padded (Y, X) plane; slice z lives in slot z % depth.
 * Memory: (classes + 1) · depth · Y · X float32.
 */
export class SlabAccumulator {
  readonly classes: number;
  private readonly depth: number;
  private readonly plane: number;
  private readonly sums: Float32Array; // (classes, depth, Y, X)
  private readonly weights: Float32Array; // (depth, Y, X): the same for every class
  /** Lowest z not yet released: live slices are [origin, origin + depth). */
  private liveFrom = 0;

  constructor(
    classes: number,
    depth: number,
    private readonly paddedY: number,
    private readonly paddedX: number,
    private readonly precision: AccumulationPrecision,
  ) {
    this.classes = classes;
    this.depth = depth;
    this.plane = paddedY * paddedX;
    this.sums = new Float32Array(classes * depth * this.plane);
    this.weights = new Float32Array(depth * this.plane);
  }

  /** Lowest padded z not yet released: live slices are [origin, origin + depth). */
  get origin(): number {
    return this.liveFrom;
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
    const [pz, py, px] = patch;
    if (z0 < this.liveFrom || z0 + pz > this.liveFrom + this.depth)
      fail(
        'RUNTIME',
        `tile z ${z0}…${z0 + pz} falls outside the live slices ${this.liveFrom}…${this.liveFrom + this.depth}`,
      );
    if (y0 + py > this.paddedY || x0 + px > this.paddedX)
      fail('RUNTIME', 'tile falls outside the padded plane');
    const half = this.precision === 'float16';
    const patchVoxels = pz * py * px;
    for (let z = 0; z < pz; z++) {
      const slot = (z0 + z) % this.depth;
      for (let y = 0; y < py; y++) {
        const dst = slot * this.plane + (y0 + y) * this.paddedX + x0;
        const src = (z * py + y) * px;
        for (let x = 0; x < px; x++) {
          const g = weight === null ? 1 : (weight[src + x] as number);
          const w = (this.weights[dst + x] as number) + g;
          this.weights[dst + x] = half ? halfFromFloat32Op(w) : w;
        }
        for (let c = 0; c < this.classes; c++) {
          const d = c * this.depth * this.plane + dst;
          const s = c * patchVoxels + src;
          for (let x = 0; x < px; x++) {
            const v = values[s + x] as number;
            const contribution = weight === null ? v : Math.fround(v * (weight[src + x] as number));
            const sum = (this.sums[d + x] as number) + contribution;
            this.sums[d + x] = half ? halfFromFloat32Op(sum) : sum;
          }
        }
      }
    }
  }

  /** sums / weights for padded slices [zFrom, zTo), cropped to [y0, y0 + ny) × [x0, x0 + nx): (classes, dz, ny, nx). */
  read(zFrom: number, zTo: number, y0: number, ny: number, x0: number, nx: number): Float32Array {
    this.checkLive(zFrom, zTo);
    const dz = zTo - zFrom;
    const out = new Float32Array(this.classes * dz * ny * nx);
    const half = this.precision === 'float16';
    let o = 0;
    for (let c = 0; c < this.classes; c++)
      for (let z = zFrom; z < zTo; z++) {
        const slot = z % this.depth;
        for (let y = 0; y < ny; y++) {
          const w = slot * this.plane + (y0 + y) * this.paddedX + x0;
          const s = c * this.depth * this.plane + w;
          for (let x = 0; x < nx; x++) {
            const q = (this.sums[s + x] as number) / (this.weights[w + x] as number);
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
      for (let c = 0; c < this.classes; c++) {
        const base = (c * this.depth + slot) * this.plane;
        this.sums.fill(0, base, base + this.plane);
      }
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
