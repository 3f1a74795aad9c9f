/**
 * nnU-Net v2 ExperimentPlanner (default_experiment_planner.py), 3d_fullres: target spacing (median, with
 * the anisotropy rule), transpose, patch size and topology from spacing and median shape, and the batch
 * size from nnU-Net's memory proxy. Memory rule, stated: `memoryGb` is nnU-Net's gpu_memory_target_in_gb
 * (default 8) and is used exactly as nnU-Net uses it — the PlainConvUNet feature-map count must stay
 * under 560e6 · memoryGb / 8 at batch 2, and the spare headroom scales the batch. STU-Net's own batch
 * (for a CPU-RAM or GPU budget in bytes, measured with our engine) is chosen in presets.ts.
 */
import { fail } from '../util/errors.js';
import { roundHalfEven } from '../util/rounding.js';
import type { DatasetFingerprint } from './fingerprint.js';
import { medianPerAxis, percentileSorted } from './fingerprint.js';
import type { NnunetConfiguration, NnunetPlans } from './plans.js';
import { convFeatureMapSize, getPoolAndConvProps } from './topology.js';

export const ANISO_THRESHOLD = 3;
const REFERENCE_VAL_3D = 560000000;
const REFERENCE_GB = 8;
const REFERENCE_BS_3D = 2;
const MIN_BATCH_SIZE = 2;
const MAX_DATASET_COVERED = 0.05;
const BASE_FEATURES = 32;
const MAX_FEATURES_3D = 320;
const FEATUREMAP_MIN_EDGE = 4;
const BLOCKS_PER_STAGE = 2;

export interface PlannerInput {
  readonly fingerprint: DatasetFingerprint;
  readonly channelNames: readonly string[];
  /** len(dataset.json labels), ignore included (what nnU-Net passes as output channels). */
  readonly numLabels: number;
  readonly numTraining: number;
  readonly datasetName: string;
  /** nnU-Net's gpu_memory_target_in_gb (default 8). */
  readonly memoryGb?: number;
  readonly plansName?: string;
}

/**
 * determine_fullres_target_spacing: the median spacing, except when one axis is > 3× coarser than the
 * others AND has < 1/3 of their voxels: then that axis gets the 10th percentile of its spacings (but not
 * finer than the other axes, + 1e-5). E.g. ACDC-like (10, 1.5, 1.5) mm with 10 slices.
 */
export function determineTargetSpacing(
  spacings: readonly (readonly number[])[],
  shapes: readonly (readonly number[])[],
): number[] {
  const target = medianPerAxis(spacings);
  const targetSize = medianPerAxis(shapes);
  const worst = target.indexOf(Math.max(...target));
  const others = [0, 1, 2].filter((i) => i !== worst);
  const otherSpacings = others.map((i) => target[i] ?? 0);
  const otherSizes = others.map((i) => targetSize[i] ?? 0);
  const anisoSpacing = (target[worst] ?? 0) > ANISO_THRESHOLD * Math.max(...otherSpacings);
  const anisoVoxels = (targetSize[worst] ?? 0) * ANISO_THRESHOLD < Math.min(...otherSizes);
  if (anisoSpacing && anisoVoxels) {
    const axis = spacings.map((s) => s[worst] ?? 0).sort((a, b) => a - b);
    let t = percentileSorted(axis, 10);
    if (t < Math.max(...otherSpacings)) t = Math.max(Math.max(...otherSpacings), t) + 1e-5;
    target[worst] = t;
  }
  return target;
}

/** determine_transpose: the coarsest axis first. */
export function determineTranspose(targetSpacing: readonly number[]): {
  forward: number[];
  backward: number[];
} {
  const maxAxis = targetSpacing.indexOf(Math.max(...targetSpacing));
  const forward = [maxAxis, ...[0, 1, 2].filter((i) => i !== maxAxis)];
  const backward = [0, 1, 2].map((i) => forward.indexOf(i));
  return { forward, backward };
}

