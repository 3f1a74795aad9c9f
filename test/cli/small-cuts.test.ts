/** Issue 17, item 12: the small ones (option typos, one default scale, shape errors, honest --help). */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeNpy } from '../../src/io/npy.js';
import { fixturePath } from '../helpers.js';
import { runCli, tempDir } from './cli-helpers.js';

test('an option typo is one line naming the closest option, not the whole help', () => {
  const r = runCli(['predict', '--inptu', 'ct.nii.gz', '-o', 'x', '-m', 'y']);
  assert.equal(r.status, 1);
  assert.equal(
    r.stderr.trim(),
    "error: unknown option '--inptu' for stunet predict (did you mean --input?); see stunet predict --help",
  );
  const missing = runCli(['predict', '--inptu', 'ct.nii.gz']);
  assert.match(missing.stderr, /unknown option '--inptu'/, 'the typo is named before the missing -i');
});

test('plan and train default to the same scale', () => {
  const scale = (cmd: string): string => {
    const help = runCli([cmd, '--help']).stdout;
    const from = help.indexOf('--scale');
    const block = help.slice(from, help.indexOf('\n  -', from + 1));
    return /\(default:\s+"(\w)"\)/.exec(block)?.[1] ?? '?';
  };
  assert.equal(scale('plan'), scale('train'));
  assert.equal(scale('train'), 'S');
});

test('run-network names the divisibility a shape misses; export-onnx --help does not promise five heads', () => {
  const dir = tempDir();
  const x = join(dir, 'x.npy');
  writeFileSync(
    x,
    writeNpy({ dtype: 'float32', shape: [1, 1, 10, 16, 16], data: new Float32Array(10 * 16 * 16) }),
  );
  const r = runCli([
    'run-network',
    '-m',
    fixturePath('stunet-forward', 'T1.model'),
    '--input',
    x,
    '-o',
    join(dir, 'o'),
  ]);
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    /^error: input \[1, 1, 10, 16, 16\]: D, H, W must be divisible by the pools' product \[\d+, \d+, \d+\]/,
  );
  assert.equal(r.stderr.trim().split('\n').length, 1);
  const help = runCli(['export-onnx', '--help']).stdout;
  assert.doesNotMatch(help, /five/);
  assert.match(help, /one per decoder\s+stage/);
});
