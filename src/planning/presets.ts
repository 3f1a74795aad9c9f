/**
 * STU-Net plans presets.
 *  - 'totalseg': the released TotalSegmentator plans (1.5 mm isotropic, patch 128³, pools [2,2,2]×4 then
 *    [1,1,2], batch 2, z-score normalization — nnU-Net v1's 'nonCT', written with its v2 class name).
 *  - 'dataset': nnU-Net's 3d_fullres plans of the target dataset, adapted as STU-Net's trainers adapt them:
 *    conv kernels fixed at [3,3,3] for all 6 stages, pools truncated/padded with [1,1,1] to 5
 *    (stunetPoolsFromPlans), features and blocks per stage from the scale. Batch size: our rule — the
 *    largest batch ≤ nnU-Net's whose one-step training peak, as our engine would allocate it
 *    (estimateTrainingMemory), fits in the memory budget (CPU RAM or GPU bytes); never below 1.
 */
import { fail } from '../util/errors.js';
import { stunetPoolsFromPlans, type StunetArchitecture } from '../model/architecture.js';
import { KERNEL_3, SCALES, scaleArchitecture, TOTALSEG_POOLS, type ScaleName } from '../model/scales.js';
import { estimateTrainingMemory } from '../model/memory.js';
import type { IntensityStats } from './fingerprint.js';
import type { NnunetConfiguration, NnunetPlans } from './plans.js';
import { configurationTopology } from './plans.js';
import type { Vec3 } from '../util/vec3.js';

const RESAMPLE_DATA = { is_seg: false, order: 3, order_z: 0, force_separate_z: null };
const RESAMPLE_SEG = { is_seg: true, order: 1, order_z: 0, force_separate_z: null };
const RESAMPLE_PROB = { is_seg: false, order: 1, order_z: 0, force_separate_z: null };

function stunetArchitectureBlock(
  scale: ScaleName,
  strides: readonly (readonly number[])[],
): NnunetConfiguration['architecture'] {
  const s = SCALES[scale];
  // STU-Net's trainers build their own network from strides/kernels; this block keeps the plans readable
  // by nnU-Net tools (PlainConvUNet with STU-Net's stage layout).
  return {
    network_class_name: 'dynamic_network_architectures.architectures.unet.PlainConvUNet',
    arch_kwargs: {
      n_stages: s.dims.length,
      features_per_stage: [...s.dims],
      conv_op: 'torch.nn.modules.conv.Conv3d',
      kernel_sizes: s.dims.map(() => [...KERNEL_3]),
      strides: strides.map((p) => [...p]),
      n_conv_per_stage: [...s.depth],
      n_conv_per_stage_decoder: s.depth.slice(0, -1),
      conv_bias: true,
      norm_op: 'torch.nn.modules.instancenorm.InstanceNorm3d',
      norm_op_kwargs: { eps: 1e-5, affine: true },
      dropout_op: null,
      dropout_op_kwargs: null,
      nonlin: 'torch.nn.LeakyReLU',
      nonlin_kwargs: { inplace: true },
    },
    _kw_requires_import: ['conv_op', 'norm_op', 'dropout_op', 'nonlin'],
  };
}

/** The released STU-Net TotalSegmentator plans as a v2 plans object. */
export function totalsegPresetPlans(
  opts: { scale?: ScaleName; intensityProperties?: Record<string, IntensityStats> } = {},
): NnunetPlans {
  const scale = opts.scale ?? 'B';
  const strides = [[1, 1, 1], ...TOTALSEG_POOLS.map((p) => [...p])];
  return {
    dataset_name: 'Dataset001_TotalSegmentator',
    plans_name: `STUNetPlans_${scale}`,
    original_median_spacing_after_transp: [1.5, 1.5, 1.5],
    original_median_shape_after_transp: [128, 128, 128],
    image_reader_writer: 'SimpleITKIO',
    transpose_forward: [0, 1, 2],
    transpose_backward: [0, 1, 2],
    configurations: {
      '3d_fullres': {
        data_identifier: `STUNetPlans_${scale}_3d_fullres`,
        preprocessor_name: 'DefaultPreprocessor',
        batch_size: 2,
        patch_size: [128, 128, 128],
        median_image_size_in_voxels: [128, 128, 128],
        spacing: [1.5, 1.5, 1.5],
        normalization_schemes: ['ZScoreNormalization'],
        use_mask_for_norm: [false],
        resampling_fn_data: 'resample_data_or_seg_to_shape',
        resampling_fn_seg: 'resample_data_or_seg_to_shape',
        resampling_fn_data_kwargs: RESAMPLE_DATA,
        resampling_fn_seg_kwargs: RESAMPLE_SEG,
        resampling_fn_probabilities: 'resample_data_or_seg_to_shape',
        resampling_fn_probabilities_kwargs: RESAMPLE_PROB,
        architecture: stunetArchitectureBlock(scale, strides),
        batch_dice: false,
      },
    },
    experiment_planner_used: 'stunet:totalseg',
    label_manager: 'LabelManager',
    foreground_intensity_properties_per_channel: opts.intensityProperties ?? {},
  };
}

export interface DatasetPresetOptions {
  readonly scale: ScaleName;
  readonly numClasses: number;
  /** Training memory budget in bytes (CPU RAM for our engine, or a GPU's memory). */
  readonly memoryBytes: number;
}

export interface DatasetPresetResult {
  readonly plans: NnunetPlans;
  readonly architecture: StunetArchitecture;
  /** estimateTrainingMemory peak at the chosen batch size. */
  readonly peakBytes: number;
  /** False when even batch 1 exceeds the budget (batch 1 is planned anyway). */
  readonly fits: boolean;
}

/** nnU-Net's plans of the target dataset → STU-Net plans at `scale` (the fine-tuning recipe). */
export function stunetPlansFromDataset(nnunet: NnunetPlans, opts: DatasetPresetOptions): DatasetPresetResult {
  const topo = configurationTopology(nnunet, '3d_fullres');
  const fullres = nnunet.configurations['3d_fullres'];
  if (fullres === undefined) fail('NOT_FOUND', 'plans: no 3d_fullres configuration to adapt');
  const pools = stunetPoolsFromPlans(topo.poolOpKernelSizes.slice(1));
  const inputChannels = fullres.normalization_schemes.length;
  const arch = scaleArchitecture(opts.scale, {
    inputChannels,
    numClasses: opts.numClasses,
    poolOpKernelSizes: pools,
  });
  const patch = topo.patchSize;
  const peak = (b: number): number => estimateTrainingMemory(arch, [b, inputChannels, ...patch]).peakBytes;
  let batch = Math.max(1, topo.batchSize);
  let bytes = peak(batch);
  while (batch > 1 && bytes > opts.memoryBytes) bytes = peak(--batch);
  const strides: Vec3[] = [[1, 1, 1], ...pools];
  const name = `STUNetPlans_${opts.scale}`;
  return {
    plans: {
      ...nnunet,
      plans_name: name,
      configurations: {
        '3d_fullres': {
          ...fullres,
          data_identifier: `${name}_3d_fullres`,
          batch_size: batch,
          architecture: stunetArchitectureBlock(opts.scale, strides),
        },
      },
      experiment_planner_used: `stunet:dataset (${nnunet.experiment_planner_used})`,
    },
    architecture: arch,
    peakBytes: bytes,
    fits: bytes <= opts.memoryBytes,
  };
}
