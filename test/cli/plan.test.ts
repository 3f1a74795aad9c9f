import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { configurationTopology, parsePlans } from '../../src/planning/plans.js';
import { syntheticCase, writeDataset } from '../planning/synthetic-dataset.js';
import { runCli, tempDir } from './cli-helpers.js';

test('stunet plan: dataset preset with a scale, totalseg preset, and refusal of a bad dataset', () => {
  const root = tempDir();
  const dir = join(root, 'Dataset900_Tiny');
  writeDataset(dir, [syntheticCase('c0', 1), syntheticCase('c1', 2), syntheticCase('c2', 3)]);
  const out = join(root, 'plans.json');
  const r = runCli([
    'plan',
    dir,
    '--scale',
    'S',
    '--memory-gb',
    '4',
    '-o',
    out,
    '--fingerprint',
    join(root, 'fp.json'),
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /STU-Net-S: batch \d+/);
  const plans = parsePlans(readFileSync(out, 'utf8'));
  assert.equal(plans.dataset_name, 'Dataset900_Tiny');
  const c = plans.configurations['3d_fullres'];
  assert.ok(c !== undefined);
  assert.deepEqual(c.normalization_schemes, ['CTNormalization']);
  assert.deepEqual(c.spacing, [1, 1, 1]);
  const t = configurationTopology(plans);
  assert.equal(t.poolOpKernelSizes.length, 6);
  assert.deepEqual(
    t.convKernelSizes,
    Array.from({ length: 6 }, () => [3, 3, 3]),
  );
  const fp = JSON.parse(readFileSync(join(root, 'fp.json'), 'utf8')) as { shapes_after_crop: number[][] };
  assert.deepEqual(fp.shapes_after_crop, [
    [14, 21, 16],
    [14, 20, 16],
    [14, 22, 16],
  ]);

  const ts = runCli(['plan', dir, '--preset', 'totalseg', '-o', out]);
  assert.equal(ts.status, 0, ts.stderr);
  assert.deepEqual(configurationTopology(parsePlans(readFileSync(out, 'utf8'))).patchSize, [128, 128, 128]);

  writeDataset(dir, [syntheticCase('c0', 1)], { numTraining: 4 });
  const bad = runCli(['plan', dir, '-o', out]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /numTraining is 4/);
});
