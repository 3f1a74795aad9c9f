import assert from 'node:assert/strict';
import { tinyArchitecture } from '../helpers.js';
import { test } from 'node:test';
import { toTorchV2 } from '../../src/checkpoint/nnunet-write.js';
import { outputLabelNames } from '../../src/jobs/predict-case.js';
import { initWeightsHe } from '../../src/model/init.js';
import { defaultMeta } from '../../src/model/loaded-model.js';
import { StuNet } from '../../src/model/stunet.js';

test('a model without class names: the v2 dataset.json written for it and predict name classes alike (label_<n>)', () => {
  const arch = tinyArchitecture(3);
  const model = { arch, weights: initWeightsHe(new StuNet(arch), 1), meta: defaultMeta('stunet') };
  const v2 = toTorchV2(model);
  const labels = (JSON.parse(v2.datasetJson) as { labels: Record<string, number> }).labels;
  assert.deepEqual(labels, { background: 0, label_1: 1, label_2: 2 });
  assert.deepEqual(outputLabelNames(model, undefined), ['background', 'label_1', 'label_2']);
});
