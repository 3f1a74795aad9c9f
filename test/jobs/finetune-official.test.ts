/**
 * Fine-tuning from the official checkpoints in test/fixtures/stunet-forward (written by the official
 * STU-Net code with PyTorch): T1.model (nnU-Net v1, 1 channel, 5 classes) onto a 3-class dataset through
 * `trainRun`, and T2_checkpoint_final.pth (nnU-Net v2, 2 channels, 3 classes) onto 4 channels, 2 classes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Tensor } from '../../src/engine/tensor.js';
import { loadModelFrom } from '../../src/node/model-source.js';
import { trainRun } from '../../src/node/train-host.js';
import { FINETUNE_LR, STEM_KEYS, transferPretrained } from '../../src/training/finetune.js';
import { fixturePath } from '../helpers.js';
import { syntheticCase, writeDataset } from '../planning/synthetic-dataset.js';

const T1 = fixturePath('stunet-forward', 'T1.model');
const T2 = fixturePath('stunet-forward', 'T2_checkpoint_final.pth');

function assertNonHeadsEqual(got: ReadonlyMap<string, Tensor>, pre: ReadonlyMap<string, Tensor>): number {
  let checked = 0;
  for (const [key, t] of got) {
    if (key.startsWith('seg_outputs') || (STEM_KEYS as readonly string[]).includes(key)) continue;
    assert.deepEqual(t.data, pre.get(key)?.data, `${key} equals the pre-trained tensor`);
    checked++;
  }
  return checked;
}

test('official v1 T1.model → 3 classes: step-0 weights are the pre-trained ones except the heads; it trains', async () => {
  const pre = loadModelFrom(T1);
  assert.equal(pre.arch.numClasses, 5);
  const target = { ...pre.arch, numClasses: 3 };
  const t = transferPretrained(pre.weights, target, 123);
  const checked = assertNonHeadsEqual(t.weights, pre.weights);
  assert.ok(checked > 40, `${checked} tensors compared`);
  for (const key of STEM_KEYS) assert.deepEqual(t.weights.get(key)?.data, pre.weights.get(key)?.data);
  for (const [key, w] of t.weights)
    if (key.startsWith('seg_outputs')) assert.equal(w.shape[0], 3, `${key} has 3 output classes`);

  const root = join(mkdtempSync(join(tmpdir(), 'stunet-ft-')), 'Dataset010_Ft');
  writeDataset(
    root,
    Array.from({ length: 5 }, (_, i) => syntheticCase(`c${i}`, i + 1, [32, 24, 20])),
  );
  const lines: string[] = [];
  const r = await trainRun({
    datasetDir: root,
    outDir: join(root, '..', 'run'),
    scale: 'S',
    depth: pre.arch.depth,
    dims: pre.arch.dims,
    pools: pre.arch.poolOpKernelSizes,
    patch: [16, 16, 32],
    batch: 2,
    epochs: 1,
    iters: 2,
    valBatches: 1,
    fold: 0,
    seed: 123,
    backend: 'wasm',
    threads: 1,
    workers: 0,
    fingerprintSamples: 'all',
    finalValidation: false,
    pretrained: T1,
    log: (l) => lines.push(l),
  });
  assert.ok(
    lines.some((l) => /pre-trained: \d+ tensors loaded, 0 stem tensors repeated, 10 re-initialised/.test(l)),
    lines.join('\n'),
  );
  const e = r.state.log[0];
  assert.ok(e !== undefined, 'one epoch logged');
  assert.ok(Number.isFinite(e.trainLoss), 'a finite training loss');
  assert.equal(e.lr, FINETUNE_LR);
  const trained = loadModelFrom(r.modelDir);
  assert.equal(trained.arch.numClasses, 3);
  // After two SGD steps at lr 1e-3 the body is still close to the pre-trained weights, but it moved.
  const w = 'conv_blocks_context.1.0.conv1.weight';
  const a = trained.weights.get(w)?.data ?? new Float32Array();
  const b = pre.weights.get(w)?.data ?? new Float32Array();
  let maxDiff = 0;
  for (let i = 0; i < a.length; i++)
    maxDiff = Math.max(maxDiff, Math.abs((a[i] as number) - (b[i] as number)));
  assert.ok(maxDiff > 0 && maxDiff < 0.05, `max |Δ| ${maxDiff}`);
});

test('official v2 T2_checkpoint_final.pth → 4 channels, 2 classes: stem repeated ×2, heads fresh, body kept', () => {
  const pre = loadModelFrom(T2);
  assert.equal(pre.arch.inputChannels, 2);
  const t = transferPretrained(pre.weights, { ...pre.arch, inputChannels: 4, numClasses: 2 }, 5);
  assert.deepEqual(t.repeated, [...STEM_KEYS]);
  assertNonHeadsEqual(t.weights, pre.weights);
  for (const key of STEM_KEYS) {
    const s = t.weights.get(key);
    assert.equal(s?.shape[1], 4);
  }
});
