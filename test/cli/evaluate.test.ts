/** `stunet evaluate` end to end: tiny known cases, the real AMOS label against official numbers, errors. */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseSummaryJson } from '../../src/evaluation/index.js';
import { mat4, type Mat4 } from '../../src/io/geometry.js';
import { labelIndex } from '../../src/io/labels/index.js';
import { readNifti, writeNifti } from '../../src/io/nifti.js';
import { createNifti } from '../../src/io/nifti-volume.js';
import { at, loadLabelMap, num } from '../evaluation/fixture.js';
import { fixturePath } from '../helpers.js';
import { runCli, tempDir } from './cli-helpers.js';

const AFFINE = mat4([
  [-1.5, 0, 0, 10],
  [0, 1.5, 0, -20],
  [0, 0, 3, 30],
]);

/** Writes a 4×4×4 uint8 label NIfTI; `voxels` maps label → flat indices. */
function writeCase(path: string, voxels: Record<number, number[]>, affine: Mat4 = AFFINE, size = 4): void {
  const raw = new Uint8Array(size * size * size);
  for (const [label, idx] of Object.entries(voxels)) for (const i of idx) raw[i] = Number(label);
  writeFileSync(path, writeNifti(createNifti({ raw, dims: [size, size, size], affine })));
}

function folders(): { pred: string; ref: string; dir: string } {
  const dir = tempDir();
  const pred = join(dir, 'pred');
  const ref = join(dir, 'ref');
  mkdirSync(pred);
  mkdirSync(ref);
  return { pred, ref, dir };
}

function expectError(args: string[], pattern: RegExp): void {
  const r = runCli(args);
  assert.equal(r.status, 1, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0] ?? '', /^error: /);
  assert.match(lines[0] ?? '', pattern);
}

const range = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, i) => a + i);

