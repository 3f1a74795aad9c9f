/**
 * Issue 16, item 3: folders that survive. A corrupt case is reported and the others are written, the run
 * exits non-zero and the report names the failure; `--continue` skips the cases already complete.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cropNifti } from '../../src/io/nifti-crop.js';
import { readNifti, writeNifti } from '../../src/io/nifti.js';
import { fixturePath } from '../helpers.js';
import { runCli, tempDir } from './cli-helpers.js';

const MODEL = fixturePath('stunet-forward', 'T1.model');

interface Report {
  format: string;
  device: string;
  model: { path: string; sha256: string };
  versions: Record<string, string>;
  options: Record<string, unknown>;
  cases: { input: string; status: string; files: string[]; error?: string }[];
  summary: { cases: number; done: number; skipped: number; failed: number };
}

test('a folder with a corrupt case: the others are written, exit 1, the report names it; --continue resumes', () => {
  const dir = tempDir();
  const inDir = join(dir, 'in');
  const out = join(dir, 'out');
  const img = readNifti(readFileSync(fixturePath('nifti', 'example_ct_sm.nii.gz')));
  const good = writeNifti(cropNifti(img, [40, 30, 6], [32, 32, 16]));
  mkdirSync(inDir);
  writeFileSync(join(inDir, 'a.nii.gz'), good);
  writeFileSync(join(inDir, 'b.nii.gz'), good.subarray(0, 300)); // truncated
  writeFileSync(join(inDir, 'c.nii.gz'), good);

  const reportPath = join(dir, 'report.json');
  const r = runCli(['predict', '-i', inDir, '-o', out, '-m', MODEL, '--no-tta', '--report', reportPath]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /b\.nii\.gz: failed: /);
  assert.match(r.stderr, /error: 1 of 3 cases failed \(named above and in .*report\.json\)/);
  assert.match(r.stdout, /3 cases: 2 predicted, 1 failed: .*b\.nii\.gz/);
  assert.deepEqual(readdirSync(out).sort(), ['a.json', 'a.nii.gz', 'c.json', 'c.nii.gz']);
  const report = JSON.parse(readFileSync(reportPath, 'utf8')) as Report;
  assert.equal(report.format, 'stunet-predict-report');
  assert.deepEqual(
    report.cases.map((c) => [c.input.split('/').pop(), c.status]),
    [
      ['a.nii.gz', 'done'],
      ['b.nii.gz', 'failed'],
      ['c.nii.gz', 'done'],
    ],
  );
  assert.match(report.cases[1]?.error ?? '', /b\.nii\.gz/);
  assert.deepEqual(report.summary, { ...report.summary, cases: 3, done: 2, skipped: 0, failed: 1 });
  assert.equal(report.model.sha256, createHash('sha256').update(readFileSync(MODEL)).digest('hex'));
  assert.equal(report.device, 'cpu');
  assert.ok(report.versions['stunet'] !== undefined && report.versions['onnxruntime'] !== undefined);
  assert.equal(report.options['tta'], false);

  // --continue: the complete cases are skipped, the corrupt one is tried again (and fails again).
  const again = runCli(['predict', '-i', inDir, '-o', out, '-m', MODEL, '--no-tta', '--continue']);
  assert.equal(again.status, 1);
  assert.match(again.stdout, /a\.nii\.gz: skipped, its outputs are complete \(--continue\)/);
  assert.match(again.stdout, /3 cases: 0 predicted, 2 skipped \(complete outputs exist\), 1 failed/);

  // Repaired, it is the only case computed; a requested output missing makes a case incomplete.
  writeFileSync(join(inDir, 'b.nii.gz'), good);
  const fixed = runCli(['predict', '-i', inDir, '-o', out, '-m', MODEL, '--no-tta', '--continue']);
  assert.equal(fixed.status, 0, fixed.stderr);
  assert.match(fixed.stdout, /3 cases: 1 predicted, 2 skipped/);
  const stats = runCli([
    'predict',
    '-i',
    inDir,
    '-o',
    out,
    '-m',
    MODEL,
    '--no-tta',
    '--continue',
    '--statistics',
  ]);
  assert.equal(stats.status, 0, stats.stderr);
  assert.match(stats.stdout, /3 cases: 3 predicted/);
  assert.ok(readdirSync(out).includes('b_statistics.json'));
});
