/**
 * Three official training steps of T1 (test/fixtures/train-steps, from shared/reference/train-steps:
 * nnUNetTrainerV2.run_iteration on one fixed batch, fresh SGD lr 0.01 from T1.model's weights): each step's
 * loss and pre-clip gradient norm to 1e-4 relative, every parameter after steps 1 and 3 to 1e-4·max|param|.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadNnunetV1 } from '../../src/checkpoint/nnunet-read.js';
import { asStateDict, loadTorch } from '../../src/checkpoint/torch-load.js';
import { tensorToFloat32 } from '../../src/checkpoint/tensor.js';
import type { Backend } from '../../src/engine/backend.js';
import { refBackend } from '../../src/engine/backends/ref/index.js';
import { createNodeWasmBackend } from '../../src/node/wasm-pool.js';
import { tensorFromNpy } from '../../src/io/npy-tensor.js';
import { labelMapFromNpy } from '../../src/augmentation/deep-supervision.js';
import { NNUNET_SGD, SgdOptimizer } from '../../src/training/optimizer.js';
import { createTrainingState, trainStep } from '../../src/training/train-step.js';
import { expectClose, fixturePath, loadNpyFixture } from '../helpers.js';

const bytes = (...p: string[]): Uint8Array => new Uint8Array(readFileSync(fixturePath(...p)));
interface StepResults {
  losses_per_step: number[];
  grad_norm_before_clip_per_step: number[];
}
const results = JSON.parse(readFileSync(fixturePath('train-steps', 'results.json'), 'utf8')) as StepResults;

function expectWeights(params: ReadonlyMap<string, { data: Float32Array }>, file: string): void {
  const sd = asStateDict(loadTorch(bytes('train-steps', file)));
  assert.equal(sd.size, params.size);
  for (const [key, t] of sd) {
    const expected = tensorToFloat32(t);
    const got = params.get(key);
    assert.ok(got !== undefined, `no parameter ${key}`);
    expectClose(got.data, expected, { maxRelTol: 1e-4, atol: 1e-6, label: `${file} ${key}` });
  }
}

const BACKENDS: { name: string; create: () => Promise<Backend & { close?: () => Promise<void> }> }[] = [
  { name: 'ref', create: () => Promise.resolve(refBackend) },
  { name: 'wasm', create: () => createNodeWasmBackend({ threads: 2 }) },
];

for (const { name, create } of BACKENDS) {
  test(`T1 on ${name}: three training steps reproduce the official losses, grad norms and weights`, async () => {
    const backend = await create();
    const model = loadNnunetV1(bytes('stunet-forward', 'T1.model'), bytes('stunet-forward', 'T1.model.pkl'));
    const state = createTrainingState(model.arch, model.weights, backend, new SgdOptimizer(NNUNET_SGD), {
      loss: { batchDice: false },
      clipNorm: 12,
    });
    const x = tensorFromNpy(loadNpyFixture('train-steps', 'input.npy'));
    const targets = [0, 1, 2, 3, 4].map((i) =>
      labelMapFromNpy(loadNpyFixture('train-steps', `target_${i}.npy`)),
    );
    const head0 = Float32Array.from(model.weights.get('seg_outputs.0.weight')?.data ?? []);
    for (let step = 0; step < 3; step++) {
      const r = trainStep(state, x, targets);
      expectClose([r.loss], [results.losses_per_step[step] as number], {
        rtol: 1e-4,
        label: `loss ${step + 1}`,
      });
      expectClose([r.gradNorm], [results.grad_norm_before_clip_per_step[step] as number], {
        rtol: 1e-4,
        label: `grad norm ${step + 1}`,
      });
      assert.equal(r.updated, 128, 'the weight-0 head (seg_outputs.0) receives no gradient');
      if (step === 0) expectWeights(state.params, 'state_dict_step1.pth');
    }
    expectWeights(state.params, 'state_dict_step3.pth');
    assert.deepEqual(state.params.get('seg_outputs.0.weight')?.data, head0, 'seg_outputs.0 untouched');
    await backend.close?.();
  });
}
