import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { labelIndex, labelNames } from '../../src/io/labels/index.js';
import { readNifti } from '../../src/io/nifti.js';
import { convertMsd, convertTotalseg, validateDatasetDir } from '../../src/node/dataset-files.js';
import { tempDir } from '../cli/cli-helpers.js';
import { image, save } from '../planning/synthetic-dataset.js';

const DIMS = [6, 5, 4] as const;
const N = 6 * 5 * 4;

test('MSD task with 4D images → nnU-Net v2 (channels split, labels inverted, junk skipped)', () => {
  const root = tempDir();
  const task = join(root, 'Task05_Prostate');
  for (const d of ['imagesTr', 'labelsTr', 'imagesTs']) mkdirSync(join(task, d), { recursive: true });
  for (const id of ['prostate_00', 'prostate_01']) {
    // (i, j, k, c) with c = 2: channel c holds 1000·c + voxel index
    const data = Float32Array.from({ length: 2 * N }, (_, v) => 1000 * Math.floor(v / N) + (v % N) + 1);
    save(join(task, 'imagesTr', `${id}.nii.gz`), image(data, [...DIMS, 2], [0.6, 0.6, 3.6], [10, 20, 30]));
    save(
      join(task, 'labelsTr', `${id}.nii.gz`),
      image(
        Uint8Array.from({ length: N }, (_, v) => v % 3),
        DIMS,
        [0.6, 0.6, 3.6],
        [10, 20, 30],
      ),
    );
  }
  writeFileSync(join(task, 'imagesTr', '._prostate_00.nii.gz'), 'mac junk');
  writeFileSync(join(task, 'labelsTr', '._prostate_00.nii.gz'), 'mac junk');
  writeFileSync(
    join(task, 'dataset.json'),
    JSON.stringify({
      name: 'PROSTATE',
      modality: { '0': 'T2', '1': 'ADC' },
      labels: { '0': 'background', '1': 'PZ', '2': 'TZ' },
      numTraining: 2,
      numTest: 0,
      training: [{ image: './imagesTr/prostate_00.nii.gz', label: './labelsTr/prostate_00.nii.gz' }],
      test: [],
    }),
  );
  const out = join(root, 'raw');
  const r = convertMsd(task, out);
  assert.equal(r.dir, join(out, 'Dataset005_Prostate'));
  assert.deepEqual(readdirSync(join(r.dir, 'imagesTr')).sort(), [
    'prostate_00_0000.nii.gz',
    'prostate_00_0001.nii.gz',
    'prostate_01_0000.nii.gz',
    'prostate_01_0001.nii.gz',
  ]);
  assert.deepEqual(readdirSync(join(r.dir, 'labelsTr')).sort(), ['prostate_00.nii.gz', 'prostate_01.nii.gz']);
  const json = JSON.parse(readFileSync(join(r.dir, 'dataset.json'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(json['channel_names'], { '0': 'T2', '1': 'ADC' });
  assert.deepEqual(json['labels'], { background: 0, PZ: 1, TZ: 2 });
  assert.equal(json['file_ending'], '.nii.gz');
  assert.equal('training' in json || 'modality' in json, false);
  const ch1 = readNifti(readFileSync(join(r.dir, 'imagesTr', 'prostate_00_0001.nii.gz')));
  assert.deepEqual(ch1.dims, [...DIMS]);
  assert.equal(ch1.data[0], 1001);
  assert.equal(ch1.data[N - 1], 1000 + N);
  assert.deepEqual(validateDatasetDir(r.dir).problems, []);
});

test('TotalSegmentator release → one label map in STU-Net 104-class order', () => {
  const root = tempDir();
  const rel = join(root, 'Totalsegmentator_dataset');
  const classes = ['liver', 'spleen', 'aorta'];
  for (const s of ['s0001', 's0002']) {
    mkdirSync(join(rel, s, 'segmentations'), { recursive: true });
    save(
      join(rel, s, 'ct.nii.gz'),
      image(
        Float32Array.from({ length: N }, (_, v) => v - 50),
        DIMS,
        [1.5, 1.5, 1.5],
      ),
    );
    classes.forEach((name, c) => {
      // class c covers voxels with v % 4 === c; voxel 3 mod 4 stays background; aorta also overlaps spleen at v % 8 === 1
      const mask = Uint8Array.from({ length: N }, (_, v) =>
        v % 4 === c || (name === 'aorta' && v % 8 === 1) ? 1 : 0,
      );
      save(join(rel, s, 'segmentations', `${name}.nii.gz`), image(mask, DIMS, [1.5, 1.5, 1.5]));
    });
  }
  const r = convertTotalseg(rel, join(root, 'out'), { id: 501, name: 'TotalSeg3' });
  assert.equal(r.dir, join(root, 'out', 'Dataset501_TotalSeg3'));
  const json = JSON.parse(readFileSync(join(r.dir, 'dataset.json'), 'utf8')) as {
    labels: Record<string, number>;
  };
  assert.deepEqual(Object.keys(json.labels), [...labelNames('stunet104')]);
  const seg = readNifti(readFileSync(join(r.dir, 'labelsTr', 's0001.nii.gz')));
  const liver = labelIndex('stunet104', 'liver');
  const spleen = labelIndex('stunet104', 'spleen');
  const aorta = labelIndex('stunet104', 'aorta');
  for (let v = 0; v < N; v++) {
    const c = v % 4;
    let want = c === 0 ? liver : c === 1 ? spleen : c === 2 ? aorta : 0;
    // overlap: the higher label wins, as in TotalSegmentator's own combine
    if (v % 8 === 1) want = Math.max(spleen, aorta);
    assert.equal(seg.data[v], want, `voxel ${v}`);
  }
  assert.deepEqual(validateDatasetDir(r.dir).problems, []);
});

test('an unknown TotalSegmentator class is refused by name', () => {
  const rel = join(tempDir(), 'rel');
  mkdirSync(join(rel, 's0001', 'segmentations'), { recursive: true });
  save(join(rel, 's0001', 'ct.nii.gz'), image(new Float32Array(N), DIMS));
  save(join(rel, 's0001', 'segmentations', 'banana.nii.gz'), image(new Uint8Array(N), DIMS));
  assert.throws(
    () => convertTotalseg(rel, join(rel, '..', 'out')),
    /banana\.nii\.gz is not a stunet104 class/,
  );
});
