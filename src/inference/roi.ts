/**
 * `--roi-subset`: segment only some classes, and only where they are. TotalSegmentator (python_api.py with
 * `roi_subset`) first runs its 3 mm / 6 mm model on the whole image, crops the image to the bounding box of
 * the requested classes plus 20 mm (`crop_addon`, mm → voxels truncated), runs the 1.5 mm model on the
 * crop and keeps only the requested classes. No STU-Net model exists at another resolution, so the coarse
 * pass here is the same model without TTA at step 1 (the `--fast` pass, about a 13th of the default's
 * work). The full pass then runs on the box plus the margin alone (slidingWindowOnBox: TotalSegmentator's
 * crop, the fewest tiles), or, `exact`, only the tiles of the whole image's grid that overlap it
 * (sliding-window `region`): inside the box every voxel then gets exactly the whole prediction's value.
 */
import { fail } from '../util/errors.js';
import type { Vec3 } from '../util/vec3.js';
import {
  slidingWindowPredict,
  type InputVolume,
  type SlidingWindowOptions,
  type SlidingWindowSummary,
} from './sliding-window.js';
import type { Slab } from './stitcher.js';
import type { NetworkFn } from './tta.js';

/** TotalSegmentator's crop_addon for a roi_subset crop, in mm on each side. */
export const ROI_MARGIN_MM = 20;

export interface RoiSubset {
  /** The model's label values to find and keep (the others are written as background). */
  readonly labels: readonly number[];
  /** Added on each side of the coarse box, in mm (default ROI_MARGIN_MM). */
  readonly marginMm?: number;
  /**
   * false (default): TotalSegmentator's crop — the sliding window on the box alone, the fewest tiles.
   * true: the whole image's tiles that overlap the box, so the values inside equal the whole prediction's.
   */
  readonly exact?: boolean;
}

/** [low, high) per axis, in voxels of the network's grid (preprocessed, transposed). */
export interface Box {
  readonly lowZYX: Vec3;
  readonly highZYX: Vec3;
}

/** What the ROI passes did, for the run's report. */
export interface RoiReport {
  /** The requested classes' box found by the coarse pass, before the margin; null when none was found. */
  readonly boxZYX: Box | null;
  /** The box with the margin, where the full pass ran. */
  readonly regionZYX: Box | null;
  readonly coarseTiles: number;
  /** Tiles of the full pass run; gridTiles: the whole image's sliding window at the same step. */
  readonly tiles: number;
  readonly gridTiles: number;
  /** The full pass ran the whole image's tiles overlapping the region (true) or the region alone. */
  readonly exact: boolean;
}

/**
 * The coarse pass: the sliding window without TTA at step 1 over the whole network input, and the bounding
 * box of the voxels whose most probable class is one of `labels` (null when there is none).
 */
export async function findRoiBox(
  input: InputVolume,
  network: NetworkFn,
  labels: readonly number[],
  opts: Omit<SlidingWindowOptions, 'stepSize' | 'mirrorAxes' | 'region' | 'progressStage'>,
): Promise<{ box: Box | null; tiles: number; classes: number }> {
  const [, Z, Y, X] = input.shape as [number, number, number, number];
  const low: [number, number, number] = [Z, Y, X];
  const high: [number, number, number] = [0, 0, 0];
  let wanted: Uint8Array | null = null;
  const summary = await slidingWindowPredict(
    input,
    network,
    { ...opts, stepSize: 1, mirrorAxes: [], progressStage: 'roi-search' },
    (slab) => {
      const K = slab.classes;
      wanted ??= wantedTable(labels, K);
      const plane = Y * X;
      const n = (slab.zEnd - slab.zStart) * plane;
      for (let i = 0; i < n; i++) {
        let best = 0;
        let bestValue = slab.values[i] as number;
        for (let k = 1; k < K; k++) {
          const v = slab.values[k * n + i] as number;
          if (v > bestValue) {
            bestValue = v;
            best = k;
          }
        }
        if (wanted[best] !== 1) continue;
        const at = [slab.zStart + Math.floor(i / plane), Math.floor(i / X) % Y, i % X];
        for (let a = 0; a < 3; a++) {
          low[a] = Math.min(low[a] as number, at[a] as number);
          high[a] = Math.max(high[a] as number, (at[a] as number) + 1);
        }
      }
    },
  );
  const found = high[0] > low[0];
  return {
    box: found ? { lowZYX: low, highZYX: high } : null,
    tiles: summary.tiles,
    classes: summary.classes,
  };
}

