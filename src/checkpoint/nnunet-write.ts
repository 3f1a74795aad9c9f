/**
 * Our model → checkpoints the official trainers load (torch.load), so that e.g. multi-GPU training can be
 * handed to the official code and its results brought back:
 * - v1: `<name>.model` with the keys NetworkTrainer.load_checkpoint_ram reads (state_dict, epoch, optimizer
 *   state (None = fresh), plot_stuff) + `<name>.model.pkl` {init, name, plans} for its predictor;
 * - v2: `checkpoint_final.pth` with the keys nnUNetTrainer.load_checkpoint reads (network_weights, fresh SGD
 *   optimizer_state, logging, init_args, trainer_name, mirroring axes) + plans.json / dataset.json.
 * Plans: the model's own when they came from the same nnU-Net version; otherwise minimal plans that let the
 * official STUNetTrainer build the same network (pools, kernels, patch) — preprocessing fields must then be
 * reviewed by the user, and the CLI says so.
 */
import { fail } from '../util/errors.js';
import type { LoadedModel } from '../model/loaded-model.js';
import { SCALES, matchScale } from '../model/scales.js';
import { StuNet } from '../model/stunet.js';
import { Pickler, type SaveValue } from './pickle-writer.js';
import type { JsonValue } from '../util/json.js';
import { PyDevice, PyDict, PyFloat, PyTuple } from './py-values.js';
import { saveTorch, saveTorchChunks } from './torch-save.js';
import { concatChunks } from '../util/bytes.js';

/** JSON → Python values for the pickle. v1 plans key several dicts by int (plans_per_stage, modalities). */
export function jsonToPy(v: JsonValue, intKeys: boolean): SaveValue {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? v : new PyFloat(v);
  if (Array.isArray(v)) return v.map((x) => jsonToPy(x, intKeys));
  const d = new PyDict<SaveValue>(false);
  for (const [k, x] of Object.entries(v))
    d.set(intKeys && /^(0|[1-9]\d*)$/.test(k) ? Number(k) : k, jsonToPy(x, intKeys));
  return d;
}

function stateDict(model: LoadedModel): PyDict {
  const sd = new PyDict<SaveValue>(true);
  for (const spec of new StuNet(model.arch).parameterSpecs()) {
    const t = model.weights.get(spec.name);
    if (t === undefined) fail('NOT_FOUND', `model has no weight '${spec.name}'`);
    sd.set(spec.name, { dtype: 'float32', shape: t.shape, data: t.data });
  }
  return sd;
}

function trainerName(model: LoadedModel): string {
  if (model.meta.trainerName !== null) return model.meta.trainerName;
  const scale = matchScale(model.arch);
  return scale === null ? 'STUNetTrainer' : SCALES[scale].trainer;
}

const patchOf = (m: LoadedModel): number[] => [...(m.meta.patchSizeZYX ?? [128, 128, 128])];
const kernelsOf = (m: LoadedModel): number[][] => m.arch.convKernelSizes.map((k) => [...k]);
const poolsOf = (m: LoadedModel): number[][] => m.arch.poolOpKernelSizes.map((p) => [...p]);

/** Minimal v1 plans (one stage) that make STUNetTrainer build this network. */
export function minimalV1Plans(m: LoadedModel): JsonValue {
  const modalities = Object.fromEntries(
    Array.from({ length: m.arch.inputChannels }, (_, i) => [String(i), 'nonCT']),
  );
  return {
    num_stages: 1,
    num_modalities: m.arch.inputChannels,
    modalities,
    normalization_schemes: modalities,
    num_classes: m.arch.numClasses - 1,
    all_classes: Array.from({ length: m.arch.numClasses - 1 }, (_, i) => i + 1),
    use_mask_for_norm: Object.fromEntries(Object.keys(modalities).map((k) => [k, false])),
    transpose_forward: [0, 1, 2],
    transpose_backward: [0, 1, 2],
    plans_per_stage: {
      '0': {
        batch_size: 2,
        patch_size: patchOf(m),
        current_spacing: [1.5, 1.5, 1.5],
        original_spacing: [1.5, 1.5, 1.5],
        do_dummy_2D_data_aug: false,
        pool_op_kernel_sizes: poolsOf(m),
        conv_kernel_sizes: kernelsOf(m),
      },
    },
    preprocessor_name: 'GenericPreprocessor',
    conv_per_stage: 2,
  };
}

