/**
 * Loss parity with the official nnU-Net v1 MultipleOutputLoss2(DC_and_CE_loss) (test/fixtures/loss, from
 * shared/reference/loss): loss values and d loss / d logits of every head, cases A–D; DS weights, scales
 * and down-sampled targets as nnUNetTrainerV2 computes them.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { tensorFromNpy } from '../../src/io/npy-tensor.js';
import { downsampleSegForDs, labelMapFromNpy } from '../../src/augmentation/deep-supervision.js';
import { deepSupervisionScales, deepSupervisionWeights } from '../../src/model/deep-supervision.js';
import { diceCeLoss, multipleOutputLoss } from '../../src/training/loss.js';
import { expectClose, fixturePath, loadNpyFixture } from '../helpers.js';
import type { Vec3 } from '../../src/util/vec3.js';

interface LossCase {
  targets: string;
  batch_dice: boolean;
  loss_float64: number;
  grad_files?: string[];
  components_float64: { output: number; soft_dice_term: number; ce_term: number }[];
}
interface LossResults {
  ds_loss_weights: number[];
  deep_supervision_scales: number[][];
  cases: Record<string, LossCase>;
}
const results = JSON.parse(readFileSync(fixturePath('loss', 'results.json'), 'utf8')) as LossResults;
const T1_POOLS: Vec3[] = [
  [2, 2, 2],
  [2, 2, 2],
  [2, 2, 2],
  [2, 2, 2],
  [1, 1, 2],
];
const logits = [0, 1, 2, 3, 4].map((i) => tensorFromNpy(loadNpyFixture('loss', `logits_${i}.npy`)));
const targets = (prefix: string) =>
  [0, 1, 2, 3, 4].map((i) => labelMapFromNpy(loadNpyFixture('loss', `${prefix}_${i}.npy`)));

test('deep-supervision weights and scales are nnUNetTrainerV2’s', () => {
  expectClose(deepSupervisionWeights(5), results.ds_loss_weights, { rtol: 1e-15, label: 'weights' });
  expectClose(deepSupervisionScales(T1_POOLS).flat(), results.deep_supervision_scales.flat(), {
    label: 'scales',
  });
});

for (const prefix of ['targets_all', 'targets_absent']) {
  test(`${prefix}: downsampled targets equal downsample_seg_for_ds_transform2 exactly`, () => {
    const t = targets(prefix);
    const ds = downsampleSegForDs(t[0] as (typeof t)[0], deepSupervisionScales(T1_POOLS));
    ds.forEach((d, i) => {
      assert.deepEqual(d.shape, t[i]?.shape);
      expectClose(Array.from(d.data), Array.from(t[i]?.data ?? []), { label: `${prefix} ${i}` });
    });
  });
}

for (const [name, c] of Object.entries(results.cases)) {
  test(`loss case ${name}: value, per-head terms and gradients match the official loss`, () => {
    const t = targets(c.targets.replace('_*', ''));
    const opts = { batchDice: c.batch_dice };
    const r = multipleOutputLoss(logits, t, deepSupervisionWeights(5), opts);
    expectClose([r.loss], [c.loss_float64], { rtol: 1e-5, label: `${name} loss` });
    // Every head's own terms, including the weight-0 one the wrapper skips.
    c.components_float64.forEach((comp, i) => {
      const h = diceCeLoss(logits[i] as (typeof logits)[0], t[i] as (typeof t)[0], opts);
      expectClose([h.dice, h.ce], [comp.soft_dice_term, comp.ce_term], {
        rtol: 1e-5,
        label: `${name} head ${i}`,
      });
    });
    (c.grad_files ?? []).forEach((file, i) => {
      const expected = loadNpyFixture('loss', file).data as Float32Array;
      const got = r.perOutput[i]?.grad.data ?? new Float32Array(expected.length); // skipped head: zero grad
      expectClose(got, expected, { maxRelTol: 1e-5, label: `${name} grad ${i}` });
    });
  });
}

for (const batchDice of [false, true]) {
  test(`Dice+CE gradient equals finite differences (batch_dice ${batchDice}, weight 0.4)`, () => {
    const z = tensorFromNpy({
      dtype: 'float32',
      shape: [2, 3, 2, 2, 3],
      data: Float32Array.from({ length: 72 }, (_, i) => Math.sin(i * 1.3) * 2),
    });
    const y = { shape: [2, 1, 2, 2, 3], data: Array.from({ length: 24 }, (_, i) => (i * 5) % 3) };
    const opts = { batchDice };
    const g = diceCeLoss(z, y, opts, 0.4).grad;
    const fd = new Float64Array(z.size);
    const h = 1e-3;
    for (let i = 0; i < z.size; i++) {
      const v = z.data[i] as number;
      z.data[i] = v + h;
      const [up, lp] = [z.data[i] as number, diceCeLoss(z, y, opts).loss];
      z.data[i] = v - h;
      const [down, lm] = [z.data[i] as number, diceCeLoss(z, y, opts).loss];
      z.data[i] = v;
      fd[i] = (0.4 * (lp - lm)) / (up - down);
    }
    expectClose(g.data, fd, { maxRelTol: 1e-3, label: 'grad' });
  });
}

test('a target that does not match the logits, or holds a label ≥ C, is refused', () => {
  const z = tensorFromNpy({ dtype: 'float32', shape: [1, 2, 1, 1, 2], data: new Float32Array(4) });
  assert.throws(
    () => diceCeLoss(z, { shape: [1, 1, 1, 1, 3], data: [0, 1, 1] }, { batchDice: false }),
    /must be \(N, 1, D, H, W\)/,
  );
  assert.throws(
    () => diceCeLoss(z, { shape: [1, 1, 1, 1, 2], data: [0, 2] }, { batchDice: false }),
    /label 2 .* not a class in \[0, 2\)/,
  );
});
