import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli, tempDir } from './cli-helpers.js';

test('demo --only-data writes a valid nnU-Net dataset and reuses it when run again', () => {
  const out = tempDir();
  const args = ['demo', '--only-data', '--train-cases', '2', '--test-cases', '1', '--out', out];
  const r = runCli(args);
  assert.equal(r.status, 0, r.stderr);
  const ds = join(out, 'data', 'Dataset900_StunetPhantoms');
  assert.match(r.stdout, /2 training \+ 1 held-out cases/);
  for (const f of [
    'imagesTr/phantom_000_0000.nii.gz',
    'labelsTr/phantom_001.nii.gz',
    'imagesTs/phantom_002_0000.nii.gz',
    'labelsTs/phantom_002.nii.gz',
  ])
    assert.ok(existsSync(join(ds, f)), f);
  const v = runCli(['dataset', 'validate', ds]);
  assert.equal(v.status, 0, v.stdout + v.stderr);
  const again = runCli(args);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /\(reused\)/);
});

test('demo end to end on a tiny budget: summary.json, curve, previews, model, official checkpoint', () => {
  const out = tempDir();
  const r = runCli([
    'demo',
    '--train-cases',
    '2',
    '--test-cases',
    '1',
    '--epochs',
    '1',
    '--iters',
    '1',
    '--out',
    out,
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /mean Dice \d\.\d{3}/);
  assert.match(r.stdout, new RegExp(`results in ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
    metric_per_case: { metrics: Record<string, { Dice: number; NSD: number }> }[];
    mean: Record<string, unknown>;
  };
  assert.equal(summary.metric_per_case.length, 1);
  assert.deepEqual(Object.keys(summary.mean), ['1', '2', '3', '4', '5']);
  assert.ok('NSD' in (summary.metric_per_case[0]?.metrics['1'] ?? {}));
  for (const f of [
    'progress.png',
    'demo.json',
    'predictions/phantom_002.nii.gz',
    'predictions/phantom_002_preview.png',
    'train/fold_all/checkpoint_final/model.json',
    'model-torch-v1/demo.model',
    'model-torch-v1/demo.model.pkl',
  ])
    assert.ok(existsSync(join(out, f)), f);
});

test('demo refuses a bad option value with one error line', () => {
  const r = runCli(['demo', '--epochs', '0', '--out', tempDir()]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^error: --epochs: expected a positive integer/m);
});
