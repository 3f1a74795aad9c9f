/**
 * One case end to end on arrays (browser-safe): nnU-Net v1 `preprocess_test_case` → sliding window →
 * resample back to the cropped original grid (order 1, see export.ts) → argmax → un-crop. What nnU-Net v1
 * `predict_cases` + `save_segmentation_nifti_from_softmax` do, without the (K × volume) softmax array.
 *
 * Peak memory, K classes, patch (pz, py, px), network grid Z'×Y'×X' (padded to the patch), cropped
 * original grid Zc×Yc×Xc, original grid Z×Y×X, C channels, float32 unless noted:
 *     C·Z·Y·X (input) + C·Z'·Y'·X' (preprocessed)
 *   + (K+1)·pz·Y'·X'  (the sliding window's stitching ring, stitcher.ts)
 *   + K·s·Y'·X'       (one finished slab, s ≤ maxSlabDepth, default 8)
 *   + the network's own working set for one (1, C, pz, py, px) tile and its (1, K, pz, py, px) output
 *     (with a feature network carrying `classHead`: its (1, C_f, pz, py, px) features instead, and the
 *     ring can live outside memory through `ringStore`)
 *   + 4·K·Yc·Xc       (resample-back planes, export.ts)
 *   + Zc·Yc·Xc + Z·Y·X bytes (uint8 labels; ×2 for uint16).
 * Nothing is K × a whole volume.
 */
import { fail } from '../util/errors.js';
import type { Volume } from '../io/volume.js';
import {
  preprocessTestCase,
  planResampling,
  SEPARATE_Z_ANISOTROPY_THRESHOLD,
  STUNET_TOTALSEG_PLANS,
  type PreprocessPlans,
  type PreprocessProperties,
} from '../preprocessing/index.js';
import type { ProgressListener } from '../util/progress.js';
import { argmaxPlane, exportAxisKinds, softmaxPlaneInPlace, StreamingResampler } from './export.js';
import {
  slidingWindowOnBox,
  findRoiBox,
  growBox,
  keepLabels,
  ROI_MARGIN_MM,
  wantedTable,
  type Box,
  type RoiReport,
  type RoiSubset,
} from './roi.js';
import { slidingWindowPredict, type SlidingWindowMode } from './sliding-window.js';
import type { RingStoreFactory, Slab } from './stitcher.js';
import { computeStepsForSlidingWindow, padToPatch } from './steps.js';
import type { NetworkFn } from './tta.js';
import { map3, type Vec3 } from '../util/vec3.js';

export interface PredictVolumeOptions {
  readonly network: NetworkFn;
  /** The model's input channels (checked against the volume). */
  readonly inputChannels: number;
  readonly patchSizeZYX: Vec3;
  /** Default: the released STU-Net TotalSegmentator plans. */
  readonly plans?: PreprocessPlans;
  /** 'v1' for nnU-Net v1 / our models, a v2 mode for v2 checkpoints. */
  readonly mode: SlidingWindowMode;
  readonly stepSize?: number;
  /** Default [0, 1, 2]; [] = no TTA. */
  readonly mirrorAxes?: readonly number[];
  /** Slices per slab handed from the sliding window to the resampler (default 8). */
  readonly maxSlabDepth?: number;
  /** Where the sliding window keeps its (K × pz × Y' × X') running sums; default in memory. */
  readonly ringStore?: RingStoreFactory;
  /** See SlidingWindowOptions.ttaFeatureBudgetBytes (held vs streamed TTA passes; default 0: streamed). */
  readonly ttaFeatureBudgetBytes?: number;
  /**
   * Only these classes, found by a coarse pass (no TTA, step 1) and predicted on their box plus a margin;
   * the other classes come out as background. See roi.ts.
   */
  readonly roiSubset?: RoiSubset;
  readonly signal?: AbortSignal;
  /** Stages: 'preprocess', 'roi-search' (with roiSubset), 'sliding-window', 'export'. */
  readonly onProgress?: ProgressListener;
  /**
   * Receives the probabilities (softmax, also for v2) on the cropped original grid, plane z of Zc as
   * (K, Yc, Xc), in order. The array is reused: copy what you keep.
   */
  readonly onProbabilities?: (
    z: number,
    probabilities: Float32Array,
    grid: ProbabilityGrid,
  ) => void | Promise<void>;
}

