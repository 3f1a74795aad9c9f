import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseDatasetJson, type DatasetProblem } from '../../src/io/dataset.js';
import { validateDatasetDir } from '../../src/node/dataset-files.js';
import { tempDir } from '../cli/cli-helpers.js';
import { image, save, syntheticCase, writeDataset } from '../planning/synthetic-dataset.js';

function threeCases(): ReturnType<typeof syntheticCase>[] {
  return [syntheticCase('case_000', 1), syntheticCase('case_001', 2), syntheticCase('case_002', 3)];
}

test('a valid synthetic dataset has no problems and its cases are described', () => {
  const dir = tempDir();
  writeDataset(dir, threeCases());
  const { desc, problems } = validateDatasetDir(dir);
  assert.deepEqual(problems, []);
  assert.ok(desc !== null);
  assert.deepEqual(
    desc.cases.map((c) => [c.id, c.images, c.label]),
    ['case_000', 'case_001', 'case_002'].map((id) => [
      id,
      [`imagesTr/${id}_0000.nii.gz`],
      `labelsTr/${id}.nii.gz`,
    ]),
  );
  assert.deepEqual(desc.json.labels.allLabels, [0, 1, 2]);
  assert.equal(desc.json.labels.ignoreLabel, null);
});

test('every problem is reported at once', () => {
  const dir = tempDir();
  const cases = [...threeCases(), syntheticCase('case_003', 4)];
  writeDataset(dir, cases, { numTraining: 7 });
  // case_000: label missing
  rmSync(join(dir, 'labelsTr', 'case_000.nii.gz'));
  // case_001: label shape differs; case_002: spacing, origin differ and an undeclared label 5
  const c1 = cases[1];
  const c2 = cases[2];
  const c3 = cases[3];
  assert.ok(c1 !== undefined && c2 !== undefined && c3 !== undefined);
  save(join(dir, 'labelsTr', 'case_001.nii.gz'), image(new Uint8Array(20 * 24 * 15), [20, 24, 15]));
  const bad = Uint8Array.from(c2.label);
  bad[100] = 5;
  save(join(dir, 'labelsTr', 'case_002.nii.gz'), image(bad, c2.dims, [1, 1, 1.5], [3, 0, 0]));
  // case_003: an extra channel file beyond the one declared
  save(join(dir, 'imagesTr', 'case_003_0001.nii.gz'), image(c3.channels[0] ?? new Float32Array(0), c3.dims));
  // junk files are ignored
  writeFileSync(join(dir, 'imagesTr', '._case_000_0000.nii.gz'), 'junk');
  const { problems } = validateDatasetDir(dir);
  const kinds = (id: string | undefined): string[] =>
    problems
      .filter((p: DatasetProblem) => p.caseId === id)
      .map((p) => p.kind)
      .sort();
  assert.deepEqual(kinds(undefined), ['num-training']);
  assert.deepEqual(kinds('case_000'), ['missing-file']);
  assert.deepEqual(kinds('case_001'), ['geometry']);
  assert.match(
    problems.find((p) => p.caseId === 'case_001')?.message ?? '',
    /shape \(Z, Y, X\) \[15, 24, 20\] ≠ \[16, 24, 20\]/,
  );
  assert.deepEqual(kinds('case_002'), ['geometry', 'geometry', 'undeclared-label']);
  assert.deepEqual(kinds('case_003'), ['channel-count']);
  assert.match(
    problems.find((p) => p.kind === 'undeclared-label')?.message ?? '',
    /label value\(s\) 5 not declared/,
  );
});

test('dataset.json problems: missing keys, non-consecutive labels, bad ignore, regions', () => {
  const problems: DatasetProblem[] = [];
  assert.equal(parseDatasetJson('{"labels": {"background": 0}}', problems), null);
  assert.match(problems[0]?.message ?? '', /missing required keys channel_names, numTraining, file_ending/);

  const base = { channel_names: { '0': 'CT' }, numTraining: 1, file_ending: '.nii.gz' };
  const p2: DatasetProblem[] = [];
  const j = parseDatasetJson({ ...base, labels: { background: 0, a: 1, b: 3 } }, p2);
  assert.deepEqual(p2, []);
  assert.deepEqual(j?.labels.allLabels, [0, 1, 3]);

  const p3: DatasetProblem[] = [];
  parseDatasetJson({ ...base, labels: { background: 0, a: 1, ignore: 5 } }, p3);
  assert.match(p3[0]?.message ?? '', /"ignore" \(5\) must be the highest label, one above/);

  const p4: DatasetProblem[] = [];
  const ok = parseDatasetJson({ ...base, labels: { background: 0, a: 1, b: 2, ignore: 3 } }, p4);
  assert.equal(ok?.labels.ignoreLabel, 3);

  const p5: DatasetProblem[] = [];
  parseDatasetJson({ ...base, labels: { background: 0, whole: [1, 2], core: 2 } }, p5);
  assert.match(p5[0]?.message ?? '', /regions_class_order/);
  const p6: DatasetProblem[] = [];
  const r = parseDatasetJson(
    { ...base, labels: { background: 0, whole: [1, 2], core: 2 }, regions_class_order: [1, 2] },
    p6,
  );
  assert.deepEqual(r?.labels.regions, [[1, 2], [2]]);
  assert.deepEqual(r.labels.allLabels, [0, 1, 2]);
});

test('non-consecutive labels and the ignore label in label files are checked on disk', () => {
  const dir = tempDir();
  writeDataset(dir, threeCases(), { labels: { background: 0, organ: 1, tumor: 2, ignore: 3 } });
  assert.deepEqual(validateDatasetDir(dir).problems, []);
  const dir2 = tempDir();
  writeDataset(dir2, threeCases(), { labels: { background: 0, organ: 1, tumor: 3 } });
  const { problems } = validateDatasetDir(dir2);
  assert.ok(problems.some((p) => p.kind === 'labels-not-consecutive'));
  // label 2 in the files is not declared: one problem per case
  assert.equal(problems.filter((p) => p.kind === 'undeclared-label').length, 3);
});

test('files nnU-Net would not read are listed, not silently skipped', () => {
  const dir = tempDir();
  writeDataset(dir, threeCases());
  writeFileSync(join(dir, 'imagesTr', 'case_003.nii.gz'), 'no channel suffix');
  writeFileSync(join(dir, 'imagesTr', 'notes.txt'), 'x');
  writeFileSync(join(dir, 'labelsTr', 'case_000.nii'), 'wrong ending');
  writeFileSync(join(dir, 'imagesTr', '.DS_Store'), 'hidden: fine');
  const { problems, ignored } = validateDatasetDir(dir);
  assert.deepEqual(problems, []);
  assert.deepEqual(ignored, ['imagesTr/case_003.nii.gz', 'imagesTr/notes.txt', 'labelsTr/case_000.nii']);
});
