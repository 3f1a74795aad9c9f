import assert from 'node:assert/strict';
import { tinyArchitecture } from '../helpers.js';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { initWeightsHe } from '../../src/model/init.js';
import { defaultMeta } from '../../src/model/loaded-model.js';
import { StuNet } from '../../src/model/stunet.js';
import { saveModelFolder } from '../../src/node/model-source.js';
import { serializePlans } from '../../src/planning/plans.js';
import { totalsegPresetPlans } from '../../src/planning/presets.js';
import { syntheticCase, writeDataset } from '../planning/synthetic-dataset.js';
import { runCli, tempDir } from './cli-helpers.js';

const TINY = ['--scale', 'S', '--depth', '1,1,1', '--dims', '4,8,16', '--pool', '2,2,2/2,2,2'];
const FAST = ['--patch', '16,16,16', '--batch', '2', '--epochs', '1', '--iters', '2', '--val-batches', '1'];
const RUN = ['--backend', 'wasm', '--threads', '1', '--workers', '0', '--fingerprint-samples', 'all'];

function dataset(channels: number): string {
  const root = join(tempDir(), 'Dataset003_Cli');
  writeDataset(
    root,
    Array.from({ length: 5 }, (_, i) => syntheticCase(`c${i}`, i + 1, [24, 24, 24], channels)),
  );
  return root;
}

test('stunet train → a model folder that stunet predict -m takes', () => {
  const ds = dataset(1);
  const out = join(tempDir(), 'run');
  const r = runCli(['train', '--dataset', ds, ...TINY, ...FAST, ...RUN, '--no-tta', '-o', out]);
  assert.equal(r.status, 0, r.stderr);
  // the plan and network first, an estimate after the first iteration, epochs numbered as the bar, the final Dice
  assert.match(
    r.stdout,
    /^plan: patch 16×16×16, batch 2, spacing .* mm, normalization .*; 4 training \/ 1 validation case\(s\)$/m,
  );
  assert.match(
    r.stdout,
    /^network: STU-Net dims 4,8,16, depth 1,1,1, pools 2,2,2\/2,2,2, 0\.\d\d M parameters; 1 epochs × 2 iterations$/m,
  );
  assert.match(
    r.stdout,
    /^estimated: [\d.]+ s per iteration, \d+s per epoch, \d+s for the 1 epoch\(s\) to go$/m,
  );
  assert.match(r.stdout, /^epoch 1\/1: train loss -?\d/m);
  assert.doesNotMatch(r.stdout, /nan/);
  assert.match(r.stdout, /^validation: mean Dice \d\.\d{4} over 1 case\(s\) \(.*summary\.json\)$/m);
  const model = join(out, 'fold_0', 'checkpoint_final');
  assert.ok(existsSync(join(out, 'fold_0', 'validation', 'summary.json')));
  assert.equal(
    readFileSync(join(out, 'fold_0', 'log.jsonl'), 'utf8')
      .trim()
      .split('\n').length,
    1,
  );
  const pred = join(out, 'pred.nii.gz');
  const p = runCli([
    'predict',
    '-i',
    join(ds, 'imagesTr', 'c0_0000.nii.gz'),
    '-o',
    pred,
    '-m',
    model,
    '--backend',
    'wasm',
    '--threads',
    '1',
    '--no-tta',
  ]);
  assert.equal(p.status, 0, p.stderr);
  assert.ok(existsSync(pred));
});

test('stunet finetune: needs --pretrained; from a 1-channel model onto a 2-channel dataset', () => {
  const ds = dataset(2);
  const out = join(tempDir(), 'ft');
  const missing = runCli(['finetune', '--dataset', ds, '-o', out]);
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr, /--pretrained/);
  const arch = tinyArchitecture(7, [4, 8, 16]);
  const pre = join(tempDir(), 'pre');
  saveModelFolder(pre, { arch, weights: initWeightsHe(new StuNet(arch), 1), meta: defaultMeta() });
  const r = runCli([
    'finetune',
    '--dataset',
    ds,
    ...TINY,
    ...FAST,
    ...RUN,
    '--no-final-validation',
    '--pretrained',
    pre,
    '-o',
    out,
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /2 stem tensors repeated, 4 re-initialised/);
  const line = JSON.parse(readFileSync(join(out, 'fold_0', 'log.jsonl'), 'utf8').trim()) as { lr: number };
  assert.equal(line.lr, 1e-3);
});

