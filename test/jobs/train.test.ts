import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Tensor } from '../../src/engine/tensor.js';
import { decodePng } from '../../src/io/png.js';
import { loadModelFrom } from '../../src/node/model-source.js';
import { predictFile } from '../../src/node/predict-files.js';
import { createPredictorNetwork } from '../../src/jobs/network.js';
import { nodeRuntime } from '../../src/node/runtime.js';
import { trainRun, type TrainRunOptions } from '../../src/node/train-host.js';
import { parseTrainerState } from '../../src/training/checkpointing.js';
import {
  accumulateCounts,
  crossValidationSplits,
  diceFromCounts,
  emaDice,
  emptyCounts,
  numpyShuffledRange,
} from '../../src/training/validation.js';
import { tempDir } from '../cli/cli-helpers.js';
import { syntheticCase, writeDataset } from '../planning/synthetic-dataset.js';

test('split: np.random.RandomState(12345).shuffle(np.arange(n)), numbers from numpy', () => {
  assert.deepEqual(numpyShuffledRange(4, 12345), [0, 3, 1, 2]);
  assert.deepEqual(numpyShuffledRange(5, 12345), [0, 4, 3, 1, 2]);
  assert.deepEqual(numpyShuffledRange(10, 12345), [0, 7, 3, 9, 6, 4, 1, 8, 5, 2]);
  assert.deepEqual(
    numpyShuffledRange(24, 12345),
    [18, 8, 20, 12, 10, 3, 14, 17, 0, 15, 7, 13, 19, 11, 16, 6, 21, 23, 22, 9, 4, 1, 5, 2],
  );
});

test('split: KFold(5) over sorted ids — the first n % 5 folds one larger, train keys sorted', () => {
  const ids = ['c', 'a', 'j', 'b', 'e', 'd', 'g', 'f', 'i', 'h', 'k'];
  const s = crossValidationSplits(ids);
  assert.deepEqual(
    s.map((f) => f.val.length),
    [3, 2, 2, 2, 2],
  );
  assert.deepEqual(new Set(s.flatMap((f) => f.val)), new Set(ids));
  for (const f of s) {
    assert.deepEqual(f.train, [...f.train].sort());
    assert.equal(f.train.length + f.val.length, ids.length);
  }
  assert.throws(() => crossValidationSplits(['a', 'b']), /at least 5 cases/);
});

test('pseudo-Dice: TP/FP/FN per foreground class over argmax, EMA 0.9/0.1', () => {
  // N=1, K=3, 4 voxels: argmax = [0, 1, 2, 1]; target = [0, 1, 1, 2]
  const logits = new Tensor([1, 3, 1, 1, 4], Float32Array.from([5, 0, 0, 0, 0, 5, 0, 5, 0, 0, 5, 4]));
  const c = emptyCounts(3);
  accumulateCounts(c, logits, [0, 1, 1, 2]);
  assert.deepEqual([...c.tp], [1, 0]);
  assert.deepEqual([...c.fp], [1, 1]);
  assert.deepEqual([...c.fn], [1, 1]);
  assert.deepEqual(diceFromCounts(c), [0.5, 0]);
  assert.equal(emaDice(null, 0.5), 0.5);
  assert.ok(Math.abs(emaDice(0.5, 1) - 0.55) < 1e-12);
});

function tinyDataset(): string {
  const root = join(tempDir(), 'Dataset002_Tiny');
  writeDataset(
    root,
    Array.from({ length: 5 }, (_, i) => syntheticCase(`case${i}`, i + 1, [24, 24, 24])),
  );
  return root;
}

function tinyOptions(dataset: string, out: string): TrainRunOptions {
  return {
    datasetDir: dataset,
    outDir: out,
    scale: 'S',
    depth: [1, 1, 1],
    dims: [4, 8, 16],
    pools: [
      [2, 2, 2],
      [2, 2, 2],
    ],
    patch: [16, 16, 16],
    batch: 2,
    epochs: 2,
    iters: 3,
    valBatches: 1,
    fold: 0,
    backend: 'wasm',
    threads: 1,
    workers: 1,
    seed: 5,
    validationTta: false,
    fingerprintSamples: 'all',
  };
}

