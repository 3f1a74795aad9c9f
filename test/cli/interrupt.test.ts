/**
 * Ctrl-C (SIGINT) during predict and train: the job stops at its next check, temporary files are removed,
 * one line says what happened (for train: how to resume), exit status 130.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cropNifti } from '../../src/io/nifti-crop.js';
import { readNifti, writeNifti } from '../../src/io/nifti.js';
import { fixturePath } from '../helpers.js';
import { syntheticCase, writeDataset } from '../planning/synthetic-dataset.js';
import { ROOT, tempDir } from './cli-helpers.js';

/** Runs the CLI, sends SIGINT once `ready` matches its output, and returns status and output. */
function interruptWhen(
  args: string[],
  ready: RegExp,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src', 'cli', 'index.ts'), ...args],
      { cwd: ROOT },
    );
    let stdout = '';
    let stderr = '';
    let sent = false;
    const check = (): void => {
      if (!sent && ready.test(stdout + stderr)) {
        sent = true;
        child.kill('SIGINT');
      }
    };
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      check();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      check();
    });
    child.on('close', (status) => {
      resolve({ status, stdout, stderr });
    });
  });
}

const tmpFiles = (dir: string): string[] =>
  (readdirSync(dir, { recursive: true }) as string[]).filter(
    (f) => f.endsWith('.tmp') || f.includes('.partial'),
  );

test('Ctrl-C during predict: exit 130, one line, nothing half-written', async () => {
  const dir = tempDir();
  const ct = join(dir, 'ct.nii.gz');
  writeFileSync(
    ct,
    writeNifti(
      cropNifti(
        readNifti(readFileSync(fixturePath('nifti', 'example_ct_sm.nii.gz'))),
        [20, 20, 0],
        [80, 70, 30],
      ),
    ),
  );
  const out = join(dir, 'out');
  const r = await interruptWhen(
    [
      'predict',
      '-i',
      ct,
      '-o',
      join(out, 'seg.nii.gz'),
      '-m',
      fixturePath('stunet-forward', 'T1.model'),
      '--backend',
      'wasm',
      '--threads',
      '1',
      '--save-probabilities',
    ],
    /sliding-window/,
  );
  assert.equal(r.status, 130, r.stderr);
  assert.match(r.stderr.trim().split('\n').pop() ?? '', /^interrupted: stopped; .*left nothing$/);
  assert.deepEqual(tmpFiles(out), []);
  assert.deepEqual(
    readdirSync(out).filter((f) => !f.startsWith('.')),
    [],
  );
});

test('Ctrl-C during train: exit 130, the resume command in one line, checkpoints whole', async () => {
  const ds = join(tempDir(), 'Dataset003_Int');
  writeDataset(
    ds,
    Array.from({ length: 5 }, (_, i) => syntheticCase(`c${i}`, i + 1, [24, 24, 24], 1)),
  );
  const out = join(tempDir(), 'train');
  const args = [
    'train',
    '--dataset',
    ds,
    '--scale',
    'S',
    '--depth',
    '1,1,1',
    '--dims',
    '4,8,16',
    '--pool',
    '2,2,2/2,2,2',
    '--patch',
    '16,16,16',
    '--batch',
    '2',
    '--epochs',
    '50',
    '--iters',
    '2',
    '--val-batches',
    '1',
    '--backend',
    'wasm',
    '--threads',
    '1',
    '--workers',
    '0',
    '--fingerprint-samples',
    'all',
    '-o',
    out,
  ];
  const r = await interruptWhen(args, /epoch 1\/50: train loss/);
  assert.equal(r.status, 130, r.stderr);
  const last = r.stderr.trim().split('\n').pop() ?? '';
  assert.match(
    last,
    /^interrupted: stopped; the last finished epoch is in checkpoint_latest: resume with stunet train .*--continue$/,
  );
  assert.deepEqual(tmpFiles(join(out, 'fold_0')), []);
  assert.ok(readdirSync(join(out, 'fold_0')).includes('checkpoint_latest'));
});
