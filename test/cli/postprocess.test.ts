/** `stunet postprocess determine|apply` end to end on 4×4×4 cases worked through with nnU-Net v1's rules. */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parsePostprocessingJson } from '../../src/evaluation/index.js';
import { mat4, type Mat4 } from '../../src/io/geometry.js';
import { readNifti, writeNifti } from '../../src/io/nifti.js';
import { createNifti } from '../../src/io/nifti-volume.js';
import { runCli, tempDir, type CliResult } from './cli-helpers.js';

/** Spacing 1.5 × 1.5 × 3 mm: 6.75 mm³ a voxel. */
const AFFINE = mat4([
  [-1.5, 0, 0, 10],
  [0, 1.5, 0, -20],
  [0, 0, 3, 30],
]);

/** A 4×4×4 uint8 label map; `voxels` maps label → flat indices (i + 4j + 16k). */
function writeCase(path: string, voxels: Record<number, number[]>, size = 4, affine: Mat4 = AFFINE): void {
  const raw = new Uint8Array(size ** 3);
  for (const [label, idx] of Object.entries(voxels)) for (const i of idx) raw[i] = Number(label);
  writeFileSync(path, writeNifti(createNifti({ raw, dims: [size, size, size], affine })));
}

function labelsOf(path: string): { labels: number[]; datatype: string } {
  const img = readNifti(new Uint8Array(readFileSync(path)));
  return { labels: [...img.data], datatype: img.datatype };
}

/** Indices of each non-zero label. */
function voxels(labels: readonly number[]): Record<number, number[]> {
  const out: Record<number, number[]> = {};
  labels.forEach((v, i) => {
    if (v !== 0) (out[v] ??= []).push(i);
  });
  return out;
}

/** Exit 1 with exactly one line on stderr, `error: …` matching `why`. */
function assertOneError(r: CliResult, why: RegExp): void {
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /^error: [^\n]*\n$/);
  assert.match(r.stderr, why);
}

/** Two validation cases: a stray class-1 voxel in each; class 2 away from class 1. */
function validationFolders(): {
  dir: string;
  pred: string;
  ref: string;
  determine: (...more: string[]) => CliResult;
} {
  const dir = tempDir();
  const pred = join(dir, 'validation_raw');
  const ref = join(dir, 'gt_niftis');
  mkdirSync(pred);
  mkdirSync(ref);
  writeCase(join(ref, 'a.nii.gz'), { 1: [0, 1, 2, 3], 2: [32, 33] });
  writeCase(join(pred, 'a.nii.gz'), { 1: [0, 1, 2, 3, 63], 2: [32, 33] });
  writeCase(join(ref, 'b.nii.gz'), { 1: [16, 17, 18], 2: [48, 49, 50] });
  writeCase(join(pred, 'b.nii.gz'), { 1: [16, 17, 18, 60], 2: [48, 49, 50] });
  const determine = (...more: string[]): CliResult =>
    runCli(['postprocess', 'determine', '--pred', pred, '--ref', ref, ...more]);
  return { dir, pred, ref, determine };
}

test('determine: the all-foreground step would lose class 2 in a; per class, class 1 gains; files post-processed', () => {
  const { dir, ref, determine } = validationFolders();
  writeCase(join(ref, 'other_fold.nii.gz'), { 2: [0] }); // gt_niftis holds every fold's cases: left out
  const out = join(dir, 'postprocessing.json');
  const final = join(dir, 'validation_final');
  const r = determine('-o', out, '--out-folder', final);
  assert.equal(r.status, 0, r.stderr);
  // raw class 1: a 2·4/(2·4+1), b 2·3/(2·3+1); all-foreground keeps only a's 1s: class 2 → 0 there
  assert.match(r.stdout, /^1 +0\.8730 +1\.0000 +1\.0000 +1\.0000$/m);
  assert.match(r.stdout, /^2 +1\.0000 +0\.5000 +1\.0000 +1\.0000$/m);
  assert.match(r.stdout, /keep the largest component of: class 1\n/);
  const text = readFileSync(out, 'utf8');
  assert.deepEqual(parsePostprocessingJson(text), { forWhichClasses: [1], minValidObjectSizes: null });
  assert.match(text, /^ {4}"num_samples": 2,$/m);
  assert.match(text, /^ {4}"validation_raw": "validation_raw"$/m);
  assert.match(text, /^ {4}"validation_final": "validation_final",$/m);
  assert.match(text, /^ {8}"1": 0\.873015873015873,$/m);
  assert.deepEqual(readdirSync(final).sort(), ['a.nii.gz', 'b.nii.gz']);
  const a = labelsOf(join(final, 'a.nii.gz'));
  assert.equal(a.datatype, 'uint8');
  assert.deepEqual(voxels(a.labels), { 1: [0, 1, 2, 3], 2: [32, 33] });
  assert.deepEqual(voxels(labelsOf(join(final, 'b.nii.gz')).labels), { 1: [16, 17, 18], 2: [48, 49, 50] });
  // --json: the same file on stdout, progress on stderr
  const j = determine('-o', join(dir, 'pp2.json'), '--json');
  assert.equal(j.status, 0, j.stderr);
  // no --out-folder: nnU-Net's trainer name for validation_final is recorded
  assert.equal(j.stdout, text.replace(': "validation_final"', ': "validation_raw_postprocessed"'));
  assert.equal(readFileSync(join(dir, 'pp2.json'), 'utf8'), j.stdout);
  assert.match(j.stderr, /\[pass 1\/1\] \[2\/2\] b/);
});

