/**
 * Official nnU-Net checkpoints → our LoadedModel (bytes in, no file system):
 * - v1 (STU-Net's nnU-Net 1.7.1 fork): `<name>.model` (torch.save of {epoch, state_dict, optimizer_state_dict,
 *   …}) + `<name>.model.pkl` (pickle of {init, name, plans}); pools from plans_per_stage[stage].
 * - v2 (nnU-Net 2.2 fork): `checkpoint_final.pth` ({network_weights, init_args{plans, configuration,
 *   dataset_json}, trainer_name, inference_allowed_mirroring_axes, …}) + optional plans.json/dataset.json;
 *   pools = configuration.pool_op_kernel_sizes[1:] (STUNetTrainer.build_network_architecture).
 */
import { fail } from '../util/errors.js';
import { Tensor } from '../engine/tensor.js';
import { defaultMeta, type LoadedModel, type ModelMeta } from '../model/loaded-model.js';
import { asIntList, asIntMatrix, asObject, jsonAt } from './json-path.js';
import { inferArchitecture, stripWrapperPrefix } from './infer-architecture.js';
import { pyToJson } from './py-json.js';
import { type JsonValue } from '../util/json.js';
import { PyDict, PyTuple, TorchTensor, type PyValue } from './py-values.js';
import { tensorToFloat32 } from './tensor.js';
import { loadPickle, loadTorchFrom } from './torch-load.js';
import type { ByteSource } from './zip.js';

export type CheckpointKind = 'nnunet-v1' | 'nnunet-v2';

/** Tells a v1 from a v2 checkpoint by its top-level keys. */
export function checkpointKind(ckpt: PyValue, what: string): CheckpointKind {
  if (!(ckpt instanceof PyDict))
    fail('BAD_INPUT', `${what}: not an nnU-Net checkpoint (top level is not a dict)`);
  if (ckpt.has('network_weights')) return 'nnunet-v2';
  if (ckpt.has('state_dict')) return 'nnunet-v1';
  fail(
    'BAD_INPUT',
    `${what}: not an nnU-Net checkpoint (no 'state_dict' (v1) or 'network_weights' (v2) key)`,
  );
}

/** Options of the checkpoint readers. */
export interface ReadOptions {
  /**
   * false: read the architecture and meta only (tensor shapes come from the pickle; no weight is read —
   * what `predict` needs to say how much memory it will take before loading 5 GB of weights).
   */
  readonly weights?: boolean;
}

/** Shapes by stripped key, from the state dict's tensors (their data is not read). */
function stateDictShapes(sd: PyValue, what: string): Map<string, readonly number[]> {
  if (!(sd instanceof PyDict)) fail('BAD_INPUT', `${what}: state dict is not a dict`);
  const out = new Map<string, readonly number[]>();
  for (const [k, v] of sd)
    if (typeof k === 'string' && v instanceof TorchTensor && v.dtype !== 'int64' && v.dtype !== 'bool')
      out.set(stripWrapperPrefix(k), v.shape);
  return out;
}

/** Weights and their shapes, or the shapes alone with no weights when `opts.weights` is false. */
function readWeights(
  sd: PyValue,
  what: string,
  opts: ReadOptions,
): { weights: Map<string, Tensor>; shapes: Map<string, readonly number[]> } {
  if (opts.weights === false) return { weights: new Map(), shapes: stateDictShapes(sd, what) };
  const weights = weightsFromStateDict(sd, what);
  return { weights, shapes: shapesOf(weights) };
}

/** float32 weights by stripped key; fp16/bf16/fp64 checkpoints are widened/narrowed to float32. */
export function weightsFromStateDict(sd: PyValue, what: string): Map<string, Tensor> {
  if (!(sd instanceof PyDict)) fail('BAD_INPUT', `${what}: state dict is not a dict`);
  const out = new Map<string, Tensor>();
  for (const [k, v] of sd) {
    if (typeof k !== 'string' || !(v instanceof TorchTensor))
      fail(
        'BAD_INPUT',
        `${what}: state dict entry ${typeof k === 'string' ? k : JSON.stringify(pyToJson(k))} is not a tensor`,
      );
    if (v.dtype === 'int64' || v.dtype === 'bool') continue; // buffers such as num_batches_tracked
    out.set(stripWrapperPrefix(k), new Tensor(v.shape, tensorToFloat32(v)));
  }
  return out;
}

function shapesOf(w: ReadonlyMap<string, Tensor>): Map<string, readonly number[]> {
  return new Map([...w].map(([k, t]) => [k, t.shape]));
}

/** Pools, patch and stage of a v1 plans dict (JSON form of the `.model.pkl` plans). */
function v1Stage(
  plans: JsonValue,
  init: JsonValue,
  what: string,
): { stage: string; pools: number[][]; patch: number[] } {
  const perStage = asObject(jsonAt(plans, ['plans_per_stage'], what), `${what}: plans_per_stage`);
  const stages = Object.keys(perStage);
  const initStage = Array.isArray(init) ? init[5] : undefined;
  const stage = typeof initStage === 'number' ? String(initStage) : stages[stages.length - 1];
  if (stage === undefined || perStage[stage] === undefined)
    fail('BAD_INPUT', `${what}: plans have no stage ${String(stage)}`);
  return {
    stage,
    pools: asIntMatrix(
      jsonAt(perStage, [stage, 'pool_op_kernel_sizes'], what),
      `${what}: pool_op_kernel_sizes`,
    ),
    patch: asIntList(jsonAt(perStage, [stage, 'patch_size'], what), `${what}: patch_size`),
  };
}

