/** Bad input: one clear error line, exit code 1, nothing half-written. */
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixturePath } from '../helpers.js';
import { runCli, tempDir } from './cli-helpers.js';

function expectError(args: string[], pattern: RegExp): void {
  const r = runCli(args);
  assert.equal(r.status, 1, `exit code for ${args.join(' ')}: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one error line, got:\n${r.stderr}`);
  assert.match(lines[0] ?? '', /^error: /);
  assert.match(lines[0] ?? '', pattern);
}

const input = fixturePath('stunet-forward', 'T1', 'input.npy');

test('missing checkpoint file is named', () => {
  const out = tempDir();
  expectError(
    ['run-network', '-m', join(out, 'nope.model'), '--input', input, '-o', join(out, 'o')],
    /'.*nope\.model' does not exist/,
  );
  assert.equal(existsSync(join(out, 'o')), false);
});

test('truncated checkpoint zip is reported, and no output is written', () => {
  const dir = tempDir();
  const full = readFileSync(fixturePath('stunet-forward', 'T1.model'));
  writeFileSync(join(dir, 'cut.model'), full.subarray(0, full.length >> 1));
  copyFileSync(fixturePath('stunet-forward', 'T1.model.pkl'), join(dir, 'cut.model.pkl'));
  expectError(
    ['convert', join(dir, 'cut.model'), '-o', join(dir, 'out')],
    /truncated|end of central directory|corrupt/i,
  );
  assert.equal(existsSync(join(dir, 'out')), false);
});

test('a v1 checkpoint without its .model.pkl plans is refused with the path it looked for', () => {
  const dir = tempDir();
  copyFileSync(fixturePath('stunet-forward', 'T1.model'), join(dir, 'x.model'));
  expectError(['convert', join(dir, 'x.model'), '-o', join(dir, 'out')], /x\.model\.pkl/);
});

test('wrong plans: a plans.json without the checkpoint configuration is named', () => {
  const dir = tempDir();
  writeFileSync(
    join(dir, 'plans.json'),
    JSON.stringify({ configurations: { '2d': { pool_op_kernel_sizes: [[1, 1]] } } }),
  );
  expectError(
    [
      'convert',
      fixturePath('stunet-forward', 'T2_checkpoint_final.pth'),
      '--plans',
      join(dir, 'plans.json'),
      '-o',
      join(dir, 'out'),
    ],
    /no configuration '3d_fullres'/,
  );
  writeFileSync(join(dir, 'bad.json'), '{ not json');
  expectError(
    [
      'convert',
      fixturePath('stunet-forward', 'T2_checkpoint_final.pth'),
      '--plans',
      join(dir, 'bad.json'),
      '-o',
      join(dir, 'out'),
    ],
    /not valid JSON/,
  );
});

test('a model.json that disagrees with its weights names the key and both shapes; nothing is written', () => {
  const dir = tempDir();
  const r = runCli(['convert', fixturePath('stunet-forward', 'T1.model'), '-o', join(dir, 'm')]);
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(readFileSync(join(dir, 'm', 'model.json'), 'utf8')) as {
    architecture: { dims: number[] };
  };
  doc.architecture.dims[1] = 9;
  writeFileSync(join(dir, 'm', 'model.json'), JSON.stringify(doc));
  expectError(
    ['run-network', '-m', join(dir, 'm'), '--input', input, '-o', join(dir, 'o')],
    /'conv_blocks_context\.1\.0\.conv1\.weight': checkpoint has shape \[8, 4, 3, 3, 3\], architecture needs \[9, 4, 3, 3, 3\]/,
  );
  assert.equal(existsSync(join(dir, 'o')), false);
});

test('an input with the wrong channel count is refused before running', () => {
  const dir = tempDir();
  expectError(
    [
      'run-network',
      '-m',
      fixturePath('stunet-forward', 'T2_checkpoint_final.pth'),
      '--input',
      input,
      '-o',
      join(dir, 'o'),
    ],
    /must be \(N, 2, D, H, W\)/,
  );
  assert.deepEqual(existsSync(join(dir, 'o')) ? readdirSync(join(dir, 'o')) : [], []);
});

test('bad option values name the option', () => {
  expectError(['model-info', '--patch', '128,128'], /--patch/);
  expectError(['model-info', '--scale', 'XXL'], /unknown scale 'XXL'/);
  expectError(['run-network', '-m', 'x', '--input', input, '-o', 'y', '--backend', 'gpu'], /--backend/);
});