/** Minimal v2 plans: one 3d_fullres configuration; pools get the leading [1,1,1] that v2 strips. */
export function minimalV2Plans(m: LoadedModel): JsonValue {
  return {
    dataset_name: 'Dataset000_stunet',
    plans_name: 'nnUNetPlans',
    original_median_spacing_after_transp: [1.5, 1.5, 1.5],
    original_median_shape_after_transp: patchOf(m),
    image_reader_writer: 'SimpleITKIO',
    transpose_forward: [0, 1, 2],
    transpose_backward: [0, 1, 2],
    configurations: {
      '3d_fullres': {
        data_identifier: 'nnUNetPlans_3d_fullres',
        preprocessor_name: 'DefaultPreprocessor',
        batch_size: 2,
        patch_size: patchOf(m),
        median_image_size_in_voxels: patchOf(m),
        spacing: [1.5, 1.5, 1.5],
        normalization_schemes: Array.from({ length: m.arch.inputChannels }, () => 'ZScoreNormalization'),
        use_mask_for_norm: Array.from({ length: m.arch.inputChannels }, () => false),
        UNet_class_name: 'PlainConvUNet',
        UNet_base_num_features: m.arch.dims[0] ?? 32,
        n_conv_per_stage_encoder: [...m.arch.depth],
        n_conv_per_stage_decoder: [...m.arch.depth.slice(0, -1)],
        num_pool_per_axis: [0, 1, 2].map((a) => poolsOf(m).filter((p) => (p[a] ?? 1) > 1).length),
        pool_op_kernel_sizes: [[1, 1, 1], ...poolsOf(m)],
        conv_kernel_sizes: kernelsOf(m),
        unet_max_num_features: Math.max(...m.arch.dims),
        resampling_fn_data: 'resample_data_or_seg_to_shape',
        resampling_fn_seg: 'resample_data_or_seg_to_shape',
        resampling_fn_data_kwargs: { is_seg: false, order: 3, order_z: 0, force_separate_z: null },
        resampling_fn_seg_kwargs: { is_seg: true, order: 1, order_z: 0, force_separate_z: null },
        resampling_fn_probabilities: 'resample_data_or_seg_to_shape',
        resampling_fn_probabilities_kwargs: { is_seg: false, order: 1, order_z: 0, force_separate_z: null },
        batch_dice: false,
      },
    },
    experiment_planner_used: 'stunet',
    label_manager: 'LabelManager',
    foreground_intensity_properties_per_channel: {},
  };
}

function minimalDatasetJson(m: LoadedModel): JsonValue {
  const labels: { [k: string]: JsonValue } = { background: 0 };
  for (let i = 1; i < m.arch.numClasses; i++) labels[`label_${i}`] = i;
  const channels = Object.fromEntries(
    Array.from({ length: m.arch.inputChannels }, (_, i) => [String(i), 'nonCT']),
  );
  return { channel_names: channels, labels, numTraining: 0, file_ending: '.nii.gz' };
}

export interface TorchV1Files {
  readonly model: Uint8Array;
  readonly pkl: Uint8Array;
  readonly plansSynthesized: boolean;
}

export interface TorchV1Options {
  /**
   * SGD momentum buffers by official key, saved as `optimizer_state_dict` as the official trainer writes
   * it (the released checkpoints carry them: half of an 11.7 GB H). Default: none (a fresh optimizer).
   */
  readonly momentum?: ReadonlyMap<string, { readonly shape: readonly number[]; readonly data: Float32Array }>;
}

/** An SGD param group as the official trainers create it (lr 1e-2, momentum 0.99, nesterov), then `extra`. */
function sgdGroup(extra: readonly (readonly [string, SaveValue])[]): PyDict {
  return PyDict.ordered<SaveValue>([
    ['lr', new PyFloat(0.01)],
    ['momentum', new PyFloat(0.99)],
    ['dampening', 0],
    ['weight_decay', new PyFloat(3e-5)],
    ['nesterov', true],
    ...extra,
  ]);
}

/** v1 SGD state: {state: {index: {momentum_buffer}}, param_groups: [{…, params: [0…n−1]}]}. */
function v1OptimizerState(m: LoadedModel, momentum: NonNullable<TorchV1Options['momentum']>): PyDict {
  const specs = new StuNet(m.arch).parameterSpecs();
  const state = new PyDict<SaveValue>(false);
  specs.forEach((spec, i) => {
    const t = momentum.get(spec.name);
    if (t === undefined) fail('NOT_FOUND', `momentum has no buffer for '${spec.name}'`);
    const buffer = { dtype: 'float32' as const, shape: t.shape, data: t.data };
    state.set(i, PyDict.ordered<SaveValue>([['momentum_buffer', buffer]]));
  });
  const group = sgdGroup([['params', specs.map((_, i) => i)]]);
  return PyDict.ordered<SaveValue>([
    ['state', state],
    ['param_groups', [group]],
  ]);
}

/**
 * The v1 `.model` as a value to save (stream it with saveTorchChunks for multi-GB models) and its
 * `.model.pkl` bytes.
 */