/** get_normalization_scheme: channel name (case-insensitive) → nnU-Net normalization class name. */
export function normalizationScheme(channelName: string): string {
  const map: Record<string, string> = {
    ct: 'CTNormalization',
    nonorm: 'NoNormalization',
    zscore: 'ZScoreNormalization',
    rescale_to_0_1: 'RescaleTo01Normalization',
    rgb_to_0_1: 'RGBTo01Normalization',
  };
  return map[channelName.toLowerCase()] ?? 'ZScoreNormalization';
}

/** Only ZScoreNormalization leaves pixels outside the mask at zero, so only it may use the mask. */
function useMaskForNorm(scheme: string, medianRelativeSize: number): boolean {
  return medianRelativeSize < 3 / 4 && scheme === 'ZScoreNormalization';
}

const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

export interface FullresTopology {
  patchSize: number[];
  poolOpKernelSizes: number[][];
  convKernelSizes: number[][];
  featuresPerStage: number[];
  batchSize: number;
}

/** get_plans_for_configuration's patch/topology/batch part, 3D. `medianShape` may hold x.5 medians. */
export function planTopology3d(
  spacing: readonly number[],
  medianShape: readonly number[],
  opts: { numLabels: number; memoryGb: number; approxVoxelsDataset: number },
): FullresTopology {
  if (spacing.some((s) => !(s > 0)))
    fail('BAD_INPUT', `plan: spacing must be > 0, got [${spacing.join(', ')}]`);
  const features = (n: number): number[] =>
    Array.from({ length: n }, (_, i) => Math.min(MAX_FEATURES_3D, BASE_FEATURES * 2 ** i));
  const estimate = (patch: readonly number[], strides: readonly (readonly number[])[]): number =>
    convFeatureMapSize(
      {
        featuresPerStage: features(strides.length),
        strides,
        nConvPerStage: strides.map(() => BLOCKS_PER_STAGE),
        nConvPerStageDecoder: strides.slice(1).map(() => BLOCKS_PER_STAGE),
        numClasses: opts.numLabels,
        deepSupervision: true,
      },
      patch,
    );
  // initial patch: the spacing's aspect ratio at the volume of 256³, clipped to the median shape
  const tmp = spacing.map((s) => 1 / s);
  const scale = (256 ** 3 / prod(tmp)) ** (1 / 3);
  const initial = tmp.map((t, i) => Math.min(roundHalfEven(t * scale), medianShape[i] ?? Infinity));
  let topo = getPoolAndConvProps(spacing, initial, FEATUREMAP_MIN_EDGE);
  let est = estimate(topo.patchSize, topo.poolOpKernelSizes);
  const reference = REFERENCE_VAL_3D * (opts.memoryGb / REFERENCE_GB);
  while ((est / REFERENCE_BS_3D) * 2 > reference) {
    // shrink the axis that is largest relative to the median shape (argsort()[-1]: last of the maxima)
    const ratios = topo.patchSize.map((p, i) => p / (medianShape[i] ?? 1));
    let axis = 0;
    ratios.forEach((r, i) => {
      if (r >= (ratios[axis] ?? 0)) axis = i;
    });
    const trial = [...topo.patchSize];
    trial[axis] = (trial[axis] ?? 0) - (topo.shapeMustBeDivisibleBy[axis] ?? 0);
    const div = getPoolAndConvProps(spacing, trial, FEATUREMAP_MIN_EDGE).shapeMustBeDivisibleBy;
    const patch = [...topo.patchSize];
    patch[axis] = (patch[axis] ?? 0) - (div[axis] ?? 0);
    topo = getPoolAndConvProps(spacing, patch, FEATUREMAP_MIN_EDGE);
    est = estimate(topo.patchSize, topo.poolOpKernelSizes);
  }
  let batch = roundHalfEven((reference / est) * REFERENCE_BS_3D);
  const bs5 = roundHalfEven((opts.approxVoxelsDataset * MAX_DATASET_COVERED) / prod(topo.patchSize));
  batch = Math.max(Math.min(batch, bs5), MIN_BATCH_SIZE);
  return {
    patchSize: topo.patchSize,
    poolOpKernelSizes: topo.poolOpKernelSizes,
    convKernelSizes: topo.convKernelSizes,
    featuresPerStage: features(topo.poolOpKernelSizes.length),
    batchSize: batch,
  };
}

