/**
 * Forward parity with the official STUNet.forward (PyTorch 1.13, CPU): T1 (v1 checkpoint) and T2 (v2
 * checkpoint), all five deep-supervision heads and the do_ds=False output, on both executors.
 * Criterion (issue): max |a − b| ≤ 1e-4 · max|b|.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadNnunetV1, loadNnunetV2 } from '../../src/checkpoint/nnunet-read.js';
import { tensorFromNpy } from '../../src/io/npy-tensor.js';
import type { LoadedModel } from '../../src/model/loaded-model.js';
import { createNetworkRunner, type Executor } from '../../src/jobs/network.js';
import { nodeRuntime } from '../../src/node/runtime.js';
import { expectClose, fixturePath, loadNpyFixture } from '../helpers.js';

const bytes = (...p: string[]): Uint8Array => new Uint8Array(readFileSync(fixturePath(...p)));

const models: Record<'T1' | 'T2', () => LoadedModel> = {
  T1: () =>
    loadNnunetV1(bytes('stunet-forward', 'T1.model'), bytes('stunet-forward', 'T1.model.pkl'), 'T1.model'),
  T2: () => loadNnunetV2(bytes('stunet-forward', 'T2_checkpoint_final.pth'), {}, 'T2_checkpoint_final.pth'),
};

for (const name of ['T1', 'T2'] as const) {
  for (const executor of ['ref', 'ort'] as Executor[]) {
    test(`${name} forward on ${executor} equals the official outputs (5 heads and do_ds=False)`, async () => {
      const model = models[name]();
      const x = tensorFromNpy(loadNpyFixture('stunet-forward', name, 'input.npy'));
      const ds = await createNetworkRunner(model, nodeRuntime, {
        executor,
        deepSupervision: true,
        threads: 2,
      });
      const heads = await ds.run(x);
      await ds.close();
      assert.equal(heads.length, 5);
      heads.forEach((h, i) => {
        const ref = loadNpyFixture('stunet-forward', name, `ds_out_${i}.npy`);
        assert.deepEqual(h.shape, ref.shape);
        expectClose(h.data, ref.data as Float32Array, {
          maxRelTol: 1e-4,
          label: `${name} ${executor} ds_out_${i}`,
        });
      });
      const plain = await createNetworkRunner(model, nodeRuntime, {
        executor,
        deepSupervision: false,
        threads: 2,
      });
      const [out] = await plain.run(x);
      await plain.close();
      const ref = loadNpyFixture('stunet-forward', name, 'eval_nods.npy');
      assert.ok(out !== undefined);
      assert.deepEqual(out.shape, ref.shape);
      expectClose(out.data, ref.data as Float32Array, {
        maxRelTol: 1e-4,
        label: `${name} ${executor} eval_nods`,
      });
    });
  }
}

test('T1/T2 architectures are recovered from the checkpoints as the manifest describes', () => {
  const t1 = models.T1();
  assert.deepEqual(t1.arch.dims, [4, 8, 16, 24, 32, 32]);
  assert.deepEqual(t1.arch.depth, [1, 1, 1, 1, 1, 1]);
  assert.equal(t1.arch.numClasses, 5);
  assert.equal(t1.meta.trainerName, 'STUNetTrainer_T1fixture');
  const t2 = models.T2();
  assert.deepEqual(t2.arch.dims, [4, 8, 8, 16, 16, 16]);
  assert.deepEqual(t2.arch.depth, [2, 2, 2, 2, 2, 2]);
  assert.equal(t2.arch.inputChannels, 2);
  assert.deepEqual(t2.arch.poolOpKernelSizes, [
    [1, 2, 2],
    [2, 2, 2],
    [2, 2, 2],
    [2, 2, 2],
    [1, 1, 2],
  ]);
  assert.equal(t2.meta.trainerName, 'STUNetTrainer');
  assert.equal(t2.meta.aggregation, 'v2');
  assert.equal(t1.meta.aggregation, 'v1');
});
