import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { image, save, syntheticCase, writeDataset } from '../planning/synthetic-dataset.js';
import { runCli, tempDir } from './cli-helpers.js';

const cases = (): ReturnType<typeof syntheticCase>[] => [
  syntheticCase('c0', 1),
  syntheticCase('c1', 2),
  syntheticCase('c2', 3),
];

test('stunet dataset validate: OK exits 0; problems are all listed and exit 1', () => {
  const dir = tempDir();
  writeDataset(dir, cases());
  const ok = runCli(['dataset', 'validate', dir]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /OK \(3 cases, 1 channel\(s\)\)/);

  rmSync(join(dir, 'labelsTr', 'c0.nii.gz'));
  save(join(dir, 'labelsTr', 'c1.nii.gz'), image(new Uint8Array(20 * 24 * 16).fill(7), [20, 24, 16]));
  const bad = runCli(['dataset', 'validate', dir]);
  assert.equal(bad.status, 1);
  assert.match(bad.stdout, /2 problem\(s\)/);
  assert.match(bad.stdout, /c0: labelsTr\/c0\.nii\.gz is missing/);
  assert.match(bad.stdout, /c1: .* label value\(s\) 7 not declared/);

  const json = runCli(['dataset', 'validate', dir, '--json']);
  assert.equal(json.status, 1);
  const report = JSON.parse(json.stdout) as { ok: boolean; cases: number; problems: { kind: string }[] };
  assert.equal(report.ok, false);
  assert.deepEqual(report.problems.map((p) => p.kind).sort(), ['missing-file', 'undeclared-label']);
});

test('stunet dataset convert --from msd', () => {
  const root = tempDir();
  const task = join(root, 'Task02_Heart');
  for (const d of ['imagesTr', 'labelsTr', 'imagesTs']) mkdirSync(join(task, d), { recursive: true });
  save(join(task, 'imagesTr', 'la_003.nii.gz'), image(new Float32Array(60).fill(1), [5, 4, 3]));
  save(join(task, 'labelsTr', 'la_003.nii.gz'), image(new Uint8Array(60), [5, 4, 3]));
  save(join(task, 'imagesTs', 'la_001.nii.gz'), image(new Float32Array(60).fill(1), [5, 4, 3]));
  const msd = {
    modality: { '0': 'MRI' },
    labels: { '0': 'background', '1': 'left atrium' },
    numTraining: 1,
    training: [],
    test: [],
  };
  writeFileSync(join(task, 'dataset.json'), JSON.stringify(msd));
  const out = join(root, 'raw');
  const r = runCli([
    'dataset',
    'convert',
    '--from',
    'msd',
    task,
    '-o',
    out,
    '--id',
    '502',
    '--name',
    'Heart',
  ]);
  assert.equal(r.status, 0, r.stderr);
  const dst = join(out, 'Dataset502_Heart');
  assert.ok(readFileSync(join(dst, 'imagesTr', 'la_003_0000.nii.gz')).length > 0);
  assert.ok(readFileSync(join(dst, 'imagesTs', 'la_001_0000.nii.gz')).length > 0);
  assert.equal(runCli(['dataset', 'validate', dst]).status, 0);
  const again = runCli([
    'dataset',
    'convert',
    '--from',
    'msd',
    task,
    '-o',
    out,
    '--id',
    '502',
    '--name',
    'Heart',
  ]);
  assert.equal(again.status, 1);
  assert.match(again.stderr, /exists and is not empty/);
  const badFrom = runCli(['dataset', 'convert', '--from', 'nope', task, '-o', out]);
  assert.match(badFrom.stderr, /--from must be msd or totalseg/);
});