/** Marks the wanted label values; one beyond the model's classes is an error naming it. */
export function wantedTable(labels: readonly number[], classes: number): Uint8Array {
  const table = new Uint8Array(Math.max(classes, 1));
  for (const l of labels) {
    if (!Number.isInteger(l) || l < 1 || l >= classes)
      fail('BAD_INPUT', `roi subset: label ${l} is not a class of this model (1…${classes - 1})`);
    table[l] = 1;
  }
  return table;
}

/** The box grown by `marginMm` on each side (mm → voxels truncated, as TotalSegmentator), within the grid. */
export function growBox(box: Box, marginMm: number, spacingZYX: Vec3, shapeZYX: Vec3): Box {
  if (!(marginMm >= 0)) fail('BAD_INPUT', `roi subset: the margin must be ≥ 0 mm, got ${marginMm}`);
  const m = spacingZYX.map((s) => Math.trunc(marginMm / s));
  const low = box.lowZYX.map((v, a) => Math.max(0, v - (m[a] ?? 0))) as [number, number, number];
  const high = box.highZYX.map((v, a) => Math.min(shapeZYX[a] ?? 0, v + (m[a] ?? 0))) as [
    number,
    number,
    number,
  ];
  return { lowZYX: low, highZYX: high };
}

/** Sets every label not in `table` to background, in place. */
export function keepLabels(labels: Uint8Array | Uint16Array, table: Uint8Array): void {
  for (let i = 0; i < labels.length; i++) if (table[labels[i] as number] !== 1) labels[i] = 0;
}

/**
 * TotalSegmentator's ROI crop: the sliding window on the box alone (its own tile grid, so fewer tiles than
 * the whole image's that overlap it), its slabs handed on embedded in the whole grid, zeros (background)
 * outside. The values inside differ from the whole prediction's only where the tiles fall differently.
 */
export async function slidingWindowOnBox(
  input: InputVolume,
  network: NetworkFn,
  opts: SlidingWindowOptions,
  box: Box,
  onSlab: (slab: Slab) => void | Promise<void>,
): Promise<SlidingWindowSummary> {
  const [C, Z, Y, X] = input.shape as [number, number, number, number];
  const [z0, y0, x0] = box.lowZYX;
  const [bz, by, bx] = box.highZYX.map((h, a) => h - (box.lowZYX[a] ?? 0)) as [number, number, number];
  const crop = new Float32Array(C * bz * by * bx);
  for (let c = 0; c < C; c++)
    for (let z = 0; z < bz; z++)
      for (let y = 0; y < by; y++) {
        const src = ((c * Z + z0 + z) * Y + y0 + y) * X + x0;
        crop.set(input.data.subarray(src, src + bx), ((c * bz + z) * by + y) * bx);
      }
  const depth = opts.maxSlabDepth ?? 8;
  let emitted = 0;
  const zeros = async (to: number, K: number): Promise<void> => {
    for (; emitted < to; emitted = Math.min(to, emitted + depth)) {
      const end = Math.min(to, emitted + depth);
      await onSlab({
        zStart: emitted,
        zEnd: end,
        classes: K,
        values: new Float32Array(K * (end - emitted) * Y * X),
      });
    }
  };
  const summary = await slidingWindowPredict(
    { data: crop, shape: [C, bz, by, bx] },
    network,
    opts,
    async (s) => {
      const K = s.classes;
      await zeros(z0 + s.zStart, K);
      const dz = s.zEnd - s.zStart;
      const values = new Float32Array(K * dz * Y * X);
      for (let k = 0; k < K; k++)
        for (let z = 0; z < dz; z++)
          for (let y = 0; y < by; y++) {
            const src = ((k * dz + z) * by + y) * bx;
            values.set(s.values.subarray(src, src + bx), ((k * dz + z) * Y + y0 + y) * X + x0);
          }
      await onSlab({ zStart: z0 + s.zStart, zEnd: z0 + s.zEnd, classes: K, values });
      emitted = z0 + s.zEnd;
    },
  );
  await zeros(Z, summary.classes);
  return summary;
}