export function torchV1Value(
  m: LoadedModel,
  opts: TorchV1Options = {},
): { value: SaveValue; pkl: Uint8Array; plansSynthesized: boolean } {
  const own = m.meta.origin === 'nnunet-v1' && m.meta.plans !== null;
  const plans = own ? (m.meta.plans as JsonValue) : minimalV1Plans(m);
  const stage = own && m.meta.configuration !== null ? Number(m.meta.configuration) : 0;
  const ckpt = PyDict.ordered<SaveValue>([
    ['epoch', 0],
    ['state_dict', stateDict(m)],
    ['optimizer_state_dict', opts.momentum === undefined ? null : v1OptimizerState(m, opts.momentum)],
    ['lr_scheduler_state_dict', null],
    ['plot_stuff', new PyTuple<SaveValue>([[], [], [], []])],
  ]);
  // init = (plans_file, fold, output_folder, dataset_directory, batch_dice, stage, unpack_data, deterministic, fp16)
  const init = new PyTuple<SaveValue>(['', 0, '', '', false, stage, true, false, true]);
  const info = PyDict.ordered<SaveValue>([
    ['init', init],
    ['name', trainerName(m)],
    ['plans', jsonToPy(plans, true)],
  ]);
  return { value: ckpt, pkl: Pickler.dumps(info), plansSynthesized: !own };
}

export function toTorchV1(m: LoadedModel, opts: TorchV1Options = {}): TorchV1Files {
  const { value, pkl, plansSynthesized } = torchV1Value(m, opts);
  return { model: saveTorch(value), pkl, plansSynthesized };
}

/** toTorchV1 with the `.model` as chunks (weights uncopied): for models larger than one buffer (H). */
export function toTorchV1Chunks(
  m: LoadedModel,
  opts: TorchV1Options = {},
): Omit<TorchV1Files, 'model'> & { model: Uint8Array[] } {
  const { value, pkl, plansSynthesized } = torchV1Value(m, opts);
  return { model: saveTorchChunks(value), pkl, plansSynthesized };
}

export interface TorchV2Files {
  readonly checkpoint: Uint8Array;
  readonly plansJson: string;
  readonly datasetJson: string;
  readonly plansSynthesized: boolean;
}

export function toTorchV2(m: LoadedModel): TorchV2Files {
  const { checkpoint, ...rest } = toTorchV2Chunks(m);
  return { checkpoint: concatChunks(checkpoint), ...rest };
}

/** toTorchV2 with the checkpoint as chunks (weights uncopied): for models larger than one buffer (H). */
export function toTorchV2Chunks(
  m: LoadedModel,
): Omit<TorchV2Files, 'checkpoint'> & { checkpoint: Uint8Array[] } {
  const own = m.meta.origin === 'nnunet-v2' && m.meta.plans !== null;
  const plans = own ? (m.meta.plans as JsonValue) : minimalV2Plans(m);
  const configuration = own && m.meta.configuration !== null ? m.meta.configuration : '3d_fullres';
  const dataset = m.meta.datasetJson ?? minimalDatasetJson(m);
  const n = new StuNet(m.arch).parameterSpecs().length;
  const group = sgdGroup([
    ['maximize', false],
    ['foreach', null],
    ['differentiable', false],
    ['params', Array.from({ length: n }, (_, i) => i)],
  ]);
  const logging = PyDict.ordered<SaveValue>(
    [
      'mean_fg_dice',
      'ema_fg_dice',
      'dice_per_class_or_region',
      'train_losses',
      'val_losses',
      'lrs',
      'epoch_start_timestamps',
      'epoch_end_timestamps',
    ].map((k) => [k, []] as const),
  );
  const initArgs = PyDict.ordered<SaveValue>([
    ['plans', jsonToPy(plans, false)],
    ['configuration', configuration],
    ['fold', 0],
    ['dataset_json', jsonToPy(dataset, false)],
    ['unpack_dataset', true],
    ['device', new PyDevice('cuda', null)],
  ]);
  const ckpt = PyDict.ordered<SaveValue>([
    ['network_weights', stateDict(m)],
    [
      'optimizer_state',
      PyDict.ordered<SaveValue>([
        ['state', new PyDict<SaveValue>(false)],
        ['param_groups', [group]],
      ]),
    ],
    ['grad_scaler_state', null],
    ['logging', logging],
    ['_best_ema', null],
    ['current_epoch', 0],
    ['init_args', initArgs],
    ['trainer_name', trainerName(m)],
    [
      'inference_allowed_mirroring_axes',
      new PyTuple<SaveValue>((m.meta.mirrorAxes ?? [0, 1, 2]).map((a) => a)),
    ],
  ]);
  return {
    checkpoint: saveTorchChunks(ckpt),
    plansJson: `${JSON.stringify(plans, null, 2)}\n`,
    datasetJson: `${JSON.stringify(dataset, null, 2)}\n`,
    plansSynthesized: !own,
  };
}