/** plan_experiment, 3d_fullres only (2d and the lowres cascade are not planned). */
export function planExperiment(input: PlannerInput): NnunetPlans {
  const fp = input.fingerprint;
  const memoryGb = input.memoryGb ?? REFERENCE_GB;
  const plansName = input.plansName ?? 'nnUNetPlans';
  const target = determineTargetSpacing(fp.spacings, fp.shapes_after_crop);
  const { forward, backward } = determineTranspose(target);
  const tp = <T>(xs: readonly T[]): T[] => forward.map((i) => xs[i] as T);
  const newShapes = fp.spacings.map((s, c) =>
    [0, 1, 2].map((a) =>
      roundHalfEven(((s[a] ?? 1) / (target[a] ?? 1)) * (fp.shapes_after_crop[c]?.[a] ?? 0)),
    ),
  );
  const medianShape = tp(medianPerAxis(newShapes));
  const spacing = tp(target);
  const topo = planTopology3d(spacing, medianShape, {
    numLabels: input.numLabels,
    memoryGb,
    approxVoxelsDataset: prod(medianShape) * input.numTraining,
  });
  const schemes = input.channelNames.map(normalizationScheme);
  const nStages = topo.poolOpKernelSizes.length;
  const fullres: NnunetConfiguration = {
    data_identifier: `${plansName}_3d_fullres`,
    preprocessor_name: 'DefaultPreprocessor',
    batch_size: topo.batchSize,
    patch_size: topo.patchSize,
    median_image_size_in_voxels: medianShape,
    spacing,
    normalization_schemes: schemes,
    use_mask_for_norm: schemes.map((s) => useMaskForNorm(s, fp.median_relative_size_after_cropping)),
    resampling_fn_data: 'resample_data_or_seg_to_shape',
    resampling_fn_seg: 'resample_data_or_seg_to_shape',
    resampling_fn_data_kwargs: { is_seg: false, order: 3, order_z: 0, force_separate_z: null },
    resampling_fn_seg_kwargs: { is_seg: true, order: 1, order_z: 0, force_separate_z: null },
    resampling_fn_probabilities: 'resample_data_or_seg_to_shape',
    resampling_fn_probabilities_kwargs: { is_seg: false, order: 1, order_z: 0, force_separate_z: null },
    architecture: {
      network_class_name: 'dynamic_network_architectures.architectures.unet.PlainConvUNet',
      arch_kwargs: {
        n_stages: nStages,
        features_per_stage: topo.featuresPerStage,
        conv_op: 'torch.nn.modules.conv.Conv3d',
        kernel_sizes: topo.convKernelSizes,
        strides: topo.poolOpKernelSizes,
        n_conv_per_stage: Array.from({ length: nStages }, () => BLOCKS_PER_STAGE),
        n_conv_per_stage_decoder: Array.from({ length: nStages - 1 }, () => BLOCKS_PER_STAGE),
        conv_bias: true,
        norm_op: 'torch.nn.modules.instancenorm.InstanceNorm3d',
        norm_op_kwargs: { eps: 1e-5, affine: true },
        dropout_op: null,
        dropout_op_kwargs: null,
        nonlin: 'torch.nn.LeakyReLU',
        nonlin_kwargs: { inplace: true },
      },
      _kw_requires_import: ['conv_op', 'norm_op', 'dropout_op', 'nonlin'],
    },
    batch_dice: false,
  };
  return {
    dataset_name: input.datasetName,
    plans_name: plansName,
    original_median_spacing_after_transp: tp(medianPerAxis(fp.spacings)),
    original_median_shape_after_transp: tp(medianPerAxis(fp.shapes_after_crop)).map((v) => roundHalfEven(v)),
    image_reader_writer: 'SimpleITKIO',
    transpose_forward: forward,
    transpose_backward: backward,
    configurations: { '3d_fullres': fullres },
    experiment_planner_used: 'ExperimentPlanner',
    label_manager: 'LabelManager',
    foreground_intensity_properties_per_channel: fp.foreground_intensity_properties_per_channel,
  };
}
