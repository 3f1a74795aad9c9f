/**
 * SGD (torch semantics), clip_grad_norm_, poly LR, and the optimizer state mapping to/from the official
 * v1 `optimizer_state_dict` (T1.model holds a real one, after one step) and our own file.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadNnunetV1 } from '../../src/checkpoint/nnunet-read.js';
import { PyDict } from '../../src/checkpoint/py-values.js';
import { loadTorch } from '../../src/checkpoint/torch-load.js';
import { saveTorch } from '../../src/checkpoint/torch-save.js';
import { refBackend } from '../../src/engine/backends/ref/index.js';
import { Tensor } from '../../src/engine/tensor.js';
import { StuNet } from '../../src/model/stunet.js';
import { NNUNET_SGD, SgdOptimizer, clipGradNorm } from '../../src/training/optimizer.js';
import {
  parseSgd,
  serializeSgd,
  sgdFromTorch,
  sgdToTorch,
  torchOptimizerState,
} from '../../src/training/optimizer-state.js';
import { lrAfterEpoch, polyLr } from '../../src/training/schedule.js';
import { expectClose, fixturePath } from '../helpers.js';

const bytes = (...p: string[]): Uint8Array => new Uint8Array(readFileSync(fixturePath(...p)));

test('SGD nesterov step follows torch: g = grad + wd·p, buf = μ·buf + g, p −= lr·(g + μ·buf)', () => {
  const opts = { lr: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true };
  const opt = new SgdOptimizer(opts);
  const p = Tensor.fromArray([3], [1, -2, 0.5]);
  const grads = [Tensor.fromArray([3], [0.3, 0.1, -0.2]), Tensor.fromArray([3], [-0.1, 0.4, 0.05])];
  // float64 reference of two steps
  const pr = [1, -2, 0.5];
  let buf: number[] | null = null;
  for (const g of grads) {
    const d = pr.map((v, i) => (g.data[i] as number) + 0.01 * v);
    buf = buf === null ? d : buf.map((b, i) => 0.9 * b + (d[i] as number));
    const b2 = buf;
    pr.forEach((v, i) => (pr[i] = v - 0.1 * ((d[i] as number) + 0.9 * (b2[i] as number))));
    opt.step(new Map([['p', p]]), new Map([['p', g]]), refBackend);
  }
  expectClose(p.data, pr, { rtol: 1e-6, label: 'param' });
  expectClose(opt.momentumBuffers.get('p')?.data ?? [], buf ?? [], { rtol: 1e-6, label: 'buffer' });
});

test('a parameter without a gradient is skipped: no weight decay, no buffer (torch grad None)', () => {
  const opt = new SgdOptimizer(NNUNET_SGD);
  const p = Tensor.fromArray([2], [1, 2]);
  opt.step(new Map([['p', p]]), new Map(), refBackend);
  assert.deepEqual([...p.data], [1, 2]);
  assert.equal(opt.momentumBuffers.size, 0);
});

test('clipGradNorm: total 2-norm; scales by max/(total + 1e-6) only above max', () => {
  const a = Tensor.fromArray([2], [3, 0]);
  const b = Tensor.fromArray([1], [4]);
  assert.equal(clipGradNorm([a, b], 10), 5);
  assert.deepEqual([...a.data, ...b.data], [3, 0, 4]);
  assert.equal(clipGradNorm([a, b], 1), 5);
  expectClose([...a.data, ...b.data], [3 / (5 + 1e-6), 0, 4 / (5 + 1e-6)], { rtol: 1e-6 });
});

test('poly LR: lr0·(1 − e/max)^0.9; maybe_update_lr sets the next epoch’s', () => {
  assert.equal(polyLr(0, 1000, 0.01), 0.01);
  expectClose([polyLr(500, 1000, 0.01)], [0.01 * 0.5 ** 0.9], { rtol: 1e-15 });
  assert.equal(polyLr(1000, 1000, 0.01), 0);
  assert.equal(lrAfterEpoch(0, 1000, 0.01), polyLr(1, 1000, 0.01));
  assert.throws(() => polyLr(1001, 1000, 0.01), /epoch 1001/);
});

test('T1.model: the official v1 optimizer_state_dict maps to momentum buffers by official key', () => {
  const ckpt = loadTorch(bytes('stunet-forward', 'T1.model'));
  const model = loadNnunetV1(bytes('stunet-forward', 'T1.model'), bytes('stunet-forward', 'T1.model.pkl'));
  const specs = new StuNet(model.arch).parameterSpecs();
  const opt = sgdFromTorch(torchOptimizerState(ckpt), specs);
  assert.deepEqual(opt.options, { lr: 0.01, momentum: 0.99, weightDecay: 3e-5, nesterov: true });
  assert.equal(opt.momentumBuffers.size, 128);
  assert.ok(
    !opt.momentumBuffers.has('seg_outputs.0.weight') && !opt.momentumBuffers.has('seg_outputs.0.bias'),
  );
  for (const s of specs) {
    const b = opt.momentumBuffers.get(s.name);
    if (b !== undefined) assert.deepEqual(b.shape, s.shape, s.name);
  }
  // After one step from a fresh optimizer, buf = grad + wd·p, so it is non-zero for conv weights.
  const b0 = opt.momentumBuffers.get('conv_blocks_context.0.0.conv1.weight');
  assert.ok(b0 !== undefined && b0.data.some((v) => v !== 0));

  // torch format round trip (what a resumed official run loads) and our own file.
  const saved = saveTorch(new PyDict(false, [['optimizer_state_dict', sgdToTorch(opt, specs)]]));
  const back = sgdFromTorch(torchOptimizerState(loadTorch(saved)), specs);
  const ours = parseSgd(serializeSgd(opt));
  for (const o of [back, ours]) {
    assert.deepEqual(o.options, opt.options);
    assert.deepEqual([...o.momentumBuffers.keys()].sort(), [...opt.momentumBuffers.keys()].sort());
    for (const [k, t] of opt.momentumBuffers) assert.deepEqual(o.momentumBuffers.get(k)?.data, t.data, k);
  }
});

test('a state dict for another network is refused with both parameter counts', () => {
  const ckpt = loadTorch(bytes('stunet-forward', 'T1.model'));
  assert.throws(
    () => sgdFromTorch(torchOptimizerState(ckpt), [{ name: 'a', shape: [1] }]),
    /optimizer holds 130 parameters, the network 1/,
  );
});