/** Where the probability planes live: the cropped original grid (nnU-Net's `size_after_cropping`). */
export interface ProbabilityGrid {
  readonly classes: number;
  readonly shapeZYX: Vec3;
  /** [[z0, z1), [y0, y1), [x0, x1)] of the crop inside the original volume. */
  readonly cropBbox: readonly (readonly [number, number])[];
  /** (Z, Y, X) of the volume the crop box lies in (nnU-Net's `shape_before_cropping`). */
  readonly shapeBeforeCroppingZYX: Vec3;
  /** Spacing of the grid in mm (the input's: probabilities are resampled back to it). */
  readonly spacingZYX: Vec3;
  /** Set by the case: the voxel → world affine of the uncropped grid, and the class names. */
  readonly affine?: readonly (readonly number[])[];
  readonly classNames?: readonly string[];
}

export interface PredictVolumeResult {
  /** (Z, Y, X) of the input; uint8 for ≤ 256 classes, else uint16. */
  readonly labels: Uint8Array | Uint16Array;
  readonly shapeZYX: Vec3;
  readonly classes: number;
  readonly properties: PreprocessProperties;
  readonly tiles: number;
  /** With roiSubset: the boxes and tile counts of the two passes. */
  readonly roi?: RoiReport;
}

function checkInput(volume: Volume, opts: PredictVolumeOptions): Volume['shape'] {
  const shape = volume.shape;
  if (shape[0] !== opts.inputChannels)
    fail(
      'SHAPE_MISMATCH',
      `predict: the model takes ${opts.inputChannels} input channel(s), the case has ${shape[0]}`,
    );
  for (let i = 0; i < volume.data.length; i++) {
    if (!Number.isFinite(volume.data[i]))
      fail(
        'BAD_INPUT',
        `predict: the image has NaN or infinite voxels (first at flat index ${i}); replace them before predicting`,
      );
  }
  return shape;
}

/** transpose_forward applied to a triple. */
function permute(v: readonly number[], perm: Vec3): Vec3 {
  return [v[perm[0]] ?? 0, v[perm[1]] ?? 0, v[perm[2]] ?? 0];
}

/**
 * Segments one case. `volume` is (C, Z, Y, X) in nnU-Net's array order (niftiToVolume), `spacingZYX` its
 * spacing in mm. Returns the label volume on the input grid (background outside the crop box).
 */
