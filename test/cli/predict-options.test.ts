/**
 * Issue 16 in the CLI: --list-classes, --names, --roi-subset, --postprocess, --remove-small-blobs and the
 * statistics options, on a crop of the real example CT with the official T1 checkpoint (its classes are
 * label_1…label_4). Each bad combination is one error line, and nothing is written.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { removeSmallBlobs } from '../../src/evaluation/connected-components.js';
import { applyPostprocessing } from '../../src/evaluation/postprocess.js';
import { parsePostprocessingJson } from '../../src/evaluation/postprocessing-json.js';
import { cropNifti } from '../../src/io/nifti-crop.js';
import { readNifti, writeNifti } from '../../src/io/nifti.js';
import { fixturePath } from '../helpers.js';
import { runCli, tempDir } from './cli-helpers.js';

const MODEL = fixturePath('stunet-forward', 'T1.model');

function caseDir(): { dir: string; ct: string } {
  const dir = tempDir();
  const ct = join(dir, 'ct.nii.gz');
  const img = readNifti(readFileSync(fixturePath('nifti', 'example_ct_sm.nii.gz')));
  writeFileSync(ct, writeNifti(cropNifti(img, [30, 20, 4], [48, 40, 16])));
  return { dir, ct };
}

/** A postprocessing.json as nnU-Net v1 writes it, choosing `forWhichClasses`. */
function postprocessingJson(forWhichClasses: (number | number[])[]): string {
  return JSON.stringify({
    for_which_classes: forWhichClasses,
    dc_per_class_raw: {},
    dc_per_class_pp_all: {},
    dc_per_class_pp_per_class: {},
    min_valid_object_sizes: 'None',
    validation_raw: 'r',
    validation_final: 'f',
    num_samples: 1,
  });
}

/** `stunet predict -i ct -o out -m T1 --fast …extra`. */
function predictFast(ct: string, out: string, ...extra: string[]): ReturnType<typeof runCli> {
  return runCli(['predict', '-i', ct, '-o', out, '-m', MODEL, '--fast', ...extra]);
}

function labelsOf(path: string): {
  labels: Uint8Array;
  dims: [number, number, number];
  spacing: [number, number, number];
} {
  const im = readNifti(readFileSync(path));
  const [i = 1, j = 1, k = 1] = im.dims;
  const p = im.header.pixdim;
  return {
    labels: Uint8Array.from(im.raw as ArrayLike<number>),
    dims: [k, j, i],
    spacing: [Math.abs(p[3] ?? 1), Math.abs(p[2] ?? 1), Math.abs(p[1] ?? 1)],
  };
}

test('--list-classes prints the classes as they would be written, with no -i/-o', () => {
  const r = runCli(['predict', '-m', MODEL, '--list-classes']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /4 classes \(the model\):\n\s+1 {2}label_1\n/);
  const v1 = runCli([
    'predict',
    '-m',
    MODEL,
    '--list-classes',
    '--names',
    'totalseg-v1',
    '--missing-classes',
    'background',
  ]);
  assert.equal(v1.status, 0, v1.stderr);
  assert.match(v1.stdout, /104 classes \(--names totalseg-v1\):\n\s+1 {2}spleen\n/);
});

test('bad label options: one error line each, nothing written', () => {
  const { dir, ct } = caseDir();
  const out = join(dir, 'out', 'seg.nii.gz');
  const pp = join(dir, 'pp.json');
  writeFileSync(pp, postprocessingJson([7]));
  writeFileSync(join(dir, 'file'), '');
  const cases: [string[], RegExp][] = [
    [['--report', join(dir, 'file', 'r.json')], /cannot write to --report's folder '.*file'/],
    [
      ['--names', 'totalseg-v2'],
      /--names totalseg-v2: the scheme has no class label_1, label_2, label_3, label_4 .*--missing-classes background/,
    ],
    [['--names', 'nnunet'], /unknown label names 'nnunet': use stunet, totalseg-v1 or totalseg-v2/],
    [['--missing-classes', 'background'], /--missing-classes applies to --names/],
    [['--roi-subset', 'liver'], /--roi-subset: 'liver' is not a class of this model.*--list-classes/],
    [['--roi-subset', 'label_1', '--map', 'Task011_BTCV'], /--map/],
    [['--roi-margin', '5'], /--roi-margin and --roi-exact apply to --roi-subset/],
    [['--statistics', '--stats-aggregation', 'mode'], /--stats-aggregation: use mean or median, got 'mode'/],
    [['--stats-include-incomplete'], /add --statistics/],
    [['--remove-small-blobs', '-3'], /--remove-small-blobs: expected a volume in mm³ > 0/],
    [['--postprocess', join(dir, 'none.json')], /--postprocess: '.*none.json' does not exist/],
    [['--postprocess', pp], /--postprocess names class 7, but this model predicts classes 1…4/],
  ];
  for (const [extra, message] of cases) {
    const r = predictFast(ct, out, ...extra);
    assert.equal(r.status, 1, `${extra.join(' ')}: ${r.stdout}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${extra.join(' ')}: ${r.stderr}`);
    assert.match(lines[0] ?? '', message);
    assert.equal(existsSync(join(dir, 'out')), false, extra.join(' '));
  }
});

test('--roi-subset writes only its class, prints both passes, statistics list only it (median, incomplete)', () => {
  const { dir, ct } = caseDir();
  const out = join(dir, 'seg.nii.gz');
  const r = predictFast(
    ct,
    out,
    '--roi-subset',
    'label_2',
    '--statistics',
    '--stats-aggregation',
    'median',
    '--stats-include-incomplete',
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stdout,
    /roi subset: coarse pass \d+ tiles \(no TTA, step 1\) found .*; full pass \d+ tiles on .* alone .*the whole image: \d+ tiles/,
  );
  assert.ok([...new Set(labelsOf(out).labels)].every((v) => v === 0 || v === 2));
  const stats = JSON.parse(readFileSync(join(dir, 'seg_statistics.json'), 'utf8')) as Record<
    string,
    { volume: number; intensity: number; intensity_median: number }
  >;
  assert.deepEqual(Object.keys(stats), ['label_2']);
  assert.equal(stats.label_2?.intensity, stats.label_2?.intensity_median);
});

test('--postprocess and --remove-small-blobs change the labels exactly as the library functions do', () => {
  const { dir, ct } = caseDir();
  const plain = join(dir, 'plain.nii.gz');
  assert.equal(predictFast(ct, plain).status, 0);
  const ppText = postprocessingJson([[1, 2, 3, 4], 2]);
  const pp = join(dir, 'postprocessing.json');
  writeFileSync(pp, ppText);
  const out = join(dir, 'pp.nii.gz');
  const r = predictFast(ct, out, '--postprocess', pp, '--remove-small-blobs', '40');
  assert.equal(r.status, 0, r.stderr);
  const { labels, dims, spacing } = labelsOf(plain);
  const expected = applyPostprocessing(
    Uint8Array.from(labels),
    dims,
    parsePostprocessingJson(ppText),
    spacing,
  );
  const removed = removeSmallBlobs(expected, dims, spacing, 40);
  assert.ok(removed.removedComponents > 0);
  const got = labelsOf(out).labels;
  assert.notDeepEqual(got, labels);
  assert.deepEqual(got, expected);
  assert.deepEqual(readdirSync(dir).sort(), [
    'ct.nii.gz',
    'plain.json',
    'plain.nii.gz',
    'postprocessing.json',
    'pp.json',
    'pp.nii.gz',
  ]);
});
