/** `stunet train-steps` end to end on the T1 fixture: two steps, losses.json and a loadable model folder. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadModelFrom } from '../../src/node/model-source.js';
import { runCli, tempDir } from './cli-helpers.js';
import { expectClose, fixturePath } from '../helpers.js';

test('train-steps writes losses.json (loss and pre-clip grad norm per step) and the updated weights', () => {
  const out = tempDir();
  const ds = [1, 2, 3, 4].map((i) => fixturePath('train-steps', `target_${i}.npy`)).join(',');
  const r = runCli([
    'train-steps',
    '-m',
    fixturePath('stunet-forward', 'T1.model'),
    '--input',
    fixturePath('train-steps', 'input.npy'),
    '--target',
    fixturePath('train-steps', 'target_0.npy'),
    '--target-ds',
    ds,
    '--steps',
    '1',
    '-o',
    out,
  ]);
  assert.equal(r.status, 0, r.stderr);
  const log = JSON.parse(readFileSync(join(out, 'losses.json'), 'utf8')) as {
    steps: { loss: number; gradNorm: number }[];
  };
  const expected = JSON.parse(readFileSync(fixturePath('train-steps', 'results.json'), 'utf8')) as {
    losses_per_step: number[];
    grad_norm_before_clip_per_step: number[];
  };
  expectClose(
    log.steps.map((s) => [s.loss, s.gradNorm]).flat(),
    [expected.losses_per_step[0] ?? 0, expected.grad_norm_before_clip_per_step[0] ?? 0],
    { rtol: 1e-4 },
  );
  const model = loadModelFrom(out);
  assert.equal(model.weights.size, 130);
});

test('train-steps refuses a bad backend name and a wrong number of --target-ds files', () => {
  const base = [
    'train-steps',
    '-m',
    fixturePath('stunet-forward', 'T1.model'),
    '--input',
    fixturePath('train-steps', 'input.npy'),
    '--target',
    fixturePath('train-steps', 'target_0.npy'),
    '-o',
    tempDir(),
  ];
  const bad = runCli([...base, '--backend', 'cuda']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--backend: use 'ref' or 'wasm'/);
  const few = runCli([...base, '--target-ds', fixturePath('train-steps', 'target_1.npy')]);
  assert.equal(few.status, 1);
  assert.match(few.stderr, /give 4 downsampled targets/);
});
