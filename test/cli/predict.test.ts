/**
 * `stunet predict` end to end with the T1 model (v1 .model, 1 channel, 5 classes, patch 16×32×64) on
 * crops of real CT: geometry of the output equals the input's, labels in range, --reorient round trip,
 * and bad input refused with nothing written.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createNifti } from '../../src/io/nifti-volume.js';
import { readNifti, writeNifti, type NiftiImage } from '../../src/io/nifti.js';
import {
  orientationCode,
  orientationFromCode,
  reorient,
  toClosestCanonical,
} from '../../src/io/orientation.js';
import { fixturePath } from '../helpers.js';
import { cropNifti } from '../../src/io/nifti-crop.js';
import { runCli, tempDir } from './cli-helpers.js';

const MODEL = fixturePath('stunet-forward', 'T1.model');

function ctCrop(dir: string): string {
  const img = readNifti(readFileSync(fixturePath('nifti', 'example_ct_sm.nii.gz')));
  const path = join(dir, 'ct.nii.gz');
  writeFileSync(path, writeNifti(cropNifti(img, [40, 30, 6], [36, 30, 14])));
  return path;
}

function checkOutput(input: string, output: string, classes: number): NiftiImage {
  const a = readNifti(readFileSync(input));
  const b = readNifti(readFileSync(output));
  assert.deepEqual(b.dims, a.dims);
  assert.deepEqual(b.affine, a.affine);
  assert.equal(orientationCode(b.affine), orientationCode(a.affine));
  assert.equal(b.datatype, 'uint8');
  for (const v of b.data) assert.ok(v >= 0 && v < classes && Number.isInteger(v));
  return b;
}

test('predict: a real CT crop with the T1 model keeps the input geometry; names, statistics, preview', () => {
  const dir = tempDir();
  const input = ctCrop(dir);
  const out = join(dir, 'out', 'seg.nii.gz');
  const r = runCli([
    'predict',
    '-i',
    input,
    '-o',
    out,
    '-m',
    MODEL,
    '--no-tta',
    '--statistics',
    '--preview',
    '--per-class',
  ]);
  assert.equal(r.status, 0, r.stderr);
  checkOutput(input, out, 5);
  const files = readdirSync(join(dir, 'out')).sort();
  assert.deepEqual(files, [
    'seg.json',
    'seg.nii.gz',
    'seg_classes',
    'seg_preview.png',
    'seg_statistics.json',
  ]);
  assert.ok(
    readFileSync(join(dir, 'out', 'seg_preview.png'))
      .subarray(1, 4)
      .toString() === 'PNG',
  );
  const ext = readNifti(readFileSync(out)).header.extensions;
  assert.equal(ext.length, 1);
  assert.match(r.stdout, /ct\.nii\.gz: 36×30×14/);
});

test('predict: the sheared, anisotropic head CT (separate-z export) keeps its geometry', () => {
  const dir = tempDir();
  const img = readNifti(readFileSync(fixturePath('nifti', 'shear.nii.gz')));
  const input = join(dir, 'shear.nii.gz');
  writeFileSync(input, writeNifti(cropNifti(img, [100, 120, 0], [90, 100, 54])));
  const out = join(dir, 'shear_seg.nii.gz');
  const r = runCli(['predict', '-i', input, '-o', out, '-m', MODEL, '--no-tta']);
  assert.equal(r.status, 0, r.stderr);
  checkOutput(input, out, 5);
});

test('predict --reorient: output in the input orientation, equal to predicting the canonical image', () => {
  const dir = tempDir();
  const ras = ctCrop(dir);
  const lpi = join(dir, 'lpi.nii.gz');
  writeFileSync(lpi, writeNifti(reorient(readNifti(readFileSync(ras)), orientationFromCode('LPI'))));
  const r1 = runCli([
    'predict',
    '-i',
    lpi,
    '-o',
    join(dir, 'lpi_seg.nii.gz'),
    '-m',
    MODEL,
    '--no-tta',
    '--reorient',
  ]);
  assert.equal(r1.status, 0, r1.stderr);
  const r2 = runCli(['predict', '-i', ras, '-o', join(dir, 'ras_seg.nii.gz'), '-m', MODEL, '--no-tta']);
  assert.equal(r2.status, 0, r2.stderr);
  const seg = checkOutput(lpi, join(dir, 'lpi_seg.nii.gz'), 5);
  const back = toClosestCanonical(seg).image;
  const ref = readNifti(readFileSync(join(dir, 'ras_seg.nii.gz')));
  assert.deepEqual(back.affine, ref.affine);
  assert.deepEqual(back.data, ref.data);
});

test('predict: a folder of cases is processed and each reported; a killed run’s temporary files go', () => {
  const dir = tempDir();
  ctCrop(dir);
  mkdirSync(join(dir, 'preds'));
  const gone = spawnSync(process.execPath, ['-e', '']).pid; // exited: its pid is free
  writeFileSync(join(dir, 'preds', `.ct.nii.gz.${gone}-0123abcd.tmp`), 'half-written');
  const r = runCli(['predict', '-i', dir, '-o', join(dir, 'preds'), '-m', MODEL, '--no-tta']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /case 1\/1|ct\.nii\.gz/);
  assert.deepEqual(readdirSync(join(dir, 'preds')).sort(), ['ct.json', 'ct.nii.gz']);
});

test('predict: nnU-Net input names case_0000.nii.gz give case.nii.gz in folder mode', () => {
  const dir = tempDir();
  renameSync(ctCrop(dir), join(dir, 'case7_0000.nii.gz'));
  const r = runCli(['predict', '-i', dir, '-o', join(dir, 'preds'), '-m', MODEL, '--no-tta']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readdirSync(join(dir, 'preds')).sort(), ['case7.json', 'case7.nii.gz']);
});

function expectRefused(args: string[], message: RegExp, outDir: string): void {
  const r = runCli(args);
  assert.equal(r.status, 1);
  assert.match(r.stderr, message);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  let left: string[] = [];
  try {
    left = readdirSync(outDir);
  } catch {
    left = [];
  }
  assert.deepEqual(left, [], 'nothing written');
}

test('predict refuses truncated, 4D and non-finite input with one error line and no output', () => {
  const dir = tempDir();
  const good = readFileSync(ctCrop(dir));
  const out = join(dir, 'o');
  const truncated = join(dir, 'trunc.nii.gz');
  writeFileSync(truncated, good.subarray(0, Math.floor(good.length / 2)));
  expectRefused(['predict', '-i', truncated, '-o', join(out, 'a.nii.gz'), '-m', MODEL], /^error: /, out);

  const img = readNifti(good);
  const d4 = join(dir, 'd4.nii.gz');
  const raw4 = new Int16Array(img.data.length * 2);
  writeFileSync(d4, writeNifti(createNifti({ raw: raw4, dims: [...img.dims, 2], affine: img.affine })));
  expectRefused(['predict', '-i', d4, '-o', join(out, 'b.nii.gz'), '-m', MODEL], /4D/, out);

  const nan = join(dir, 'nan.nii.gz');
  const f = Float32Array.from(img.data);
  f[10] = NaN;
  f[20] = Infinity;
  writeFileSync(nan, writeNifti(createNifti({ raw: f, dims: img.dims, affine: img.affine })));
  expectRefused(['predict', '-i', nan, '-o', join(out, 'c.nii.gz'), '-m', MODEL], /NaN/, out);

  expectRefused(
    ['predict', '-i', join(dir, 'missing.nii.gz'), '-o', join(out, 'd.nii.gz'), '-m', MODEL],
    /^error: /,
    out,
  );
  expectRefused(
    ['predict', '-i', truncated, '-o', join(out, 'e.nii.gz'), '-m', MODEL, '--backend', 'gpu'],
    /--backend/,
    out,
  );
  expectRefused(
    ['predict', '-i', truncated, '-o', join(out, 'f.nii.gz'), '-m', MODEL, '--tta-memory-gb', '-1'],
    /^error: --tta-memory-gb: expected a number ≥ 0, got '-1'$/m,
    out,
  );
});

test('predict: -i a,b gives one case its channels (2-channel v2 model); -o seg.nii is written uncompressed', () => {
  const dir = tempDir();
  const a = ctCrop(dir);
  const b = join(dir, 'b.nii.gz');
  const img = readNifti(readFileSync(a));
  writeFileSync(
    b,
    writeNifti(
      createNifti({
        raw: Float32Array.from(img.data, (v) => Math.sqrt(Math.abs(v))),
        dims: img.dims,
        affine: img.affine,
      }),
    ),
  );
  const out = join(dir, 'out', 'seg.nii');
  const T2 = fixturePath('stunet-forward', 'T2_checkpoint_final.pth');
  const r = runCli(['predict', '-i', `${a},${b}`, '-o', out, '-m', T2, '--no-tta']);
  assert.equal(r.status, 0, r.stderr);
  const bytes = readFileSync(out);
  assert.notEqual(bytes[0], 0x1f, 'not gzip');
  assert.deepEqual(readNifti(bytes).dims, img.dims);
  expectRefused(
    ['predict', '-i', a, '-o', join(dir, 'one', 'x.nii.gz'), '-m', T2],
    /takes 2 input channel\(s\)/,
    join(dir, 'one'),
  );
});

test('predict refuses --map for a model that is not STU-Net 104-class, and an unwritable -o, before computing', () => {
  const dir = tempDir();
  const ct = ctCrop(dir);
  const out = join(dir, 'o');
  expectRefused(
    ['predict', '-i', ct, '-o', join(out, 'a.nii.gz'), '-m', MODEL, '--map', 'Task011_BTCV'],
    /^error: --map Task011_BTCV .*4 class\(es\)/,
    out,
  );
  expectRefused(
    ['predict', '-i', ct, '-o', '/dev/null/sub/a.nii.gz', '-m', MODEL],
    /cannot write to the output folder '\/dev\/null\/sub'/,
    out,
  );
});

test('predict: --mirror-axes with --no-tta is one error; the line of a case says which orientation ran', () => {
  const dir = tempDir();
  const ct = ctCrop(dir);
  const out = join(dir, 'o');
  expectRefused(
    ['predict', '-i', ct, '-o', join(out, 'a.nii.gz'), '-m', MODEL, '--no-tta', '--mirror-axes', '0'],
    /--mirror-axes and --no-tta contradict/,
    out,
  );
  const r = runCli(['predict', '-i', ct, '-o', join(out, 'a.nii.gz'), '-m', MODEL, '--no-tta']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /predicted as stored/);
});

test('predict -m model.onnx (from export-onnx) segments as the model it came from', () => {
  const dir = tempDir();
  const input = ctCrop(dir);
  const onnx = join(dir, 't1.onnx');
  assert.equal(runCli(['export-onnx', '-m', MODEL, '-o', onnx]).status, 0);
  const a = runCli(['predict', '-i', input, '-o', join(dir, 'a.nii.gz'), '-m', MODEL, '--no-tta']);
  const b = runCli(['predict', '-i', input, '-o', join(dir, 'b.nii.gz'), '-m', onnx, '--no-tta']);
  assert.equal(a.status, 0, a.stderr);
  assert.equal(b.status, 0, b.stderr);
  const segA = readNifti(readFileSync(join(dir, 'a.nii.gz')));
  const segB = readNifti(readFileSync(join(dir, 'b.nii.gz')));
  assert.deepEqual(segB.data, segA.data);
  assert.ok(
    segA.data.some((v) => v > 0),
    'something was segmented',
  );
});

test('predict says the memory it needs before anything, and refuses beyond --max-memory-gb', () => {
  const dir = tempDir();
  const input = ctCrop(dir);
  const out = join(dir, 'o', 'seg.nii.gz');
  const r = runCli(['predict', '-i', input, '-o', out, '-m', MODEL, '--no-tta', '--max-memory-gb', '0.05']);
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    /^error: predict with .*T1\.model needs about [\d.]+ MiB of memory, 51\.20 MiB is available \(or allowed by --max-memory-gb\)/,
  );
  assert.match(r.stdout, /^memory: about [\d.]+ MiB needed \(weights [\d.]+ MiB \+ the runtime's copy/);
  assert.throws(() => readdirSync(join(dir, 'o')), /ENOENT/, 'nothing was written');
  const ok = runCli(['predict', '-i', input, '-o', out, '-m', MODEL, '--no-tta', '--max-memory-gb', '4']);
  assert.equal(ok.status, 0, ok.stderr);
  const lines = ok.stdout.split('\n');
  assert.match(lines[0] ?? '', /^memory: about .* needed .*; 4\.00 GiB allowed \(--max-memory-gb\)$/);
  assert.match(lines[1] ?? '', /^device: cpu/);
});

test('predict --fast: no TTA and step 1 (fewer tiles), exclusive with --step-size; TTA on the CPU is noted', () => {
  const dir = tempDir();
  const img = readNifti(readFileSync(fixturePath('nifti', 'example_ct_sm.nii.gz')));
  const input = join(dir, 'ct.nii.gz');
  writeFileSync(input, writeNifti(cropNifti(img, [20, 20, 0], [80, 70, 30])));
  const fast = runCli(['predict', '-i', input, '-o', join(dir, 'f.nii.gz'), '-m', MODEL, '--fast']);
  assert.equal(fast.status, 0, fast.stderr);
  assert.doesNotMatch(fast.stdout, /note: mirror TTA/);
  const noTta = runCli(['predict', '-i', input, '-o', join(dir, 'n.nii.gz'), '-m', MODEL, '--no-tta']);
  assert.equal(noTta.status, 0, noTta.stderr);
  const tiles = (stderr: string): number => Number(/sliding-window: (\d+)\/\1/.exec(stderr)?.[1] ?? NaN);
  assert.ok(tiles(fast.stderr) < tiles(noTta.stderr), `${tiles(fast.stderr)} vs ${tiles(noTta.stderr)} tiles`);
  const both = runCli(['predict', '-i', input, '-o', join(dir, 'x.nii.gz'), '-m', MODEL, '--fast', '--step-size', '0.5']);
  assert.equal(both.status, 1);
  assert.match(both.stderr, /^error: --fast sets --step-size 1 and --no-tta/);
  const help = runCli(['predict', '--help']).stdout;
  assert.match(help, /--fast/);
  const tta = runCli(['predict', '-i', ctCrop(dir), '-o', join(dir, 't.nii.gz'), '-m', MODEL]);
  assert.equal(tta.status, 0, tta.stderr);
  assert.match(tta.stdout, /note: mirror TTA runs 8 passes per tile \(8× the time\); --no-tta skips it/);
});
