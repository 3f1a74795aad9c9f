/**
 * Optimizer state in and out, so a run can resume where it stopped:
 * - official: torch.optim.SGD.state_dict() = {state: {index: {momentum_buffer}}, param_groups: [{lr,
 *   momentum, dampening, weight_decay, nesterov, …, params: [0, 1, …]}]}, stored by nnU-Net v1 under
 *   `optimizer_state_dict` and by v2 under `optimizer_state`. Indices follow model.parameters(), which for
 *   STU-Net is the state_dict order (StuNet.parameterSpecs()). A parameter that never had a gradient
 *   (the weight-0 head) has no entry.
 * - ours: a safetensors file of momentum buffers by official key, hyper-parameters in its metadata.
 */
import { PyDict, PyFloat, TorchTensor, pyRepr, type PyValue } from '../checkpoint/py-values.js';
import { readSafetensors, writeSafetensors } from '../checkpoint/safetensors.js';
import { tensorToFloat32 } from '../checkpoint/tensor.js';
import { fail } from '../util/errors.js';
import { Tensor, formatShape, sameShape } from '../engine/tensor.js';
import type { ParamSpec } from '../model/stunet.js';
import { SgdOptimizer, type SgdOptions } from './optimizer.js';

/** The optimizer state dict inside an official v1 (`optimizer_state_dict`) or v2 (`optimizer_state`) checkpoint. */
export function torchOptimizerState(checkpoint: PyValue, what = 'checkpoint'): PyDict {
  if (!(checkpoint instanceof PyDict)) fail('BAD_INPUT', `${what}: not a checkpoint dict`);
  const s = checkpoint.get('optimizer_state_dict') ?? checkpoint.get('optimizer_state');
  if (!(s instanceof PyDict))
    fail('NOT_FOUND', `${what}: no optimizer state ('optimizer_state_dict' (v1) or 'optimizer_state' (v2))`);
  return s;
}

function num(v: PyValue | undefined, key: string, what: string): number {
  const x = v instanceof PyFloat ? v.value : v;
  if (typeof x === 'number') return x;
  if (typeof x === 'boolean') return x ? 1 : 0;
  fail('BAD_INPUT', `${what}: param_groups[0].${key} is not a number`);
}

/** torch SGD state dict → optimizer with its hyper-parameters and momentum buffers by official key. */
export function sgdFromTorch(
  state: PyDict,
  specs: readonly ParamSpec[],
  what = 'optimizer state',
): SgdOptimizer {
  const groups = state.get('param_groups');
  const group = Array.isArray(groups) ? groups[0] : undefined;
  if (!Array.isArray(groups) || groups.length !== 1 || !(group instanceof PyDict))
    fail('UNSUPPORTED', `${what}: expected exactly one param group (nnU-Net's SGD)`);
  const indices = group.get('params');
  if (!Array.isArray(indices) || indices.length !== specs.length)
    fail(
      'SHAPE_MISMATCH',
      `${what}: the optimizer holds ${Array.isArray(indices) ? indices.length : '?'} parameters, the network ${specs.length}`,
    );
  const dampening = num(group.get('dampening'), 'dampening', what);
  if (dampening !== 0) fail('UNSUPPORTED', `${what}: SGD dampening ${dampening} (nnU-Net uses 0)`);
  const options: SgdOptions = {
    lr: num(group.get('lr'), 'lr', what),
    momentum: num(group.get('momentum'), 'momentum', what),
    weightDecay: num(group.get('weight_decay'), 'weight_decay', what),
    nesterov: group.get('nesterov') === true,
  };
  const opt = new SgdOptimizer(options);
  const perParam = state.get('state');
  if (!(perParam instanceof PyDict)) fail('BAD_INPUT', `${what}: 'state' is not a dict`);
  for (const [k, v] of perParam) {
    const pos = indices.indexOf(k);
    const spec = specs[pos];
    if (spec === undefined) fail('BAD_INPUT', `${what}: state for unknown parameter index ${pyRepr(k)}`);
    const buf = v instanceof PyDict ? v.get('momentum_buffer') : undefined;
    if (buf === null || buf === undefined) continue; // torch writes None when momentum is 0
    if (!(buf instanceof TorchTensor))
      fail('BAD_INPUT', `${what}: momentum_buffer of ${spec.name} is not a tensor`);
    if (!sameShape(buf.shape, spec.shape))
      fail(
        'SHAPE_MISMATCH',
        `${what}: momentum_buffer of ${spec.name} has shape ${formatShape(buf.shape)}, the parameter ${formatShape(spec.shape)}`,
      );
    opt.momentumBuffers.set(spec.name, new Tensor(spec.shape, tensorToFloat32(buf)));
  }
  return opt;
}

/** Optimizer → torch SGD state dict (what torch.optim.SGD.load_state_dict accepts). */
export function sgdToTorch(opt: SgdOptimizer, specs: readonly ParamSpec[]): PyDict {
  const state = new PyDict();
  specs.forEach((s, i) => {
    const buf = opt.momentumBuffers.get(s.name);
    if (buf === undefined) return;
    state.set(
      i,
      new PyDict(false, [['momentum_buffer', { dtype: 'float32', shape: buf.shape, data: buf.data }]]),
    );
  });
  const o = opt.options;
  const group = new PyDict(false, [
    ['lr', new PyFloat(o.lr)],
    ['momentum', new PyFloat(o.momentum)],
    ['dampening', 0],
    ['weight_decay', new PyFloat(o.weightDecay)],
    ['nesterov', o.nesterov],
    ['maximize', false],
    ['foreach', null],
    ['differentiable', false],
    ['params', specs.map((_, i) => i)],
  ]);
  return new PyDict(false, [
    ['state', state],
    ['param_groups', [group]],
  ]);
}

/** Our optimizer file: momentum buffers by official key; hyper-parameters in the metadata. */
export function serializeSgd(opt: SgdOptimizer): Uint8Array {
  const tensors = [...opt.momentumBuffers].map(
    ([k, t]) => [k, { dtype: 'float32' as const, shape: t.shape, data: t.data }] as const,
  );
  return writeSafetensors(tensors, { format: 'stunet-sgd', options: JSON.stringify(opt.options) });
}

export function parseSgd(bytes: Uint8Array): SgdOptimizer {
  const f = readSafetensors(bytes);
  if (f.metadata.get('format') !== 'stunet-sgd')
    fail('BAD_INPUT', 'optimizer file: not a stunet SGD state (metadata format is not stunet-sgd)');
  const options = JSON.parse(f.metadata.get('options') ?? '{}') as Partial<SgdOptions>;
  const { lr, momentum, weightDecay, nesterov } = options;
  if (
    typeof lr !== 'number' ||
    typeof momentum !== 'number' ||
    typeof weightDecay !== 'number' ||
    typeof nesterov !== 'boolean'
  )
    fail('BAD_INPUT', 'optimizer file: options metadata lacks lr, momentum, weightDecay or nesterov');
  const opt = new SgdOptimizer({ lr, momentum, weightDecay, nesterov });
  for (const [k, t] of f.tensors) opt.momentumBuffers.set(k, new Tensor(t.shape, tensorToFloat32(t)));
  return opt;
}
