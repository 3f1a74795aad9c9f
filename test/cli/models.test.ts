import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cropNifti } from '../../src/io/nifti-crop.js';
import { readNifti, writeNifti } from '../../src/io/nifti.js';
import { fixturePath } from '../helpers.js';
import { writeTinyV1 } from '../models/helpers.js';
import { runCli, tempDir } from './cli-helpers.js';

/** Runs the CLI with the model cache at `home` (the child inherits the environment). */
function withHome<T>(home: string, fn: () => T): T {
  const saved = process.env['STUNET_HOME'];
  process.env['STUNET_HOME'] = home;
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env['STUNET_HOME'];
    else process.env['STUNET_HOME'] = saved;
  }
}

test('stunet models install / path / list / verify, and a model name wherever a model is taken (convert)', () => {
  const home = tempDir();
  const work = tempDir();
  withHome(home, () => {
    const ckpt = writeTinyV1(work);
    const inst = runCli(['models', 'install', ckpt, '--name', 'tiny']);
    assert.equal(inst.status, 0, inst.stderr);
    const cached = join(home, 'models', 'tiny', 'tiny.model');
    assert.match(inst.stdout, /tiny: installed, sha256 [0-9a-f]{64}/);

    const path = runCli(['models', 'path', 'tiny']);
    assert.equal(path.stdout.trim(), cached);

    const list = runCli(['models', 'list', '--json']);
    const rows = (JSON.parse(list.stdout) as { models: { name: string; cached: boolean }[] }).models;
    assert.deepEqual(
      rows.map((r) => [r.name, r.cached]),
      [
        ['STU-Net-S', false],
        ['STU-Net-B', false],
        ['STU-Net-L', false],
        ['STU-Net-H', false],
        ['tiny', true],
      ],
    );
    const table = runCli(['models', 'list']);
    assert.match(table.stdout, /STU-Net-L\s+L\s+440\.3 M\s+≈3\.28 GiB\s+no\s+stunet models download L/);
    assert.match(table.stdout, /STU-Net-S\s+S\s+14\.6 M\s+112\.05 MiB\s+no/);

    const conv = runCli(['convert', 'tiny', '-o', join(work, 'folder'), '--to', 'folder']);
    assert.equal(conv.status, 0, conv.stderr);
    assert.ok(existsSync(join(work, 'folder', 'model.json')));

    // predict -m <name> from the cache, as `-m S` after `stunet models install small_ep4k.model`.
    const ct = join(work, 'ct.nii.gz');
    const img = readNifti(readFileSync(fixturePath('nifti', 'example_ct_sm.nii.gz')));
    writeFileSync(ct, writeNifti(cropNifti(img, [40, 30, 6], [32, 32, 16])));
    const seg = join(work, 'seg.nii.gz');
    const pred = runCli(['predict', '-i', ct, '-o', seg, '-m', 'tiny', '--no-tta']);
    assert.equal(pred.status, 0, pred.stderr);
    assert.deepEqual(readNifti(readFileSync(seg)).dims, [32, 32, 16]);

    assert.equal(runCli(['models', 'verify']).stdout.trim(), 'tiny: OK');
    const bytes = readFileSync(cached);
    bytes[100] = (bytes[100] ?? 0) ^ 0xff;
    writeFileSync(cached, bytes);
    const bad = runCli(['models', 'verify', 'tiny']);
    assert.equal(bad.status, 1);
    assert.match(bad.stdout, /tiny: BAD: tiny\.model: sha256 [0-9a-f]{64}, recorded [0-9a-f]{64}/);
  });
});

test('stunet models: a released model that is not cached is one error line saying how to get it', () => {
  withHome(tempDir(), () => {
    const r = runCli(['models', 'path', 'L']);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /^error: model STU-Net-L \(large_ep4k\.model, ≈3\.28 GiB\) is not in the model cache .*'stunet models download L'/,
    );
    const p = runCli(['export-onnx', '-m', 'H', '-o', join(tempDir(), 'h.onnx')]);
    assert.equal(p.status, 1);
    assert.match(p.stderr, /^error: model STU-Net-H .* is not in the model cache/);
    assert.equal(p.stderr.trim().split('\n').length, 1);
  });
});
