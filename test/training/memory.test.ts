/**
 * The up-front training memory estimate: its replay of the backward pass matches what autograd actually
 * holds, and a step that would not fit fails before it starts, naming needed and available bytes.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadNnunetV1 } from '../../src/checkpoint/nnunet-read.js';
import { type BackwardStats, backward } from '../../src/engine/autograd.js';
import { refBackend } from '../../src/engine/backends/ref/index.js';
import { Engine, Tape, TensorParams } from '../../src/engine/engine.js';
import { Tensor } from '../../src/engine/tensor.js';
import { scaleArchitecture } from '../../src/model/scales.js';
import { StuNet } from '../../src/model/stunet.js';
import { downsampleSegForDs } from '../../src/augmentation/deep-supervision.js';
import { deepSupervisionScales, deepSupervisionWeights } from '../../src/model/deep-supervision.js';
import { multipleOutputLoss } from '../../src/training/loss.js';
import { estimateTrainingMemory } from '../../src/model/memory.js';
import { NNUNET_SGD, SgdOptimizer } from '../../src/training/optimizer.js';
import { createTrainingState, trainStep } from '../../src/training/train-step.js';
import { fixturePath } from '../helpers.js';

const bytes = (...p: string[]): Uint8Array => new Uint8Array(readFileSync(fixturePath(...p)));
const t1 = () => loadNnunetV1(bytes('stunet-forward', 'T1.model'), bytes('stunet-forward', 'T1.model.pkl'));
const SHAPE = [2, 1, 16, 32, 64];

function batch(arch: ReturnType<typeof t1>['arch']) {
  const x = new Tensor(SHAPE);
  for (let i = 0; i < x.size; i++) x.data[i] = Math.sin(i * 0.37) * 3;
  const labels = {
    shape: [2, 1, 16, 32, 64],
    data: Float32Array.from({ length: 2 * 16 * 32 * 64 }, (_, i) => (i * 7) % 5),
  };
  return { x, targets: downsampleSegForDs(labels, deepSupervisionScales(arch.poolOpKernelSizes)) };
}

test('the estimate replays autograd exactly: peak live gradient bytes on T1', () => {
  const model = t1();
  const { x, targets } = batch(model.arch);
  const engine = new Engine(refBackend);
  engine.tape = new Tape();
  const outputs = new StuNet(model.arch).forward(engine, new TensorParams(model.weights), x, {
    deepSupervision: true,
  });
  const { perOutput } = multipleOutputLoss(outputs, targets, deepSupervisionWeights(5), { batchDice: false });
  const seeds = perOutput.flatMap((r, i) => (r === null ? [] : [[outputs[i] as Tensor, r.grad] as const]));
  const stats: BackwardStats = { peakGradBytes: 0 };
  backward(engine.tape, seeds, [...model.weights.values()], refBackend, stats);
  const est = estimateTrainingMemory(model.arch, SHAPE);
  assert.equal(est.backwardPeakGradBytes, stats.peakGradBytes);
  assert.equal(est.parameterBytes, 4 * new StuNet(model.arch).parameterCount());
  assert.ok(est.peakBytes >= 2 * est.parameterBytes + est.activationBytes);
});

test('a step that does not fit fails before it starts, with needed and available bytes', () => {
  const model = t1();
  const { x, targets } = batch(model.arch);
  const need = estimateTrainingMemory(model.arch, SHAPE).peakBytes;
  const before = Float32Array.from(model.weights.get('seg_outputs.4.weight')?.data ?? []);
  const state = createTrainingState(model.arch, model.weights, refBackend, new SgdOptimizer(NNUNET_SGD), {
    loss: { batchDice: false },
    clipNorm: 12,
    memoryLimitBytes: need - 1,
  });
  assert.throws(
    () => trainStep(state, x, targets),
    new RegExp(`needs .*\\(${need} bytes\\) but only .*\\(${need - 1} bytes\\)`),
  );
  assert.deepEqual(model.weights.get('seg_outputs.4.weight')?.data, before);
});

test('STU-Net-S at 128³, batch 2: estimate grows with the patch and counts every part', () => {
  const arch = scaleArchitecture('S');
  const small = estimateTrainingMemory(arch, [2, 1, 64, 64, 64]);
  const big = estimateTrainingMemory(arch, [2, 1, 128, 128, 128]);
  assert.ok(big.peakBytes > 7 * small.peakBytes);
  assert.equal(big.parameterBytes, 4 * 14_596_941);
  assert.ok(big.activationBytes > 1e9, `activations ${big.activationBytes}`);
});