test('two tiny cases with known Dice: labels found in the references, summary.json in nnU-Net layout + NSD', () => {
  const { pred, ref, dir } = folders();
  // case a: label 1 ref 8 voxels, pred 4 of them → Dice 2·4/(4+8); label 2 identical → 1.
  writeCase(join(ref, 'a.nii.gz'), { 1: range(0, 8), 2: range(40, 44) });
  writeCase(join(pred, 'a.nii.gz'), { 1: range(0, 4), 2: range(40, 44) });
  // case b: label 1 identical; label 2 absent from both → NaN (left out of the mean, as np.nanmean).
  writeCase(join(ref, 'b.nii.gz'), { 1: range(16, 24) });
  writeCase(join(pred, 'b.nii.gz'), { 1: range(16, 24) });
  const out = join(dir, 'out', 'summary.json');
  const r = runCli(['evaluate', '--pred', pred, '--ref', ref, '-o', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\[1\/2\] .*a\.nii\.gz {2}Dice 0\.8333 {2}NSD@1mm/);
  assert.match(r.stdout, /label +name +Dice +IoU +NSD@1mm/);
  const text = readFileSync(out, 'utf8');
  const s = parseSummaryJson(text);
  assert.deepEqual(
    s.metric_per_case.map((c) => [c.reference_file, c.prediction_file]),
    [
      [join(ref, 'a.nii.gz'), join(pred, 'a.nii.gz')],
      [join(ref, 'b.nii.gz'), join(pred, 'b.nii.gz')],
    ],
  );
  const a1 = s.metric_per_case[0]?.metrics.find((m) => m.key === '1')?.metrics;
  assert.equal(a1?.Dice, 2 / 3);
  assert.deepEqual([a1.TP, a1.FP, a1.FN, a1.TN, a1.n_pred, a1.n_ref], [4, 0, 4, 56, 4, 8]);
  assert.ok(Number.isNaN(s.metric_per_case[1]?.metrics.find((m) => m.key === '2')?.metrics.Dice ?? 0));
  const mean = new Map(s.mean.map((e) => [e.key, e.metrics]));
  assert.deepEqual([...mean.keys()], ['1', '2']);
  assert.equal(mean.get('1')?.Dice, (2 / 3 + 1) / 2);
  assert.equal(mean.get('2')?.Dice, 1);
  assert.equal(mean.get('2')?.NSD, 1);
  assert.equal(s.foreground_mean.Dice, ((2 / 3 + 1) / 2 + 1) / 2);
  assert.match(text, /^ {4}"foreground_mean": \{$/m); // 4-space, sorted keys: nnU-Net's save_json
  // --json: the same summary on stdout, case lines on stderr.
  const j = runCli([
    'evaluate',
    '--pred',
    pred,
    '--ref',
    ref,
    '-o',
    join(dir, 's2.json'),
    '--json',
    '--no-nsd',
  ]);
  assert.equal(j.status, 0, j.stderr);
  assert.equal(parseSummaryJson(j.stdout).mean[0]?.metrics.NSD, undefined);
  assert.match(j.stderr, /\[2\/2\]/);
});

test('real AMOS label (768×768×90 uint16) vs its perturbed copy: official nnU-Net v2 and DeepMind numbers', () => {
  const refImage = readNifti(readFileSync(fixturePath('labels', 'amos_0001_label.nii.gz')));
  const crop = loadLabelMap('reference.npy.gz');
  const predCrop = loadLabelMap('prediction.npy.gz');
  const [ni, nj] = refImage.dims as [number, number, number];
  const lo = [6, 225, 171] as const; // results.json crop_lo (z, y, x)
  const [cz, cy, cx] = crop.shape;
  const raw = new Uint8Array(refImage.data.length);
  for (let z = 0; z < cz; z++)
    for (let y = 0; y < cy; y++)
      for (let x = 0; x < cx; x++) {
        const src = (z * cy + y) * cx + x;
        const dst = ((z + lo[0]) * nj + (y + lo[1])) * ni + (x + lo[2]);
        assert.equal(refImage.data[dst], crop.data[src]); // the fixture is this file's crop
        raw[dst] = predCrop.data[src] as number;
      }
  const { pred, ref, dir } = folders();
  writeFileSync(join(ref, 'amos_0001.nii.gz'), readFileSync(fixturePath('labels', 'amos_0001_label.nii.gz')));
  const image = createNifti({ raw, dims: refImage.dims, affine: refImage.affine, header: refImage.header });
  writeFileSync(join(pred, 'amos_0001.nii.gz'), writeNifti(image));
  const out = join(dir, 'summary.json');
  const labels = range(1, 17).join(',');
  const r = runCli([
    'evaluate',
    '--pred',
    pred,
    '--ref',
    ref,
    '--labels',
    labels,
    '--regions',
    '2,3;1,6;11,12;13,16',
    '-o',
    out,
  ]);
  assert.equal(r.status, 0, r.stderr);
  const s = parseSummaryJson(readFileSync(out, 'utf8'));
  const mine = s.metric_per_case[0]?.metrics ?? [];
  assert.equal(mine.length, 20);
  const extraTN = refImage.data.length - cz * cy * cx; // the official run saw only the crop
  for (const { key, metrics } of mine) {
    for (const m of ['Dice', 'IoU', 'TP', 'FP', 'FN', 'n_pred', 'n_ref'] as const) {
      const want = num(at('nnunet_v2', 'main', 'per_case_metrics', key, m));
      if (Number.isNaN(want)) assert.ok(Number.isNaN(metrics[m]), `${key} ${m}`);
      else assert.ok(Math.abs(metrics[m] - want) <= 1e-12, `${key} ${m}: ${metrics[m]} vs ${want}`);
    }
    assert.equal(metrics.TN, num(at('nnunet_v2', 'main', 'per_case_metrics', key, 'TN')) + extraTN);
    if (!key.startsWith('(')) {
      const nsd = num(at('surface_distance', key, 'nsd_1mm'));
      if (Number.isNaN(nsd)) assert.ok(Number.isNaN(metrics.NSD ?? 0), `${key} NSD`);
      else assert.ok(Math.abs((metrics.NSD ?? NaN) - nsd) <= 1e-6, `${key} NSD ${metrics.NSD} vs ${nsd}`);
    }
  }
});

test('--map: a 104-class STU-Net prediction against a Task009_Spleen reference', () => {
  const { pred, ref } = folders();
  writeCase(join(ref, 's.nii.gz'), { 1: range(0, 10) });
  writeCase(join(pred, 's.nii.gz'), { [labelIndex('stunet104', 'spleen')]: range(0, 10), 5: range(20, 30) });
  const r = runCli(['evaluate', '--pred', pred, '--ref', ref, '--map', 'Task009_Spleen', '--no-nsd']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^1 +spleen +1\.0000 +1\.0000 +-$/m);
  assert.ok(existsSync(join(pred, 'summary.json')), 'default output: <pred>/summary.json');
});

test('geometry mismatch: one error naming both files and what differs; nothing written', () => {
  const { pred, ref, dir } = folders();
  writeCase(join(ref, 'a.nii.gz'), { 1: [0] });
  writeCase(join(pred, 'a.nii.gz'), { 1: [0] }, AFFINE, 5);
  const out = join(dir, 'summary.json');
  expectError(
    ['evaluate', '--pred', pred, '--ref', ref, '-o', out],
    /pred\/a\.nii\.gz is 5×5×5 voxels, reference .*ref\/a\.nii\.gz is 4×4×4/,
  );
  const shifted = mat4([
    [-1.5, 0, 0, 10],
    [0, 1.5, 0, -20],
    [0, 0, 3, 33],
  ]);
  writeCase(join(pred, 'a.nii.gz'), { 1: [0] }, shifted);
  expectError(
    ['evaluate', '--pred', pred, '--ref', ref, '-o', out],
    /affine of prediction .*a\.nii\.gz and reference .*a\.nii\.gz differ at row 2 column 3: 33 vs 30/,
  );
  assert.equal(existsSync(out), false);
});

test('missing pairs and bad options are named', () => {
  const { pred, ref } = folders();
  writeCase(join(ref, 'a.nii.gz'), { 1: [0] });
  writeCase(join(ref, 'b.nii.gz'), { 1: [0] });
  writeCase(join(pred, 'a.nii.gz'), { 1: [0] });
  expectError(
    ['evaluate', '--pred', pred, '--ref', ref],
    /no prediction in '.*pred' for reference case\(s\) b/,
  );
  writeCase(join(pred, 'b.nii.gz'), { 1: [0] });
  writeCase(join(pred, 'c.nii.gz'), { 1: [0] });
  expectError(
    ['evaluate', '--pred', pred, '--ref', ref],
    /no reference in '.*ref' for predicted case\(s\) c/,
  );
  expectError(
    ['evaluate', '--pred', join(pred, 'nope'), '--ref', ref],
    /prediction folder '.*nope' does not exist/,
  );
  expectError(['evaluate', '--pred', pred, '--ref', ref, '--nsd-tolerance', 'x'], /--nsd-tolerance/);
  expectError(
    ['evaluate', '--pred', pred, '--ref', ref, '--map', 'Nope'],
    /no direct-inference table for 'Nope'/,
  );
});

test('evaluate --labels warns about a label that occurs in no prediction and no reference', () => {
  const { pred, ref, dir } = folders();
  writeCase(join(ref, 'a.nii.gz'), { 1: range(0, 8) });
  writeCase(join(pred, 'a.nii.gz'), { 1: range(0, 4) });
  const r = runCli(['evaluate', '--pred', pred, '--ref', ref, '--labels', '1,7', '-o', join(dir, 's.json')]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stderr,
    /^warning: label\(s\) 7 occur in no prediction and no reference; their Dice is NaN/m,
  );
  const ok = runCli(['evaluate', '--pred', pred, '--ref', ref, '--labels', '1', '-o', join(dir, 't.json')]);
  assert.doesNotMatch(ok.stderr, /warning/);
});
