import { loadTorchFile } from '../../src/node/checkpoint-file.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  NpScalar,
  PyDevice,
  PyDict,
  PyTuple,
  TorchTensor,
  asStateDict,
  loadPickle,
  loadTorch,
  pyToJson,
  saveTorch,
  tensorToFloat32,
  type PyValue,
} from '../../src/checkpoint/index.js';
import { fixturePath } from '../helpers.js';
import { assertPyEqual } from './py-equal.js';

// Real nnU-Net checkpoints written by the official STU-Net code with PyTorch 1.13 (see the fixture README).

const read = (name: string): Buffer => readFileSync(fixturePath('stunet-forward', name));

function dict(v: PyValue | undefined, what: string): PyDict {
  assert.ok(v instanceof PyDict, `${what} is a dict`);
  return v;
}

test('T1.model (nnU-Net v1, zip, protocol 2) decodes: weights, optimizer state, numpy scalars', () => {
  const ckpt = dict(loadTorch(read('T1.model')), 'checkpoint');
  assert.deepEqual(ckpt.keys(), [
    'epoch',
    'state_dict',
    'optimizer_state_dict',
    'lr_scheduler_state_dict',
    'plot_stuff',
    'best_stuff',
    'amp_grad_scaler',
  ]);
  assert.equal(ckpt.get('epoch'), 1);
  const sdValue = ckpt.require('state_dict');
  const sd = asStateDict(sdValue);
  assert.equal(sd.size, 130);
  const w = sd.get('conv_blocks_context.0.0.conv1.weight');
  assert.ok(w instanceof TorchTensor);
  assert.equal(w.dtype, 'float32');
  assert.deepEqual([...w.shape], [4, 1, 3, 3, 3]);
  assert.ok(w.isContiguous);
  for (const [k, t] of sd) assert.ok(tensorToFloat32(t).every(Number.isFinite), `${k} is finite`);
  assert.ok(dict(sdValue, 'state_dict').metadata instanceof PyDict, 'state_dict keeps _metadata');

  const opt = dict(ckpt.get('optimizer_state_dict'), 'optimizer_state_dict');
  const state = dict(opt.get('state'), 'optimizer state');
  assert.equal(state.size, 128);
  const m0 = dict(state.get(0), 'state[0]').get('momentum_buffer');
  assert.ok(m0 instanceof TorchTensor);
  assert.deepEqual([...m0.shape], [4, 1, 3, 3, 3]);
  assert.notEqual(m0.storage, w.storage);

  const plot = ckpt.get('plot_stuff');
  assert.ok(plot instanceof PyTuple && plot.length === 4);
  const first = (plot.items[0] as PyValue[])[0];
  assert.ok(first instanceof NpScalar && first.dtype === 'float64' && first.descr === '<f8');
  const best = ckpt.get('best_stuff');
  assert.ok(best instanceof PyTuple);
  assert.equal(best.at(0), 0);
  assert.ok(best.at(1) instanceof NpScalar);
  assert.equal(dict(ckpt.get('amp_grad_scaler'), 'amp_grad_scaler').get('scale'), 65536);
});

test('T1.model.pkl (protocol 4, numpy arrays/scalars, OrderedDicts) matches its expected JSON', () => {
  const info = loadPickle(read('T1.model.pkl'));
  const expected = JSON.parse(read('T1.model.pkl.expected.json').toString('utf8')) as unknown;
  assert.deepEqual(pyToJson(info), expected);
  const plans = dict(dict(info, 'info').get('plans'), 'plans');
  assert.ok(dict(plans.get('normalization_schemes'), 'normalization_schemes').ordered);
  const stage = dict(dict(plans.get('plans_per_stage'), 'plans_per_stage').get(0), 'stage 0');
  assert.deepEqual(pyToJson(stage.require('patch_size')), [16, 32, 64]);
});

test('T2_checkpoint_final.pth (nnU-Net v2) decodes, including torch.device', () => {
  const ckpt = dict(loadTorch(read('T2_checkpoint_final.pth')), 'checkpoint');
  const sd = asStateDict(ckpt.require('network_weights'));
  const w = sd.get('conv_blocks_context.0.0.conv1.weight');
  assert.ok(w instanceof TorchTensor);
  assert.deepEqual([...w.shape], [4, 2, 3, 3, 3]);
  assert.equal(ckpt.get('trainer_name'), 'STUNetTrainer');
  assert.equal(ckpt.get('current_epoch'), 2);
  assert.deepEqual(pyToJson(ckpt.require('inference_allowed_mirroring_axes')), [0, 1, 2]);
  const device = dict(ckpt.get('init_args'), 'init_args').get('device');
  assert.ok(device instanceof PyDevice);
  assert.equal(device.toString(), 'cuda');
  assert.equal(ckpt.get('grad_scaler_state'), null);
});

test('loadTorchFile reads through a file handle and agrees with loadTorch', () => {
  const path = fixturePath('stunet-forward', 'T1.model');
  assertPyEqual(loadTorchFile(path), loadTorch(read('T1.model')));
});

test('saveTorch(loadTorch(T1.model)) round-trips every tensor bit-exact and the structure', () => {
  const original = loadTorch(read('T1.model'));
  const again = loadTorch(saveTorch(original));
  // numpy scalars come back as plain Python floats: the writer never emits numpy globals.
  assertPyEqual(again, original, 'root', true);
  const ckpt = dict(again, 'checkpoint');
  assert.ok(dict(ckpt.get('state_dict'), 'state_dict').metadata instanceof PyDict);
});

test('T2 round-trips through saveTorch, torch.device included', () => {
  const original = loadTorch(read('T2_checkpoint_final.pth'));
  assertPyEqual(loadTorch(saveTorch(original)), original);
});

test('a truncated checkpoint is a clear error', () => {
  const bytes = read('T1.model');
  assert.throws(
    () => loadTorch(bytes.subarray(0, bytes.length >> 1)),
    /truncated zip: end of central directory not found/,
  );
  assert.throws(() => loadTorch(bytes.subarray(0, bytes.length - 30)), /truncated zip|corrupt zip/);
  assert.throws(() => loadTorch(bytes.subarray(0, 3)), /not a torch checkpoint/);
});