export function loadNnunetV1(
  modelBytes: Uint8Array | ByteSource,
  pklBytes: Uint8Array | null,
  source: string | null = null,
  opts: ReadOptions = {},
): LoadedModel {
  const what = source ?? 'v1 checkpoint';
  const ckpt = loadTorchFrom(modelBytes);
  if (checkpointKind(ckpt, what) !== 'nnunet-v1')
    fail('BAD_INPUT', `${what}: this is an nnU-Net v2 checkpoint, not v1`);
  if (pklBytes === null)
    fail(
      'NOT_FOUND',
      `${what}: the plans file '<checkpoint>.pkl' is missing; nnU-Net v1 keeps the pool sizes there`,
    );
  const info = pyToJson(loadPickle(pklBytes));
  const plans = jsonAt(info, ['plans'], `${what}.pkl`);
  const init = (info as { init?: JsonValue }).init ?? null;
  const { stage, pools, patch } = v1Stage(plans, init, `${what}.pkl`);
  const { weights, shapes } = readWeights((ckpt as PyDict).require('state_dict'), what, opts);
  const arch = inferArchitecture(shapes, pools);
  const name = (info as { name?: JsonValue }).name;
  const meta: ModelMeta = {
    ...defaultMeta('nnunet-v1'),
    trainerName: typeof name === 'string' ? name : null,
    plans,
    configuration: stage,
    patchSizeZYX: patch,
    mirrorAxes: [0, 1, 2],
    source,
  };
  return { arch, weights, meta };
}

/** v2 configurations may inherit from another one (`inherits_from`); resolve the merged dict. */
export function v2Configuration(plans: JsonValue, name: string, what: string): { [key: string]: JsonValue } {
  const configs = asObject(jsonAt(plans, ['configurations'], what), `${what}: configurations`);
  const seen = new Set<string>();
  const resolve = (n: string): { [key: string]: JsonValue } => {
    if (seen.has(n)) fail('BAD_INPUT', `${what}: configuration '${n}' inherits from itself`);
    seen.add(n);
    const c = configs[n];
    if (c === undefined)
      fail('BAD_INPUT', `${what}: no configuration '${n}' (have ${Object.keys(configs).join(', ')})`);
    const own = asObject(c, `${what}: configuration ${n}`);
    const parent = own['inherits_from'];
    return typeof parent === 'string' ? { ...resolve(parent), ...own } : own;
  };
  return resolve(name);
}

export interface V2Sidecars {
  /** plans.json text (from --plans or beside the checkpoint); overrides the checkpoint's init_args.plans. */
  readonly plansJson?: string | null;
  readonly datasetJson?: string | null;
}

function parseJson(text: string, what: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (e) {
    fail('BAD_INPUT', `${what} is not valid JSON: ${(e as Error).message}`);
  }
}

export function loadNnunetV2(
  pthBytes: Uint8Array | ByteSource,
  sidecars: V2Sidecars = {},
  source: string | null = null,
  opts: ReadOptions = {},
): LoadedModel {
  const what = source ?? 'v2 checkpoint';
  const ckpt = loadTorchFrom(pthBytes);
  if (checkpointKind(ckpt, what) !== 'nnunet-v2')
    fail('BAD_INPUT', `${what}: this is an nnU-Net v1 checkpoint, not v2`);
  const dict = ckpt as PyDict;
  const initArgs = dict.get('init_args');
  const initJson = initArgs instanceof PyDict ? pyToJson(initArgs) : null;
  const fromInit = (k: string): JsonValue | null =>
    initJson !== null && typeof initJson === 'object' && !Array.isArray(initJson)
      ? (initJson[k] ?? null)
      : null;
  const plans = sidecars.plansJson != null ? parseJson(sidecars.plansJson, 'plans.json') : fromInit('plans');
  if (plans === null)
    fail(
      'NOT_FOUND',
      `${what}: no plans: the checkpoint has no init_args.plans; give plans.json (--plans or beside the checkpoint)`,
    );
  const configurationValue = fromInit('configuration');
  const configuration = typeof configurationValue === 'string' ? configurationValue : '3d_fullres';
  const config = v2Configuration(plans, configuration, 'plans');
  const allPools = asIntMatrix(config['pool_op_kernel_sizes'] ?? null, 'plans: pool_op_kernel_sizes');
  const { weights, shapes } = readWeights(dict.require('network_weights'), what, opts);
  const arch = inferArchitecture(shapes, allPools.slice(1));
  const mirror = dict.get('inference_allowed_mirroring_axes');
  const trainer = dict.get('trainer_name');
  const patch = config['patch_size'];
  const meta: ModelMeta = {
    ...defaultMeta('nnunet-v2'),
    trainerName: typeof trainer === 'string' ? trainer : null,
    plans,
    configuration,
    datasetJson:
      sidecars.datasetJson != null
        ? parseJson(sidecars.datasetJson, 'dataset.json')
        : fromInit('dataset_json'),
    patchSizeZYX: patch === undefined ? null : asIntList(patch, 'plans: patch_size'),
    mirrorAxes:
      mirror instanceof PyTuple || Array.isArray(mirror)
        ? asIntList(pyToJson(mirror), 'inference_allowed_mirroring_axes')
        : [0, 1, 2],
    source,
  };
  return { arch, weights, meta };
}
