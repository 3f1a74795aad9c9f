/**
 * Issue 17, item 7, the decision: STU-Net's TotalSegmentator 104-class models predict in the closest
 * canonical orientation by default (they were trained on canonically oriented CTs, and TotalSegmentator
 * reorients); any other model predicts as stored (nnU-Net). The report says which ran.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { labelNames } from '../../src/io/labels/index.js';
import { cropNifti } from '../../src/io/nifti-crop.js';
import { readNifti, writeNifti } from '../../src/io/nifti.js';
import { orientationFromCode, reorient, toClosestCanonical } from '../../src/io/orientation.js';
import { modelDefaults } from '../../src/inference/model-defaults.js';
import { loadModelFromStore } from '../../src/jobs/model-files.js';
import { createPredictorNetwork } from '../../src/jobs/network.js';
import { predictCase } from '../../src/jobs/predict-case.js';
import { engineRuntime } from '../../src/jobs/runtime.js';
import { MemoryStore } from '../../src/jobs/store.js';
import { initWeightsHe } from '../../src/model/init.js';
import { defaultMeta, type LoadedModel } from '../../src/model/loaded-model.js';
import { StuNet } from '../../src/model/stunet.js';
import { fixturePath, tinyArchitecture } from '../helpers.js';

const fixture = (...p: string[]): Uint8Array => new Uint8Array(readFileSync(fixturePath(...p)));
const arch = tinyArchitecture(105);
const weights = initWeightsHe(new StuNet(arch), 3);
const withNames = (names: string[] | null): LoadedModel => ({
  arch,
  weights,
  meta: {
    ...defaultMeta('stunet'),
    patchSizeZYX: [16, 16, 16],
    ...(names === null ? {} : { datasetJson: { labels: Object.fromEntries(names.map((n, i) => [n, i])) } }),
  },
});
const stunet = [...labelNames('stunet104')];
const T1 = loadModelFromStore(
  new MemoryStore([
    ['T1.model', fixture('stunet-forward', 'T1.model')],
    ['T1.model.pkl', fixture('stunet-forward', 'T1.model.pkl')],
  ]),
  'T1.model',
);

test('the default orientation is decided per model', () => {
  assert.equal(modelDefaults(withNames(null)).reorient, true, 'STU-Net 105 classes, unnamed');
  assert.equal(modelDefaults(withNames(stunet)).reorient, true, 'STU-Net 105 classes, its names');
  assert.equal(
    modelDefaults(withNames(stunet.map((n, i) => (i === 7 ? 'something_else' : n)))).reorient,
    false,
  );
  assert.equal(modelDefaults(T1).reorient, false, 'a model trained on its own data (5 classes)');
});

test('a TotalSegmentator model predicts an ASL-stored CT as its RAS version by default, and says so', async () => {
  const ras = toClosestCanonical(
    cropNifti(readNifti(fixture('nifti', 'example_ct_sm.nii.gz')), [40, 30, 6], [24, 20, 12]),
  ).image;
  const asl = writeNifti(reorient(ras, orientationFromCode('ASL')));
  const model = withNames(null);
  const p = await createPredictorNetwork(model, 'wasm', engineRuntime(), { threads: 1 });
  try {
    const opts = { mirrorAxes: [] };
    const byDefault = await predictCase(asl, 'asl', 'seg.nii.gz', model, p.network, opts);
    const explicit = await predictCase(asl, 'asl', 'seg.nii.gz', model, p.network, {
      ...opts,
      reorient: true,
    });
    const stored = await predictCase(asl, 'asl', 'seg.nii.gz', model, p.network, {
      ...opts,
      reorient: false,
    });
    assert.equal(byDefault.reoriented, true);
    assert.equal(stored.reoriented, false);
    const labels = (r: typeof byDefault): Uint8Array =>
      readNifti(r.outputs[0]?.data as Uint8Array).raw as Uint8Array;
    assert.deepEqual(labels(byDefault), labels(explicit));
    const t1 = await createPredictorNetwork(T1, 'wasm', engineRuntime(), { threads: 1 });
    try {
      const r1 = await predictCase(asl, 'asl', 'seg.nii.gz', T1, t1.network, opts);
      assert.equal(r1.reoriented, false, 'an own-data model keeps the stored orientation');
    } finally {
      await t1.close();
    }
  } finally {
    await p.close();
  }
});
