import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readNpy } from '../../src/io/npy.js';
import { readOnnxFileInfo } from '../../src/node/onnx-file-info.js';
import { expectClose, fixturePath, loadNpyFixture } from '../helpers.js';
import { runCli, tempDir } from './cli-helpers.js';

test('model-info --json prints exact counts', () => {
  const r = runCli(['model-info', '--scale', 'L', '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { parameters: 440_302_605, convMacs: 3_825_455_333_376 });
  const custom = runCli([
    'model-info',
    '--scale',
    'S',
    '--depth',
    '1,1,1',
    '--dims',
    '8,16,32',
    '--pool',
    '2,2,2/1,2,2',
    '--classes',
    '3',
    '--patch',
    '32,64,64',
    '--json',
  ]);
  assert.equal(custom.status, 0, custom.stderr);
  assert.equal((JSON.parse(custom.stdout) as { parameters: number }).parameters > 0, true);
});

test('every command has --help', () => {
  for (const cmd of ['model-info', 'convert', 'export-onnx', 'run-network', 'demo']) {
    const r = runCli([cmd, '--help']);
    assert.equal(r.status, 0, `${cmd}: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`Usage: stunet ${cmd}`));
  }
});

test('v1 checkpoint → folder → torch-v2 → run-network (ort) reproduces the official output', () => {
  const dir = tempDir();
  const steps = [
    ['convert', fixturePath('stunet-forward', 'T1.model'), '-o', join(dir, 'folder')],
    ['convert', join(dir, 'folder'), '--to', 'torch-v2', '-o', join(dir, 'v2')],
    [
      'convert',
      join(dir, 'v2', 'checkpoint_final.pth'),
      '--to',
      'torch-v1',
      '-o',
      join(dir, 'v1', 'back.model'),
    ],
    [
      'run-network',
      '-m',
      join(dir, 'v1', 'back.model'),
      '--input',
      fixturePath('stunet-forward', 'T1', 'input.npy'),
      '-o',
      join(dir, 'out'),
      '--threads',
      '1',
    ],
  ];
  for (const args of steps) {
    const r = runCli(args);
    assert.equal(r.status, 0, `${args.join(' ')}\n${r.stderr}`);
  }
  const out = readNpy(readFileSync(join(dir, 'out', 'out_0.npy')));
  expectClose(
    out.data as Float32Array,
    loadNpyFixture('stunet-forward', 'T1', 'eval_nods.npy').data as Float32Array,
    { maxRelTol: 1e-4 },
  );
});

test('export-onnx writes a model with STU-Net metadata', () => {
  const dir = tempDir();
  const r = runCli([
    'export-onnx',
    '-m',
    fixturePath('stunet-forward', 'T2_checkpoint_final.pth'),
    '-o',
    join(dir, 'm.onnx'),
    '--deep-supervision',
  ]);
  assert.equal(r.status, 0, r.stderr);
  const info = readOnnxFileInfo(join(dir, 'm.onnx'));
  assert.equal(info.producerName, 'stunet');
  assert.equal(info.metadata['stunet.deep_supervision'], 'true');
  assert.equal(info.metadata['stunet.origin'], 'nnunet-v2');
});
