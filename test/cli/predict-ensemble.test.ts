/**
 * Issue 16, item 5: fold ensembles. `-m <training folder>` takes its fold_N checkpoints (or `--folds`),
 * `-m a,b` a list; the members' probabilities are averaged as nnU-Net v1 does, which the saved
 * probabilities show: the ensemble's equal the mean of each member's own, and its labels their argmax.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { unzipSync } from 'fflate';
import { Tensor } from '../../src/engine/tensor.js';
import { cropNifti } from '../../src/io/nifti-crop.js';
import { readNifti, writeNifti } from '../../src/io/nifti.js';
import { readNpy, readNpyHeader } from '../../src/io/npy.js';
import { loadModelFrom, saveTorchCheckpoint } from '../../src/node/model-source.js';
import { fixturePath } from '../helpers.js';
import { runCli, tempDir } from './cli-helpers.js';

/** A training folder with fold_0 (T1) and fold_1 (T1 with other weights), as nnU-Net v1 lays it out. */
function trainingFolder(): { dir: string; ct: string; folds: string } {
  const dir = tempDir();
  const folds = join(dir, 'train');
  const t1 = loadModelFrom(fixturePath('stunet-forward', 'T1.model'));
  for (const [fold, scale] of [
    [0, 1],
    [1, -0.7],
  ] as const) {
    const weights = new Map<string, Tensor>();
    for (const [k, t] of t1.weights)
      weights.set(
        k,
        new Tensor(
          t.shape,
          t.data.map((v, i) => (k.includes('seg_outputs') ? v * scale + 0.01 * (i % 5) : v)),
        ),
      );
    mkdirSync(join(folds, `fold_${fold}`), { recursive: true });
    saveTorchCheckpoint(
      { ...t1, weights },
      join(folds, `fold_${fold}`, 'model_final_checkpoint.model'),
      'torch-v1',
      fold,
    );
  }
  const ct = join(dir, 'ct.nii.gz');
  const img = readNifti(readFileSync(fixturePath('nifti', 'example_ct_sm.nii.gz')));
  writeFileSync(ct, writeNifti(cropNifti(img, [40, 30, 6], [32, 32, 12])));
  return { dir, ct, folds };
}

function probabilities(npz: string): Float32Array {
  const arr = readNpy(unzipSync(new Uint8Array(readFileSync(npz)))['probabilities.npy'] ?? new Uint8Array());
  return arr.data as Float32Array;
}

test('-m <training folder> ensembles its folds: probabilities are the mean of the members, labels their argmax', () => {
  const { dir, ct, folds } = trainingFolder();
  const run = (model: string, out: string, extra: string[] = []): string => {
    const r = runCli([
      'predict',
      '-i',
      ct,
      '-o',
      join(dir, out),
      '-m',
      model,
      '--fast',
      '--save-probabilities',
      ...extra,
    ]);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  const stdout = run(folds, 'ens.nii.gz', ['--report', join(dir, 'report.json')]);
  assert.match(stdout, /ensemble of 2: .*fold_0.*fold_1/);
  run(join(folds, 'fold_0', 'model_final_checkpoint.model'), 'f0.nii.gz');
  run(join(folds, 'fold_1', 'model_final_checkpoint.model'), 'f1.nii.gz');
  const [p0, p1, pe] = ['f0', 'f1', 'ens'].map((s) => probabilities(join(dir, `${s}_probabilities.npz`)));
  assert.ok(p0 && p1 && pe);
  let maxDiff = 0;
  let memberDiff = 0;
  for (let i = 0; i < pe.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs((pe[i] as number) - ((p0[i] as number) + (p1[i] as number)) / 2));
    memberDiff = Math.max(memberDiff, Math.abs((p0[i] as number) - (p1[i] as number)));
  }
  assert.ok(maxDiff < 1e-6, `ensemble vs mean of members: ${maxDiff}`);
  assert.ok(memberDiff > 0.05, 'the members differ');
  const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as {
    members: { path: string; sha256: string }[];
  };
  assert.equal(report.members.length, 2);
  assert.match(report.members[1]?.sha256 ?? '', /^[0-9a-f]{64}$/);

  // --folds picks one; a list -m a,b is the same ensemble
  const one = run(folds, 'one.nii.gz', ['--folds', '1']);
  assert.doesNotMatch(one, /ensemble/);
  assert.deepEqual(probabilities(join(dir, 'one_probabilities.npz')), p1);
  const list = [0, 1].map((f) => join(folds, `fold_${f}`, 'model_final_checkpoint.model')).join(',');
  run(list, 'list.nii.gz');
  assert.deepEqual(probabilities(join(dir, 'list_probabilities.npz')), pe);
});

