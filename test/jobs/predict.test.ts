/**
 * The predict jobs on a MemoryStore with our engine alone (what a browser tab has) give the same outputs as
 * `stunet predict`'s Node host on disk: same labels, same statistics, the same probabilities .npy bytes.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cropNifti } from '../../src/io/nifti-crop.js';
import { readNifti, writeNifti } from '../../src/io/nifti.js';
import { loadModelFromStore } from '../../src/jobs/model-files.js';
import { createPredictorNetwork } from '../../src/jobs/network.js';
import { predictFiles } from '../../src/jobs/predict-run.js';
import { engineRuntime } from '../../src/jobs/runtime.js';
import { MemoryStore, readText } from '../../src/jobs/store.js';
import { loadModelFrom } from '../../src/node/model-source.js';
import { predictFile } from '../../src/node/predict-files.js';
import { nodeRuntime } from '../../src/node/runtime.js';
import { fixturePath } from '../helpers.js';
import { tempDir } from '../cli/cli-helpers.js';

const ct = writeNifti(
  cropNifti(readNifti(readFileSync(fixturePath('nifti', 'example_ct_sm.nii.gz'))), [40, 30, 6], [36, 30, 14]),
);
const modelFiles: [string, Uint8Array][] = [
  ['models/T1.model', new Uint8Array(readFileSync(fixturePath('stunet-forward', 'T1.model')))],
  ['models/T1.model.pkl', new Uint8Array(readFileSync(fixturePath('stunet-forward', 'T1.model.pkl')))],
];

test('predict on a MemoryStore with the engine alone equals the Node host on disk', async () => {
  const store = new MemoryStore([...modelFiles, ['in/case_0000.nii.gz', ct]]);
  const model = loadModelFromStore(store, 'models/T1.model');
  const opts = { statistics: true, saveProbabilities: true, mirrorAxes: [0] } as const;
  const web = await createPredictorNetwork(model, 'wasm', engineRuntime(), { threads: 1 });
  let reports;
  try {
    reports = await predictFiles({ store }, 'in', 'out', model, web.network, opts);
  } finally {
    await web.close();
  }
  assert.equal(reports.length, 1);
  assert.deepEqual(store.list('out'), [
    'case.json',
    'case.nii.gz',
    'case_probabilities.npz',
    'case_statistics.json',
  ]);

  const dir = tempDir();
  writeFileSync(join(dir, 'ct.nii.gz'), ct);
  const diskModel = loadModelFrom(fixturePath('stunet-forward', 'T1.model'));
  const node = await createPredictorNetwork(diskModel, 'wasm', nodeRuntime, { threads: 1 });
  try {
    await predictFile(join(dir, 'ct.nii.gz'), join(dir, 'case.nii.gz'), diskModel, node.network, opts);
  } finally {
    await node.close();
  }
  const labels = (b: Uint8Array): number[] => [...readNifti(b).raw].map(Number);
  assert.deepEqual(
    labels(store.read('out/case.nii.gz')),
    labels(new Uint8Array(readFileSync(join(dir, 'case.nii.gz')))),
  );
  assert.equal(
    readText(store, 'out/case_statistics.json'),
    readFileSync(join(dir, 'case_statistics.json'), 'utf8'),
  );
  assert.deepEqual(
    store.read('out/case_probabilities.npz'),
    new Uint8Array(readFileSync(join(dir, 'case_probabilities.npz'))),
  );
  assert.ok(new Set(labels(store.read('out/case.nii.gz'))).size > 1, 'something is segmented');
});

test('engineRuntime refuses the ONNX executor with an error that names the way out', async () => {
  const store = new MemoryStore(modelFiles);
  const model = loadModelFromStore(store, 'models/T1.model');
  await assert.rejects(createPredictorNetwork(model, 'ort', engineRuntime(), { threads: 1 }), {
    code: 'UNSUPPORTED',
    message: /no ONNX runtime: use backend 'wasm' or 'ref'/,
  });
});