/** A map for apply: 1s {0,1,2,3} with a 2 touching them at 5, a stray 1 at 63, a pair of 2s {40,41}. */
function applyInput(dir: string): string {
  const path = join(dir, 'in', 'case.nii.gz');
  mkdirSync(join(dir, 'in'));
  writeCase(path, { 1: [0, 1, 2, 3, 63], 2: [5, 40, 41] });
  return path;
}

test('apply: a postprocessing.json as nnU-Net writes it (a group and a class, min_valid_object_sizes in mm³)', () => {
  const dir = tempDir();
  const input = applyInput(dir);
  const pp = join(dir, 'postprocessing.json');
  writeFileSync(
    pp,
    JSON.stringify(
      {
        dc_per_class_raw: { '1': 0.9, '2': 0.8 },
        for_which_classes: [[1, 2], 2],
        min_valid_object_sizes: '{(1, 2): 10.0, 2: 13.5}',
        num_samples: 4,
        validation_final: 'cv_niftis_postprocessed',
        validation_raw: 'cv_niftis_raw',
      },
      null,
      4,
    ),
  );
  const out = join(dir, 'out.nii.gz');
  const r = runCli(['postprocess', 'apply', '-i', input, '-o', out, '--postprocess', pp]);
  assert.equal(r.status, 0, r.stderr);
  // group (1, 2): {0-3, 5} is the largest; the stray 1 (6.75 mm³ < 10) goes, the 2s {40, 41} (13.5) stay;
  // then class 2: {40, 41} is its largest, {5} (6.75 < 13.5) goes
  assert.deepEqual(voxels(labelsOf(out).labels), { 1: [0, 1, 2, 3], 2: [40, 41] });
  assert.match(r.stdout, /out\.nii\.gz {2}2 voxel\(s\) removed/);
});

test('apply: a folder, --remove-small-blobs in mm³ (6.75 a voxel here), --json', () => {
  const dir = tempDir();
  applyInput(dir);
  writeCase(join(dir, 'in', 'other.nii'), { 3: [10] });
  writeFileSync(join(dir, 'in', 'notes.txt'), 'not an image');
  const out = join(dir, 'out');
  const r = runCli([
    'postprocess',
    'apply',
    '-i',
    join(dir, 'in'),
    '-o',
    out,
    '--remove-small-blobs',
    '7',
    '--json',
  ]);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { output: string; removedVoxels: number }[];
  assert.deepEqual(
    report.map((f) => [f.output, f.removedVoxels]),
    [
      [join(out, 'case.nii.gz'), 2],
      [join(out, 'other.nii'), 1],
    ],
  );
  assert.deepEqual(voxels(labelsOf(join(out, 'case.nii.gz')).labels), { 1: [0, 1, 2, 3], 2: [40, 41] });
  assert.deepEqual(voxels(labelsOf(join(out, 'other.nii')).labels), {});
  assert.deepEqual(readdirSync(out).sort(), ['case.nii.gz', 'other.nii']);
});

test('bad input: one clear error and nothing written', () => {
  const dir = tempDir();
  const input = applyInput(dir);
  const out = join(dir, 'out.nii.gz');
  const bad = join(dir, 'bad.json');
  const apply = (...more: string[]): CliResult =>
    runCli(['postprocess', 'apply', '-i', input, '-o', out, ...more]);
  const badJson: [string, RegExp][] = [
    [
      '{"for_which_classes": [[1, 2], 0], "min_valid_object_sizes": "None"}',
      /for_which_classes\[1\].*background/,
    ],
    ['{"for_which_classes": [1], "min_valid_object_sizes": "{2: 3.0}"}', /no size for 1 /],
  ];
  for (const [text, why] of badJson) {
    writeFileSync(bad, text);
    assertOneError(apply('--postprocess', bad), why);
  }
  assertOneError(apply(), /nothing to apply/);
  assertOneError(apply('--remove-small-blobs', 'big'), /--remove-small-blobs: expected a number/);
  const missing = ['-i', join(dir, 'nope.nii.gz'), '-o', out, '--remove-small-blobs', '1'];
  assertOneError(runCli(['postprocess', 'apply', ...missing]), /nope\.nii\.gz' does not exist/);
  assert.equal(existsSync(out), false);

  // determine: a prediction of another size, then of another affine, then one without a reference
  const { dir: d2, pred, determine } = validationFolders();
  const pp = join(d2, 'postprocessing.json');
  const final = join(d2, 'final');
  writeCase(join(pred, 'b.nii.gz'), { 1: [16] }, 5);
  const sizeError =
    /^error: postprocess: geometry differs: prediction .*b\.nii\.gz is 5×5×5 voxels, reference .* 4×4×4/;
  assertOneError(determine('-o', pp, '--out-folder', final), sizeError);
  const shifted = mat4([
    [-1.5, 0, 0, 10],
    [0, 1.5, 0, -20],
    [0, 0, 2, 30],
  ]);
  writeCase(join(pred, 'b.nii.gz'), { 1: [16] }, 4, shifted);
  assertOneError(determine('-o', pp, '--out-folder', final), /postprocess: geometry differs: affine/);
  writeCase(join(pred, 'b.nii.gz'), { 1: [16] });
  writeCase(join(pred, 'c.nii.gz'), { 1: [16] });
  const noRef = /postprocess: no reference in .* for predicted case\(s\) c/;
  assertOneError(determine('-o', pp, '--out-folder', final), noRef);
  assertOneError(determine('-o', pp, '--out-folder', pred), /--out-folder .* is the prediction folder/);
  assert.equal(existsSync(pp), false);
  assert.equal(existsSync(final), false);
});
