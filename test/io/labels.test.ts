import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  directInferenceDatasets,
  directInferenceTable,
  labelIndex,
  labelNames,
  labelRemapTable,
  mapPrediction,
  mapReference,
  remapLabels,
} from '../../src/io/labels/index.js';

const st = (name: string): number => labelIndex('stunet104', name);

test('STU-Net 104-class order is the alphabetical string sort of the TotalSegmentator v1 names', () => {
  const names = labelNames('stunet104');
  assert.equal(names.length, 105);
  assert.equal(names[0], 'background');
  assert.deepEqual(names.slice(1), [...labelNames('totalsegV1').slice(1)].sort());
  assert.equal(names[49], 'rib_left_1');
  assert.equal(names[50], 'rib_left_10');
  assert.equal(names[104], 'vertebrae_T9');
  assert.equal(labelNames('totalsegV1')[1], 'spleen');
  assert.equal(labelNames('totalsegV2').length, 118);
});

test('v1 ↔ STU-Net is a permutation by name; round trip is the identity', () => {
  const toSt = labelRemapTable('totalsegV1', 'stunet104');
  const back = labelRemapTable('stunet104', 'totalsegV1');
  const all = Uint8Array.from({ length: 105 }, (_, i) => i);
  assert.deepEqual(remapLabels(remapLabels(all, toSt), back), all);
  assert.equal(new Set(remapLabels(all, toSt)).size, 105);
  assert.equal(toSt[1], st('spleen'));
});

test('v1 → v2: the classes that left the total task are reported, or mapped to 0 on request', () => {
  assert.throws(() => labelRemapTable('totalsegV1', 'totalsegV2'), /face.*|heart_myocardium/);
  const t = labelRemapTable('stunet104', 'totalsegV2', { missing: 'background' });
  assert.equal(t[st('face')], 0);
  assert.equal(t[st('pulmonary_artery')], 0);
  assert.equal(labelNames('totalsegV2')[t[st('vertebrae_L1')] ?? 0], 'vertebrae_L1');
});

test('direct-inference tables: dict order becomes labels 1..n; agg on both sides', () => {
  assert.equal(directInferenceDatasets().length, 14);
  const flare = directInferenceTable('Task022_FLARE22');
  // The official dict lists "1", "10", "11", "12", "13", "2", …: "13" (left kidney) is the 5th entry.
  assert.deepEqual(flare[4], {
    label: 5,
    name: 'left kidney',
    localLabels: [13],
    stunetClasses: ['kidney_left'],
    stunetLabels: [st('kidney_left')],
    fallback: false,
  });
  const ct1k = directInferenceTable('Task020_AbdomenCT1K_sys');
  assert.deepEqual(ct1k[1]?.stunetLabels, [st('kidney_left'), st('kidney_right')]);
  assert.deepEqual(directInferenceTable('Task021_KiTS2021')[0]?.localLabels, [1, 2, 3]);
  assert.throws(() => directInferenceTable('Task999_Nope'), /known: Task003_Liver/);
});

test('WORD, BTCV-Cervix and SegThor: names missing from label_mapping fall back to class names; strict throws', () => {
  const word = directInferenceTable('Task560_WORD');
  assert.deepEqual(
    word.filter((e) => e.fallback).map((e) => e.name),
    ['colon', 'urinary_bladder', 'femur_left', 'femur_right', 'kidney_left', 'kidney_right'],
  );
  assert.throws(() => directInferenceTable('Task560_WORD', { strict: true }), /'colon'.*strict/);
  assert.equal(directInferenceTable('Task605_SegThor')[1]?.stunetLabels[0], st('trachea'));
  assert.equal(directInferenceTable('Task012_BTCV_Cervix')[0]?.fallback, true);
  for (const ds of directInferenceDatasets()) assert.ok(directInferenceTable(ds).length > 0, ds);
});

test('mapPrediction / mapReference put a STU-Net prediction and a local label map in one space', () => {
  const pred = Uint8Array.from([
    0,
    st('lung_upper_lobe_left'),
    st('lung_middle_lobe_right'),
    st('kidney_right'),
    st('liver'),
    st('brain'),
    st('spleen'),
  ]);
  // CT-ORG: liver, bladder, lung (5 lobes), kidney (left + right), brain.
  assert.deepEqual([...mapPrediction(pred, 'Task030_CT_ORG')], [0, 3, 3, 4, 1, 5, 0]);
  const ref = Uint16Array.from([0, 1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual([...mapReference(ref, 'Task030_CT_ORG')], [0, 1, 2, 3, 4, 0, 5, 0]);
  assert.deepEqual([...mapReference(Uint8Array.from([1, 2, 3]), 'Task003_Liver')], [1, 1, 0]);
});
