import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
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

test('v1 checkpoint → folder → torch-v2 → torch-v1 trainer folders (nnU-Net layouts) → run-network reproduces the official output', () => {
  const dir = tempDir();
  const steps = [
    ['convert', fixturePath('stunet-forward', 'T1.model'), '-o', join(dir, 'folder')],
    ['convert', join(dir, 'folder'), '--to', 'torch-v2', '-o', join(dir, 'v2')],
    ['convert', join(dir, 'v2'), '--to', 'torch-v1', '-o', join(dir, 'v1'), '--fold', '3'],
    [
      'convert',
      join(dir, 'v1', 'fold_3', 'model_final_checkpoint.model'),
      '--to',
      'torch-v1',
      '-o',
      join(dir, 'v1b', 'back.model'),
    ],
    [
      'run-network',
      '-m',
      join(dir, 'v1'),
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
  // nnU-Net's own layouts, nothing hidden
  assert.deepEqual(readdirSync(join(dir, 'v2')).sort(), ['dataset.json', 'fold_0', 'plans.json']);
  assert.deepEqual(readdirSync(join(dir, 'v2', 'fold_0')), ['checkpoint_final.pth']);
  assert.deepEqual(readdirSync(join(dir, 'v1', 'fold_3')).sort(), [
    'model_final_checkpoint.model',
    'model_final_checkpoint.model.pkl',
  ]);
  assert.deepEqual(readdirSync(join(dir, 'v1b')).sort(), ['back.model', 'back.model.pkl']);
  // a training folder with several folds: one error that names them
  runCli(['convert', join(dir, 'folder'), '--to', 'torch-v1', '-o', join(dir, 'v1'), '--fold', '4']);
  const two = runCli([
    'run-network',
    '-m',
    join(dir, 'v1'),
    '--input',
    fixturePath('stunet-forward', 'T1', 'input.npy'),
    '-o',
    join(dir, 'x'),
  ]);
  assert.equal(two.status, 1);
  assert.match(two.stderr, /training folder with 2 folds \(fold_3, fold_4\): name one, e\.g\. -m .*fold_3/);
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
