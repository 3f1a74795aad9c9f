/**
 * nnU-Net v2 plans.json as plain typed data, with nnU-Net's field names (nnunetv2 ≥ 2.4 layout: the
 * network in `architecture`). Reading also accepts the older layout (UNet_class_name,
 * pool_op_kernel_sizes, conv_kernel_sizes at the configuration's top level), as nnU-Net's
 * ConfigurationManager does.
 */
import { fail } from '../util/errors.js';
import type { IntensityStats } from './fingerprint.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface ResamplingKwargs {
  is_seg: boolean;
  order: number;
  order_z: number;
  force_separate_z: boolean | null;
}

export interface NnunetArchitecture {
  network_class_name: string;
  arch_kwargs: {
    n_stages: number;
    features_per_stage: number[];
    conv_op: string;
    kernel_sizes: number[][];
    strides: number[][];
    n_conv_per_stage: number[];
    n_conv_per_stage_decoder: number[];
    conv_bias: boolean;
    norm_op: string;
    norm_op_kwargs: { eps: number; affine: boolean };
    dropout_op: string | null;
    dropout_op_kwargs: null | Record<string, number>;
    nonlin: string;
    nonlin_kwargs: { inplace: boolean };
  };
  _kw_requires_import: string[];
}

export interface NnunetConfiguration {
  data_identifier: string;
  preprocessor_name: string;
  batch_size: number;
  patch_size: number[];
  median_image_size_in_voxels: number[];
  spacing: number[];
  normalization_schemes: string[];
  use_mask_for_norm: boolean[];
  resampling_fn_data: string;
  resampling_fn_seg: string;
  resampling_fn_data_kwargs: ResamplingKwargs;
  resampling_fn_seg_kwargs: ResamplingKwargs;
  resampling_fn_probabilities: string;
  resampling_fn_probabilities_kwargs: ResamplingKwargs;
  architecture: NnunetArchitecture;
  batch_dice: boolean;
}

export interface NnunetPlans {
  dataset_name: string;
  plans_name: string;
  original_median_spacing_after_transp: number[];
  original_median_shape_after_transp: number[];
  image_reader_writer: string;
  transpose_forward: number[];
  transpose_backward: number[];
  configurations: Record<string, NnunetConfiguration>;
  experiment_planner_used: string;
  label_manager: string;
  foreground_intensity_properties_per_channel: Record<string, IntensityStats>;
}

/** plans.json text (4-space indent, keys in nnU-Net's order, like its save_json(sort_keys=False)). */
export function serializePlans(plans: NnunetPlans): string {
  return JSON.stringify(plans, null, 4) + '\n';
}

/** The topology a network needs from one configuration, whichever plans layout it uses. */
export interface ConfigurationTopology {
  readonly patchSize: number[];
  readonly spacing: number[];
  readonly batchSize: number;
  readonly poolOpKernelSizes: number[][];
  readonly convKernelSizes: number[][];
  readonly normalizationSchemes: string[];
}

function isObj(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function numArray(x: unknown, what: string): number[] {
  if (!Array.isArray(x) || !x.every((v) => typeof v === 'number'))
    fail('BAD_INPUT', `plans: ${what} must be a list of numbers`);
  return x;
}

function numMatrix(x: unknown, what: string): number[][] {
  if (!Array.isArray(x)) fail('BAD_INPUT', `plans: ${what} must be a list of lists`);
  return x.map((r, i) => numArray(r, `${what}[${i}]`));
}

/** Parses plans.json text and checks the fields stunet uses; the full object is returned as read. */
export function parsePlans(text: string): NnunetPlans {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    fail('BAD_INPUT', `plans: not valid JSON (${(e as Error).message})`);
  }
  if (!hasConfigurations(obj)) {
    fail('BAD_INPUT', 'plans: expected an nnU-Net v2 plans object with "configurations"');
  }
  for (const name of Object.keys(obj.configurations)) configurationTopology(obj, name);
  return obj;
}

/** The shallow check before configurationTopology reads each configuration; other fields are taken as read. */
function hasConfigurations(x: unknown): x is NnunetPlans {
  return isObj(x) && isObj(x['configurations']);
}

export function configurationTopology(plans: NnunetPlans, name = '3d_fullres'): ConfigurationTopology {
  const confs = plans.configurations as Record<string, unknown>;
  let c = confs[name];
  if (!isObj(c))
    fail('NOT_FOUND', `plans: no configuration '${name}' (have ${Object.keys(confs).join(', ')})`);
  const parent = c['inherits_from'];
  if (typeof parent === 'string') {
    const p = confs[parent];
    if (!isObj(p)) fail('BAD_INPUT', `plans: '${name}' inherits from missing '${parent}'`);
    c = { ...p, ...c };
  }
  const conf = c as Record<string, unknown>;
  const arch = conf['architecture'];
  const kw = isObj(arch) && isObj(arch['arch_kwargs']) ? arch['arch_kwargs'] : null;
  const pools = kw !== null ? kw['strides'] : conf['pool_op_kernel_sizes'];
  const kernels = kw !== null ? kw['kernel_sizes'] : conf['conv_kernel_sizes'];
  const batch = conf['batch_size'];
  if (typeof batch !== 'number') fail('BAD_INPUT', `plans: ${name}.batch_size must be a number`);
  const schemes = conf['normalization_schemes'];
  if (!Array.isArray(schemes) || !schemes.every((s) => typeof s === 'string')) {
    fail('BAD_INPUT', `plans: ${name}.normalization_schemes must be a list of names`);
  }
  return {
    patchSize: numArray(conf['patch_size'], `${name}.patch_size`),
    spacing: numArray(conf['spacing'], `${name}.spacing`),
    batchSize: batch,
    poolOpKernelSizes: numMatrix(pools, `${name} pool kernel sizes (architecture.arch_kwargs.strides)`),
    convKernelSizes: numMatrix(kernels, `${name} conv kernel sizes (architecture.arch_kwargs.kernel_sizes)`),
    normalizationSchemes: schemes,
  };
}

export type { Json as PlansJson };