export async function predictVolume(
  volume: Volume,
  spacingZYX: Vec3,
  opts: PredictVolumeOptions,
): Promise<PredictVolumeResult> {
  const [, Z, Y, X] = checkInput(volume, opts);
  const plans = opts.plans ?? STUNET_TOTALSEG_PLANS;
  const perm = plans.transposeForward;
  const identity = perm[0] === 0 && perm[1] === 1 && perm[2] === 2;
  if (!identity && opts.onProbabilities !== undefined)
    fail('UNSUPPORTED', 'predict: saving probabilities needs plans with transpose_forward [0, 1, 2]');
  opts.onProgress?.({ stage: 'preprocess', done: 0, total: 1 });
  const pre = preprocessTestCase(volume, spacingZYX, plans, { returnSeg: false });
  opts.onProgress?.({ stage: 'preprocess', done: 1, total: 1 });
  const props = pre.properties;
  const [, Zn, Yn, Xn] = pre.data.shape;
  // The export works in the transposed frame: resampling is per axis, so it commutes with transposition.
  const croppedT = permute(props.size_after_cropping, perm);
  // save_segmentation_nifti_from_softmax: force_separate_z None → original spacing first, then the target.
  const plan = planResampling(
    props.size_after_cropping,
    props.original_spacing,
    permute(props.spacing_after_resampling, invert(perm)),
    null,
    SEPARATE_Z_ANISOTROPY_THRESHOLD,
  );
  const lowResT = plan.doSeparateZ && plan.axis !== null ? perm.indexOf(plan.axis) : null;
  const bbox = props.crop_bbox;
  // Created on the first slab, when the class count is known.
  const state: { resampler: StreamingResampler | null; labels: Uint8Array | Uint16Array | null } = {
    resampler: null,
    labels: null,
  };
  const grid = (k: number): ProbabilityGrid => ({
    classes: k,
    shapeZYX: croppedT,
    cropBbox: bbox,
    shapeBeforeCroppingZYX: [Z, Y, X],
    spacingZYX: [...spacingZYX],
  });

  const common = {
    patchSizeZYX: opts.patchSizeZYX,
    mode: opts.mode,
    maxSlabDepth: opts.maxSlabDepth ?? 8,
    ...(opts.ringStore === undefined ? {} : { ringStore: opts.ringStore }),
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    ...(opts.onProgress === undefined ? {} : { onProgress: opts.onProgress }),
  };
  const roi =
    opts.roiSubset === undefined ? null : await roiPass(pre.data, [Zn, Yn, Xn], props, opts, common);
  if (roi !== null && roi.region === null) {
    // none of the classes is there: nothing more to run
    const labels = roi.classes <= 256 ? new Uint8Array(Z * Y * X) : new Uint16Array(Z * Y * X);
    return {
      labels,
      shapeZYX: [Z, Y, X],
      classes: roi.classes,
      properties: props,
      tiles: 0,
      roi: roi.report(0, 0),
    };
  }
  const windowOpts = {
    ...common,
    ...(opts.stepSize === undefined ? {} : { stepSize: opts.stepSize }),
    ...(opts.mirrorAxes === undefined ? {} : { mirrorAxes: opts.mirrorAxes }),
    ...(opts.ttaFeatureBudgetBytes === undefined
      ? {}
      : { ttaFeatureBudgetBytes: opts.ttaFeatureBudgetBytes }),
  };
  const onSlab = async (slab: Slab): Promise<void> => {
    if (state.resampler === null)
      Object.assign(state, createExport(slab.classes, [Zn, Yn, Xn], croppedT, lowResT, opts, grid));
    if (state.resampler === null) fail('RUNTIME', 'predict: no resampler');
    await state.resampler.push(slab);
  };
  const region = roi?.region ?? null;
  const summary =
    region === null
      ? await slidingWindowPredict(pre.data, opts.network, windowOpts, onSlab)
      : opts.roiSubset?.exact === true
        ? await slidingWindowPredict(pre.data, opts.network, { ...windowOpts, region }, onSlab)
        : await slidingWindowOnBox(pre.data, opts.network, windowOpts, region, onSlab);
  const { resampler, labels } = state;
  if (resampler === null || labels === null)
    fail('RUNTIME', 'predict: the sliding window produced no output');
  resampler.finish();
  if (roi !== null) keepLabels(labels, roi.table);
  return {
    labels: uncrop(labels, croppedT, perm, bbox, [Z, Y, X]),
    shapeZYX: [Z, Y, X],
    classes: resampler.classes,
    properties: props,
    tiles: summary.tiles,
    ...(roi === null ? {} : { roi: roi.report(summary.tiles, wholeGridTiles([Zn, Yn, Xn], opts)) }),
  };
}

/**
 * The export of one case, created on the first slab when the class count is known: the streaming
 * resampler to the cropped grid, whose planes go to onProbabilities (softmax) and argmax into `labels`.
 */
