/**
 * Fold ensembles as nnU-Net averages them: v1 the members' softmax probabilities, v2 their logits, each
 * member's sliding-window output (Gaussian-weighted, TTA-aggregated) averaged. Running the members tile by
 * tile into one accumulator must equal the mean of their separate predictions.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor } from '../../src/engine/tensor.js';
import { slidingWindowPredictFull, type SlidingWindowOptions } from '../../src/inference/sliding-window.js';
import { ensembleNetwork, type NetworkFn } from '../../src/inference/tta.js';
import { StunetError } from '../../src/util/errors.js';
import { expectClose } from '../helpers.js';

const K = 3;
function member(seed: number): NetworkFn {
  return (x: Tensor) => {
    const [n, c, z, y, w] = x.shape as [number, number, number, number, number];
    const s = z * y * w;
    const out = new Tensor([n, K, z, y, w]);
    for (let b = 0; b < n; b++)
      for (let k = 0; k < K; k++)
        for (let i = 0; i < s; i++)
          out.data[(b * K + k) * s + i] =
            Math.sin((k + 1 + seed) * (x.data[b * c * s + i] as number)) +
            0.05 * seed * k +
            0.01 * k * (i % 7);
    return Promise.resolve([out]);
  };
}

const input = {
  data: Float32Array.from({ length: 21 * 30 * 35 }, (_, i) => Math.cos(i * 0.37) * 2),
  shape: [1, 21, 30, 35],
};

for (const mode of ['v1', 'v2-upstream'] as const) {
  test(`an ensemble of 3 equals the mean of the members' predictions (${mode})`, async () => {
    const opts: SlidingWindowOptions = {
      patchSizeZYX: [8, 16, 16],
      mode,
      mirrorAxes: [0, 2],
      ...(mode === 'v1' ? {} : { accumulation: 'float32' as const }),
    };
    const members = [member(0), member(1), member(2)];
    const each = await Promise.all(members.map((m) => slidingWindowPredictFull(input, m, opts)));
    const mean = new Float32Array(each[0]?.data.length ?? 0).map(
      (_, i) => each.reduce((acc, e) => acc + (e.data[i] as number), 0) / each.length,
    );
    const together = await slidingWindowPredictFull(input, ensembleNetwork(members), opts);
    expectClose(together.data, mean, { atol: 2e-6, rtol: 2e-6, label: `${mode} ensemble` });
    assert.equal(together.tiles, each[0]?.tiles);
    // and it is not just one member's
    assert.ok(Math.abs((together.data[100] as number) - (each[0]?.data[100] as number)) > 1e-3);
  });
}

test('an ensemble is not called directly, and holds no ensemble', async () => {
  const e = ensembleNetwork([member(0)]);
  await assert.rejects(e(new Tensor([1, 1, 8, 16, 16])), (err: unknown) => err instanceof StunetError);
  assert.throws(() => ensembleNetwork([e]), /cannot hold ensembles/);
  assert.throws(() => ensembleNetwork([]), /at least one/);
});