test('train: 2 epochs × 3 iterations write checkpoints, log, curve, summary and a predict-able model', async () => {
  const dataset = tinyDataset();
  const out = join(tempDir(), 'run');
  const r = await trainRun(tinyOptions(dataset, out));
  assert.equal(r.state.epoch, 2);
  for (const name of ['checkpoint_latest', 'checkpoint_best', 'checkpoint_final'])
    assert.deepEqual(readdirSync(join(r.foldDir, name)).sort(), [
      'model.json',
      'optimizer.safetensors',
      'trainer_state.json',
      'weights.safetensors',
    ]);
  const lines = readFileSync(join(r.foldDir, 'log.jsonl'), 'utf8').trim().split('\n');
  assert.equal(lines.length, 2);
  const first = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
  assert.equal(first['epoch'], 0);
  assert.equal(typeof first['trainLoss'], 'number');
  assert.ok(Number.isFinite(first['trainLoss']));
  assert.equal(first['lr'], 0.01);
  assert.equal((first['pseudoDice'] as unknown[]).length, 2);
  const png = decodePng(readFileSync(join(r.foldDir, 'progress.png')));
  assert.deepEqual([png.width, png.height], [640, 360]);
  assert.ok(r.summaryPath !== null);
  const summary = JSON.parse(readFileSync(r.summaryPath, 'utf8')) as { metric_per_case: unknown[] };
  assert.equal(summary.metric_per_case.length, 1);
  const state = parseTrainerState(readFileSync(join(r.modelDir, 'trainer_state.json'), 'utf8'));
  assert.equal(state.batchesConsumed, 6);

  const model = loadModelFrom(r.modelDir);
  assert.deepEqual(model.meta.patchSizeZYX, [16, 16, 16]);
  const predictor = await createPredictorNetwork(model, 'wasm', nodeRuntime, { threads: 1 });
  try {
    const rep = await predictFile(
      join(dataset, 'imagesTr', 'case0_0000.nii.gz'),
      join(out, 'pred', 'case0.nii.gz'),
      model,
      predictor.network,
      { mirrorAxes: [] },
    );
    assert.deepEqual(rep.shape, [24, 24, 24]);
  } finally {
    await predictor.close();
  }
});

test('train: 2 epochs then --continue for 1 equals 3 epochs straight, weights bit-identical', async () => {
  // the resumed run reads its patches from the cache on disk, the straight one holds the cases in memory
  const dataset = tinyDataset();
  const straight = join(tempDir(), 'straight');
  const resumed = join(tempDir(), 'resumed');
  const base = { ...tinyOptions(dataset, straight), epochs: 3, finalValidation: false };
  const a = await trainRun(base);
  const b1 = await trainRun({ ...base, outDir: resumed, stopAfterEpochs: 2, casesInMemory: false });
  assert.equal(b1.state.epoch, 2);
  const b = await trainRun({ ...base, outDir: resumed, continue: true, casesInMemory: false });
  assert.equal(b.state.epoch, 3);
  const weights = (dir: string): Buffer => readFileSync(join(dir, 'weights.safetensors'));
  assert.ok(weights(a.modelDir).equals(weights(b.modelDir)), 'final weights differ');
  const opt = (dir: string): Buffer => readFileSync(join(dir, 'optimizer.safetensors'));
  assert.ok(opt(a.modelDir).equals(opt(b.modelDir)), 'optimizer state differs');
  const losses = (s: typeof a.state): unknown[] => s.log.map((e) => [e.trainLoss, e.meanPseudoDice, e.lr]);
  assert.deepEqual(losses(b.state), losses(a.state));
});

test('train: refuses to start when a step needs more memory than available, with both numbers', async () => {
  const dataset = tinyDataset();
  await assert.rejects(
    trainRun({ ...tinyOptions(dataset, join(tempDir(), 'mem')), memoryLimitBytes: 1_000_000 }),
    /training needs [\d.]+ \w+ \((\d+) bytes\) per step .* but only [\d.]+ \w+ \(1000000 bytes\) are available/,
  );
});