function createExport(
  k: number,
  networkZYX: Vec3,
  croppedT: Vec3,
  lowResT: number | null,
  opts: PredictVolumeOptions,
  grid: (k: number) => ProbabilityGrid,
): { resampler: StreamingResampler; labels: Uint8Array | Uint16Array } {
  const plane = croppedT[1] * croppedT[2];
  const labels = k <= 256 ? new Uint8Array(croppedT[0] * plane) : new Uint16Array(croppedT[0] * plane);
  const resampler = new StreamingResampler(
    k,
    networkZYX,
    croppedT,
    exportAxisKinds(lowResT),
    async (z, values) => {
      if (opts.onProbabilities !== undefined) {
        if (opts.mode !== 'v1') softmaxPlaneInPlace(values, k);
        await opts.onProbabilities(z, values, grid(k));
      }
      argmaxPlane(values, k, labels, z * plane);
      opts.onProgress?.({ stage: 'export', done: z + 1, total: croppedT[0] });
    },
  );
  return { resampler, labels };
}

/** Tiles of the whole image's sliding window (what a ROI pass is measured against). */
function wholeGridTiles(shapeZYX: Vec3, opts: PredictVolumeOptions): number {
  const padded = padToPatch(shapeZYX, opts.patchSizeZYX).paddedZYX;
  return computeStepsForSlidingWindow(opts.patchSizeZYX, padded, opts.stepSize ?? 0.5).reduce(
    (n, s) => n * s.length,
    1,
  );
}

/** The ROI subset's coarse pass: where the full pass runs (null: the classes are nowhere). */
async function roiPass(
  input: { readonly data: Float32Array; readonly shape: readonly number[] },
  shapeZYX: Vec3,
  props: PreprocessProperties,
  opts: PredictVolumeOptions,
  common: Parameters<typeof findRoiBox>[3],
): Promise<{
  region: Box | null;
  table: Uint8Array;
  classes: number;
  report: (tiles: number, gridTiles: number) => RoiReport;
}> {
  const subset = opts.roiSubset ?? fail('BAD_INPUT', 'predict: no roi subset');
  // an ensemble finds the box with its first member (a coarse pass needs no ensemble)
  const coarse = await findRoiBox(input, opts.network.members?.[0] ?? opts.network, subset.labels, common);
  const table = wantedTable(subset.labels, coarse.classes);
  const spacing: Vec3 = props.spacing_after_resampling;
  const region =
    coarse.box === null ? null : growBox(coarse.box, subset.marginMm ?? ROI_MARGIN_MM, spacing, shapeZYX);
  return {
    region,
    table,
    classes: coarse.classes,
    report: (tiles, gridTiles) => ({
      boxZYX: coarse.box,
      regionZYX: region,
      coarseTiles: coarse.tiles,
      tiles,
      gridTiles,
      exact: subset.exact === true,
    }),
  };
}

function invert(perm: Vec3): Vec3 {
  return [perm.indexOf(0), perm.indexOf(1), perm.indexOf(2)];
}

/**
 * Labels of the transposed crop (croppedT) into a zero volume of the original shape: transpose_backward
 * and `seg_old_size[bbox] = seg`.
 */
function uncrop(
  cropped: Uint8Array | Uint16Array,
  croppedT: Vec3,
  perm: Vec3,
  bbox: readonly (readonly [number, number])[],
  shape: Vec3,
): Uint8Array | Uint16Array {
  const [Z, Y, X] = shape;
  const out = cropped instanceof Uint8Array ? new Uint8Array(Z * Y * X) : new Uint16Array(Z * Y * X);
  const [b0, b1, b2] = [bbox[0] ?? [0, Z], bbox[1] ?? [0, Y], bbox[2] ?? [0, X]];
  // stride of original axis a inside the transposed crop
  const stridesT = [croppedT[1] * croppedT[2], croppedT[2], 1];
  const s = map3(invert(perm), (t) => stridesT[t] ?? 0);
  for (let z = b0[0]; z < b0[1]; z++)
    for (let y = b1[0]; y < b1[1]; y++) {
      const src = (z - b0[0]) * s[0] + (y - b1[0]) * s[1];
      const dst = (z * Y + y) * X;
      for (let x = b2[0]; x < b2[1]; x++) out[dst + x] = cropped[src + (x - b2[0]) * s[2]] as number;
    }
  return out;
}