test('stunet train --cases-in disk reads patches from the cache; a bad value is one error', () => {
  const ds = dataset(1);
  const out = join(tempDir(), 'disk');
  const args = ['train', '--dataset', ds, ...TINY, ...FAST, ...RUN, '--no-final-validation', '-o', out];
  const r = runCli([...args, '--cases-in', 'disk']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /cases are read patch by patch from the preprocessed cache/);
  const memOut = join(tempDir(), 'mem');
  const m = runCli([...args, '--cases-in', 'memory', '-o', memOut]);
  assert.equal(m.status, 0, m.stderr);
  assert.doesNotMatch(m.stdout, /patch by patch/);
  // bit-identical batches: the same losses and pseudo-Dice, epoch by epoch
  const epochs = (dir: string): string =>
    readFileSync(join(dir, 'fold_0', 'log.jsonl'), 'utf8').replace(/"seconds":[^,}]+/g, '');
  assert.equal(epochs(out), epochs(memOut));
  const bad = runCli([...args, '--cases-in', 'ram']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^error: --cases-in: use 'auto', 'memory' or 'disk', got 'ram'$/m);
});

test('stunet train refuses a run that does not fit in memory, naming both numbers', () => {
  const ds = dataset(1);
  const r = runCli([
    'train',
    '--dataset',
    ds,
    ...TINY,
    ...FAST,
    ...RUN,
    '--memory-gb',
    '0.0001',
    '-o',
    join(tempDir(), 'mem'),
  ]);
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    /^error: training needs .* bytes\) per step .* but only .*\(107374 bytes\) are available/m,
  );
});

test('stunet preprocess writes the cache and skips done cases on a second run', () => {
  const ds = dataset(1);
  const plans = join(tempDir(), 'plans.json');
  writeFileSync(plans, serializePlans(totalsegPresetPlans({ scale: 'S' })));
  const cache = join(tempDir(), 'cache');
  const a = runCli(['preprocess', ds, '--plans', plans, '-o', cache]);
  assert.equal(a.status, 0, a.stderr);
  assert.match(a.stdout, /5 case\(s\) preprocessed, 0 already done/);
  const b = runCli(['preprocess', ds, '--plans', plans, '-o', cache]);
  assert.match(b.stdout, /0 case\(s\) preprocessed, 5 already done/);
});

test('the architecture comes from the checkpoint: finetune and --continue need no --dims/--depth; a conflict names both', () => {
  const ds = dataset(1);
  const arch = tinyArchitecture(7, [4, 8, 16]);
  const pre = join(tempDir(), 'pre');
  saveModelFolder(pre, { arch, weights: initWeightsHe(new StuNet(arch), 1), meta: defaultMeta() });
  const POOL = ['--pool', '2,2,2/2,2,2'];
  const out = join(tempDir(), 'ft');
  const ft = runCli([
    'finetune',
    '--dataset',
    ds,
    ...POOL,
    ...FAST,
    ...RUN,
    '--no-final-validation',
    '--pretrained',
    pre,
    '-o',
    out,
  ]);
  assert.equal(ft.status, 0, ft.stderr);
  const model = JSON.parse(readFileSync(join(out, 'fold_0', 'checkpoint_final', 'model.json'), 'utf8')) as {
    architecture: { dims: number[]; depth: number[] };
  };
  assert.deepEqual(
    [model.architecture.dims, model.architecture.depth],
    [
      [4, 8, 16],
      [1, 1, 1],
    ],
  );

  const conflict = runCli([
    'finetune',
    '--dataset',
    ds,
    ...POOL,
    '--dims',
    '4,8,32',
    ...FAST,
    ...RUN,
    '--pretrained',
    pre,
    '-o',
    join(tempDir(), 'x'),
  ]);
  assert.equal(conflict.status, 1);
  assert.match(
    conflict.stderr,
    /^error: --dims 4,8,32 does not match the network of '.*pre' \(dims 4,8,16\)/,
  );

  const cont = runCli([
    'train',
    '--dataset',
    ds,
    ...POOL,
    ...FAST,
    ...RUN,
    '--no-final-validation',
    '--epochs',
    '2',
    '--continue',
    '-o',
    out,
  ]);
  assert.equal(cont.status, 0, cont.stderr);
  assert.match(cont.stdout, /continuing after epoch 1\/2/);
});