test('ensemble errors: a missing fold, --folds without a training folder, members of different models', () => {
  const { dir, ct, folds } = trainingFolder();
  const out = join(dir, 'out', 'seg.nii.gz');
  const cases: [string[], RegExp][] = [
    [
      ['-m', folds, '--folds', '3'],
      /--folds: '.*train' has no fold_3 with a final checkpoint \(it has fold_0, fold_1\)/,
    ],
    [
      ['-m', fixturePath('stunet-forward', 'T1.model'), '--folds', '0'],
      /--folds chooses folds of a training folder/,
    ],
    [['-m', folds, '--folds', 'x'], /--folds: expected fold numbers/],
    [
      [
        '-m',
        `${join(folds, 'fold_0', 'model_final_checkpoint.model')},${fixturePath('stunet-forward', 'T2_checkpoint_final.pth')}`,
      ],
      /ensemble: .*T2_checkpoint_final.pth differs from .* in its .*only folds of one configuration can be averaged/,
    ],
  ];
  for (const [extra, message] of cases) {
    const r = runCli(['predict', '-i', ct, '-o', out, '--fast', ...extra]);
    assert.equal(r.status, 1, `${extra.join(' ')}: ${r.stdout}`);
    assert.match(r.stderr.trim(), message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test('stunet ensemble of saved probabilities: mean, argmax, the input geometry (reoriented predictions too)', () => {
  const { dir, ct, folds } = trainingFolder();
  for (const f of [0, 1]) {
    const model = join(folds, `fold_${f}`, 'model_final_checkpoint.model');
    const r = runCli([
      'predict',
      '-i',
      ct,
      '-o',
      join(dir, `p${f}`, 'ct.nii.gz'),
      '-m',
      model,
      '--fast',
      '--save-probabilities',
      '--reorient',
    ]);
    assert.equal(r.status, 0, r.stderr);
  }
  const out = join(dir, 'ens');
  const r = runCli(['ensemble', '-i', join(dir, 'p0'), join(dir, 'p1'), '-o', out, '--per-class']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /case 1\/1: ct/);
  // expected: numpy's mean over the members (float32), argmax (first wins), in the probability grid
  const npz = (f: number): Record<string, Uint8Array> =>
    unzipSync(new Uint8Array(readFileSync(join(dir, `p${f}`, 'ct_probabilities.npz'))));
  const [a, b] = [npz(0), npz(1)];
  const pa = readNpy(a['probabilities.npy'] ?? new Uint8Array());
  const pb = readNpy(b['probabilities.npy'] ?? new Uint8Array()).data as Float32Array;
  const [K = 0, ...grid] = pa.shape;
  const n = grid.reduce((x, y) => x * y, 1);
  const expected = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let best = -Infinity;
    for (let c = 0; c < K; c++) {
      const m = Math.fround(Math.fround((pa.data[c * n + i] as number) + (pb[c * n + i] as number)) / 2);
      if (m > best) {
        best = m;
        expected[i] = c;
      }
    }
  }
  const names = readNpyHeader(a['class_names.npy'] ?? new Uint8Array());
  assert.deepEqual([names?.descr, names?.shape], ['<U10', [K]]); // 'background' is the longest
  // the written map is in the input's geometry: same header grid as the members' predictions
  const seg = readNifti(readFileSync(join(out, 'ct.nii.gz')));
  const member = readNifti(readFileSync(join(dir, 'p0', 'ct.nii.gz')));
  assert.deepEqual(seg.dims, member.dims);
  assert.deepEqual(seg.affine, member.affine);
  // the crop box is the whole image here, so the probability grid is the canonical image
  const counts = (labels: ArrayLike<number>): number[] => {
    const h = new Array<number>(K).fill(0);
    for (let i = 0; i < labels.length; i++) h[labels[i] as number] = (h[labels[i] as number] ?? 0) + 1;
    return h;
  };
  assert.deepEqual(counts(seg.raw as ArrayLike<number>), counts(expected));
  assert.ok(readdirSync(join(out, 'ct_classes')).length >= K - 1);
  // a folder with other cases is refused before anything is written
  const bad = runCli(['ensemble', '-i', join(dir, 'p0'), dir, '-o', join(dir, 'none')]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /ensemble: '.*' (holds no|has other cases)/);
  assert.equal(existsSync(join(dir, 'none')), false);
});
