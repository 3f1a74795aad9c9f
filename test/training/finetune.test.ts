import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor } from '../../src/engine/tensor.js';
import type { StunetArchitecture } from '../../src/model/architecture.js';
import { initWeightsHe } from '../../src/model/init.js';
import { StuNet } from '../../src/model/stunet.js';
import { repeatInputChannels, STEM_KEYS, transferPretrained } from '../../src/training/finetune.js';

const base: StunetArchitecture = {
  inputChannels: 1,
  numClasses: 5,
  depth: [1, 1, 1],
  dims: [4, 8, 16],
  poolOpKernelSizes: [
    [2, 2, 2],
    [2, 2, 2],
  ],
  convKernelSizes: [
    [3, 3, 3],
    [3, 3, 3],
    [3, 3, 3],
  ],
};

test('repeatInputChannels = torch w.repeat(1, times, 1, 1, 1)', () => {
  const w = new Tensor([2, 2, 1, 1, 1], Float32Array.from([1, 2, 3, 4]));
  const r = repeatInputChannels(w, 3);
  assert.deepEqual(r.shape, [2, 6, 1, 1, 1]);
  assert.deepEqual([...r.data], [1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4]);
});

test('fine-tuning 1 → 2 channels, 5 → 3 classes: stem repeated, heads fresh, the rest pre-trained', () => {
  const pre = initWeightsHe(new StuNet(base), 11);
  const target: StunetArchitecture = { ...base, inputChannels: 2, numClasses: 3 };
  const seed = 4;
  const r = transferPretrained(pre, target, seed);
  const fresh = initWeightsHe(new StuNet(target), seed);
  assert.deepEqual(r.repeated, [...STEM_KEYS]);
  for (const key of STEM_KEYS) {
    const p = pre.get(key) as Tensor;
    const got = r.weights.get(key) as Tensor;
    assert.deepEqual(got.shape, [p.shape[0], 2, ...p.shape.slice(2)]);
    assert.deepEqual(got.data, repeatInputChannels(p, 2).data);
  }
  let heads = 0;
  for (const [key, t] of r.weights) {
    if (key.startsWith('seg_outputs')) {
      heads++;
      assert.deepEqual(t.data, (fresh.get(key) as Tensor).data, `${key} is the fresh He init`);
      assert.ok(r.skipped.some((s) => s.key === key));
    } else if (!(STEM_KEYS as readonly string[]).includes(key)) {
      assert.deepEqual(t.data, (pre.get(key) as Tensor).data, `${key} is pre-trained`);
    }
  }
  assert.equal(heads, 4); // 2 decoder stages × (weight, bias)
  assert.equal(r.loaded.length + r.skipped.length, r.weights.size);
});

test('fine-tuning refuses a channel count that is not a multiple of the pre-trained one', () => {
  const pre = initWeightsHe(new StuNet({ ...base, inputChannels: 2 }), 1);
  assert.throws(() => transferPretrained(pre, { ...base, inputChannels: 3 }, 0), /not a multiple/);
});
