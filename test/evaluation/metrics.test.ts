import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  averageSurfaceDistance,
  computeCaseMetrics,
  labelOrRegionKey,
  numpySumForTest,
  prepareCase,
  regionSurfaceDistances,
  robustHausdorff,
  surfaceDiceAtTolerance,
} from './api.js';
import { LABELS, REGIONS, SPACING_MM, at, loadLabelMap, num } from './fixture.js';
import { expectClose } from '../helpers.js';

const reference = loadLabelMap('reference.npy.gz');
const referenceIgnore = loadLabelMap('reference_with_ignore.npy.gz');
const prediction = loadLabelMap('prediction.npy.gz');
const COUNTS = ['TP', 'FP', 'FN', 'TN', 'n_pred', 'n_ref'] as const;

for (const [variant, ref, ignoreLabel] of [
  ['main', reference, undefined],
  ['ignore255', referenceIgnore, 255],
] as const) {
  test(`nnU-Net v2 compute_metrics parity (${variant}): exact counts, Dice and IoU for labels 1–16 and regions`, () => {
    const result = computeCaseMetrics(ref.data, prediction.data, ref.shape, {
      labelsOrRegions: [...LABELS, ...REGIONS],
      ...(ignoreLabel === undefined ? {} : { ignoreLabel }),
    });
    assert.equal(result.length, 20);
    for (const { key, metrics } of result) {
      const expected = (name: string): number => num(at('nnunet_v2', variant, 'per_case_metrics', key, name));
      for (const c of COUNTS) assert.equal(metrics[c], expected(c), `${key} ${c}`);
      // Same formula on the same integers: equal to the last bit (NaN for label 16 and nothing else).
      assert.ok(
        Object.is(metrics.Dice, expected('Dice')),
        `${key} Dice ${metrics.Dice} vs ${expected('Dice')}`,
      );
      assert.ok(Object.is(metrics.IoU, expected('IoU')), `${key} IoU`);
    }
  });
}

test('DeepMind surface-distance parity: NSD at 1 and 2 mm, ASD, HD95, surfel areas (labels 1–16)', () => {
  const p = prepareCase(reference.data, prediction.data, reference.shape, LABELS);
  let maxErr = 0;
  for (const label of LABELS) {
    const e = (name: string): number => num(at('surface_distance', String(label), name));
    const sd = regionSurfaceDistances(p, label, SPACING_MM);
    const asd = averageSurfaceDistance(sd);
    const got = [
      surfaceDiceAtTolerance(sd, 1),
      surfaceDiceAtTolerance(sd, 2),
      asd.gtToPred,
      asd.predToGt,
      robustHausdorff(sd, 95),
      numpySumForTest(sd.surfelAreasGt),
      numpySumForTest(sd.surfelAreasPred),
    ];
    const want = [
      e('nsd_1mm'),
      e('nsd_2mm'),
      e('avg_surface_distance_gt_to_pred_mm'),
      e('avg_surface_distance_pred_to_gt_mm'),
      e('hd95_mm'),
      e('surfel_area_gt_mm2'),
      e('surfel_area_pred_mm2'),
    ];
    // The manifest's tolerance for these float64 results.
    expectClose(got, want, { rtol: 1e-9, atol: 1e-12, label: `label ${label}` });
    assert.equal(sd.surfelAreasGt.length, e('n_surfels_gt'), `label ${label} n_surfels_gt`);
    assert.equal(sd.surfelAreasPred.length, e('n_surfels_pred'), `label ${label} n_surfels_pred`);
    got.forEach((g, i) => {
      const w = want[i] ?? NaN;
      if (Number.isFinite(w)) maxErr = Math.max(maxErr, Math.abs(g - w) / Math.max(1, Math.abs(w)));
    });
  }
  assert.ok(maxErr < 1e-12, `max relative error ${maxErr}`);
});

test('NSD rides along in computeCaseMetrics (regions too) and matches the per-label path', () => {
  const result = computeCaseMetrics(reference.data, prediction.data, reference.shape, {
    labelsOrRegions: [4, 12, 16, [13, 16]],
    spacingMm: SPACING_MM,
    nsdToleranceMm: 2,
  });
  const nsd = result.map((r) => r.metrics.NSD ?? -1);
  expectClose(
    nsd.slice(0, 3),
    [4, 12, 16].map((l) => num(at('surface_distance', String(l), 'nsd_2mm'))),
    {
      rtol: 1e-9,
    },
  );
  // Region (13, 16): label 16 is absent, so the union is label 13 alone.
  expectClose([nsd[3] ?? -1], [num(at('surface_distance', '13', 'nsd_2mm'))], { rtol: 1e-9 });
});

test('labelOrRegionKey is Python str() of an int or tuple', () => {
  assert.equal(labelOrRegionKey(3), '3');
  assert.equal(labelOrRegionKey([2, 3]), '(2, 3)');
  assert.equal(labelOrRegionKey([5]), '(5,)');
});

test('small cases: empty masks, ignore label, regions', () => {
  const shape = [1, 2, 4] as const;
  const ref = Uint8Array.from([1, 1, 2, 0, 9, 9, 0, 0]);
  const pred = Uint8Array.from([1, 0, 2, 2, 1, 3, 0, 0]);
  const r = computeCaseMetrics(ref, pred, shape, { labelsOrRegions: [1, 2, 4, [1, 2]], ignoreLabel: 9 });
  const m = (i: number) => r[i]?.metrics;
  // Label 1: ref {0,1}, pred {0} (pred at voxel 4 is ignored) → TP 1, FN 1, FP 0, TN 4.
  assert.deepEqual(m(0), { Dice: 2 / 3, IoU: 0.5, FP: 0, TP: 1, FN: 1, TN: 4, n_pred: 1, n_ref: 2 });
  assert.deepEqual(m(1), { Dice: 2 / 3, IoU: 0.5, FP: 1, TP: 1, FN: 0, TN: 4, n_pred: 2, n_ref: 1 });
  assert.ok(Number.isNaN(m(2)?.Dice) && Number.isNaN(m(2)?.IoU), 'absent in both → NaN');
  assert.equal(m(2)?.TN, 6);
  assert.deepEqual(m(3), { Dice: 2 / 3, IoU: 0.5, FP: 1, TP: 2, FN: 1, TN: 2, n_pred: 3, n_ref: 3 });
});
