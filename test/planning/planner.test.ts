import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DatasetFingerprint } from '../../src/planning/fingerprint.js';
import {
  determineTargetSpacing,
  determineTranspose,
  normalizationScheme,
  planExperiment,
  planTopology3d,
} from '../../src/planning/planner.js';
import { configurationTopology, parsePlans, serializePlans } from '../../src/planning/plans.js';
import { stunetPlansFromDataset, totalsegPresetPlans } from '../../src/planning/presets.js';
import { getPoolAndConvProps, padShape } from '../../src/planning/topology.js';
import { expectClose, fixturePath } from '../helpers.js';

interface Golden {
  get_pool_and_conv_props: {
    spacing: number[];
    patch_size: number[];
    num_pool_per_axis: number[];
    pool_op_kernel_sizes: number[][];
    conv_kernel_sizes: number[][];
    padded_patch_size: number[];
    must_be_divisible_by: number[];
  }[];
  target_spacing: { spacings: number[][]; shapes_after_crop: number[][]; target: number[] }[];
}

const golden = JSON.parse(
  readFileSync(join(fixturePath('..', 'planning', 'fixtures'), 'planner-golden.json'), 'utf8'),
) as Golden;

test('getPoolAndConvProps matches the official network_topology.py', () => {
  assert.ok(golden.get_pool_and_conv_props.length >= 7);
  for (const g of golden.get_pool_and_conv_props) {
    const r = getPoolAndConvProps(g.spacing, g.patch_size, 4, 999999);
    const what = `spacing ${g.spacing.join()} patch ${g.patch_size.join()}`;
    assert.deepEqual(r.numPoolPerAxis, g.num_pool_per_axis, what);
    assert.deepEqual(r.poolOpKernelSizes, g.pool_op_kernel_sizes, what);
    assert.deepEqual(r.convKernelSizes, g.conv_kernel_sizes, what);
    assert.deepEqual(r.patchSize, g.padded_patch_size, what);
    assert.deepEqual(r.shapeMustBeDivisibleBy, g.must_be_divisible_by, what);
  }
});

test('target spacing (median; anisotropy rule) matches the official planner', () => {
  for (const g of golden.target_spacing) {
    expectClose(determineTargetSpacing(g.spacings, g.shapes_after_crop), g.target, { atol: 1e-9 });
  }
  // by hand: 5 × 0.8 × 0.8 mm with ~20 slices → 10th percentile of [2.5, 4, 5, 5, 6] = 3.1 on z
  expectClose(
    determineTargetSpacing(
      [
        [5, 0.8, 0.8],
        [4, 0.8, 0.8],
        [6, 0.75, 0.75],
        [2.5, 0.8, 0.8],
        [5, 0.7, 0.7],
      ],
      [
        [20, 320, 320],
        [24, 300, 300],
        [18, 320, 320],
        [40, 310, 320],
        [22, 330, 330],
      ],
    ),
    [3.1, 0.8, 0.8],
    { atol: 1e-12 },
  );
  assert.deepEqual(determineTranspose([0.8, 3.1, 0.8]), { forward: [1, 0, 2], backward: [1, 0, 2] });
});

test('padShape rounds up to the divisor and keeps exact multiples', () => {
  assert.deepEqual(padShape([36, 50, 35, 64], [8, 8, 8, 32]), [40, 56, 40, 64]);
});

test('3d_fullres topology: isotropic 1 mm, median 256³ → patch 128³, five [2,2,2] pools, batch 2', () => {
  const t = planTopology3d([1, 1, 1], [256, 256, 256], {
    numLabels: 3,
    memoryGb: 8,
    approxVoxelsDataset: 256 ** 3 * 100,
  });
  assert.deepEqual(t.patchSize, [128, 128, 128]);
  assert.deepEqual(t.poolOpKernelSizes, [[1, 1, 1], ...Array.from({ length: 5 }, () => [2, 2, 2])]);
  assert.deepEqual(
    t.convKernelSizes,
    Array.from({ length: 6 }, () => [3, 3, 3]),
  );
  assert.deepEqual(t.featuresPerStage, [32, 64, 128, 256, 320, 320]);
  assert.equal(t.batchSize, 2);
});

test('Hippocampus (nnU-Net docs): 1 mm, median [36, 50, 35] → patch [40, 56, 40]; 5 % rule caps the batch', () => {
  // 260 training cases: round(36·50·35·260·0.05 / (40·56·40)) = round(9.14) = 9
  const t = planTopology3d([1, 1, 1], [36, 50, 35], {
    numLabels: 3,
    memoryGb: 8,
    approxVoxelsDataset: 36 * 50 * 35 * 260,
  });
  assert.deepEqual(t.patchSize, [40, 56, 40]);
  assert.deepEqual(t.poolOpKernelSizes, [
    [1, 1, 1],
    [2, 2, 2],
    [2, 2, 2],
    [2, 2, 2],
  ]);
  assert.equal(t.batchSize, 9);
});

test('anisotropic 5 × 0.8 × 0.8 mm: in-plane pools first, patch keeps all 20 slices', () => {
  const t = planTopology3d([5, 0.8, 0.8], [20, 320, 320], {
    numLabels: 3,
    memoryGb: 8,
    approxVoxelsDataset: 20 * 320 * 320 * 100,
  });
  assert.equal(t.patchSize[0], 20);
  assert.deepEqual(t.poolOpKernelSizes.slice(0, 3), [
    [1, 1, 1],
    [1, 2, 2],
    [1, 2, 2],
  ]);
  assert.deepEqual(t.convKernelSizes[0], [1, 3, 3]);
  // more memory never gives a smaller patch
  const big = planTopology3d([5, 0.8, 0.8], [20, 320, 320], {
    numLabels: 3,
    memoryGb: 40,
    approxVoxelsDataset: 20 * 320 * 320 * 100,
  });
  assert.ok(big.patchSize.reduce((a, b) => a * b) >= t.patchSize.reduce((a, b) => a * b));
});

test('normalization from channel names: CT → CTNormalization, otherwise ZScoreNormalization', () => {
  assert.equal(normalizationScheme('CT'), 'CTNormalization');
  assert.equal(normalizationScheme('ct'), 'CTNormalization');
  assert.equal(normalizationScheme('T2'), 'ZScoreNormalization');
  assert.equal(normalizationScheme('noNorm'), 'NoNormalization');
});

function fingerprint(): DatasetFingerprint {
  const stats = { mean: 1, median: 1, std: 1, min: 0, max: 2, percentile_99_5: 2, percentile_00_5: 0 };
  return {
    spacings: [
      [5, 0.8, 0.8],
      [4, 0.8, 0.8],
      [6, 0.75, 0.75],
      [2.5, 0.8, 0.8],
      [5, 0.7, 0.7],
    ],
    shapes_after_crop: [
      [20, 320, 320],
      [24, 300, 300],
      [18, 320, 320],
      [40, 310, 320],
      [22, 330, 330],
    ],
    foreground_intensity_properties_per_channel: { '0': stats, '1': stats },
    median_relative_size_after_cropping: 0.5,
  };
}

test('planExperiment writes nnU-Net v2 plans that round-trip through plans.json', () => {
  const plans = planExperiment({
    fingerprint: fingerprint(),
    channelNames: ['CT', 'T2'],
    numLabels: 3,
    numTraining: 5,
    datasetName: 'Dataset123_Test',
  });
  const c = plans.configurations['3d_fullres'];
  assert.ok(c !== undefined);
  expectClose(c.spacing, [3.1, 0.8, 0.8], { atol: 1e-12 });
  assert.deepEqual(plans.transpose_forward, [0, 1, 2]);
  assert.deepEqual(c.normalization_schemes, ['CTNormalization', 'ZScoreNormalization']);
  // median relative size 0.5 < 3/4: only z-score may use the nonzero mask
  assert.deepEqual(c.use_mask_for_norm, [false, true]);
  const text = serializePlans(plans);
  assert.deepEqual(parsePlans(text), plans);
  const topo = configurationTopology(parsePlans(text));
  assert.deepEqual(topo.patchSize, c.patch_size);
  assert.deepEqual(topo.poolOpKernelSizes, c.architecture.arch_kwargs.strides);
  // the fields nnU-Net's PlansManager / ConfigurationManager read
  for (const k of [
    'dataset_name',
    'plans_name',
    'transpose_forward',
    'configurations',
    'foreground_intensity_properties_per_channel',
  ]) {
    assert.ok(k in plans, k);
  }
});

test('old-layout plans (pool_op_kernel_sizes at the top level) are read too', () => {
  const old = {
    configurations: {
      '3d_fullres': {
        patch_size: [128, 128, 128],
        spacing: [1.5, 1.5, 1.5],
        batch_size: 2,
        normalization_schemes: ['ZScoreNormalization'],
        pool_op_kernel_sizes: [
          [1, 1, 1],
          [2, 2, 2],
        ],
        conv_kernel_sizes: [
          [3, 3, 3],
          [3, 3, 3],
        ],
      },
    },
  };
  assert.deepEqual(configurationTopology(parsePlans(JSON.stringify(old))).poolOpKernelSizes, [
    [1, 1, 1],
    [2, 2, 2],
  ]);
});

test('STU-Net TotalSegmentator preset: 1.5 mm, 128³, pools [2,2,2]×4 + [1,1,2], batch 2', () => {
  const p = totalsegPresetPlans({ scale: 'S' });
  const t = configurationTopology(p);
  assert.deepEqual(t.spacing, [1.5, 1.5, 1.5]);
  assert.deepEqual(t.patchSize, [128, 128, 128]);
  assert.deepEqual(t.poolOpKernelSizes, [
    [1, 1, 1],
    [2, 2, 2],
    [2, 2, 2],
    [2, 2, 2],
    [2, 2, 2],
    [1, 1, 2],
  ]);
  assert.deepEqual(
    t.convKernelSizes,
    Array.from({ length: 6 }, () => [3, 3, 3]),
  );
  assert.equal(t.batchSize, 2);
  assert.deepEqual(t.normalizationSchemes, ['ZScoreNormalization']);
});

test('STU-Net from dataset plans: kernels 3³ × 6, pools padded or truncated to 5, batch within the budget', () => {
  const plans = planExperiment({
    fingerprint: { ...fingerprint(), spacings: [[1, 1, 1]], shapes_after_crop: [[36, 50, 35]] },
    channelNames: ['MRI'],
    numLabels: 3,
    numTraining: 260,
    datasetName: 'Dataset004_Hippocampus',
  });
  const r = stunetPlansFromDataset(plans, { scale: 'S', numClasses: 3, memoryBytes: 64 * 1024 ** 3 });
  const t = configurationTopology(r.plans);
  // nnU-Net planned three [2,2,2] pools; STU-Net pads with [1,1,1] to five
  assert.deepEqual(t.poolOpKernelSizes, [
    [1, 1, 1],
    [2, 2, 2],
    [2, 2, 2],
    [2, 2, 2],
    [1, 1, 1],
    [1, 1, 1],
  ]);
  assert.deepEqual(
    t.convKernelSizes,
    Array.from({ length: 6 }, () => [3, 3, 3]),
  );
  assert.deepEqual(t.patchSize, [40, 56, 40]);
  assert.equal(t.batchSize, 9);
  assert.ok(r.fits);
  // a tight budget lowers the batch (never below 1)
  const tight = stunetPlansFromDataset(plans, { scale: 'S', numClasses: 3, memoryBytes: r.peakBytes / 3 });
  const tb = configurationTopology(tight.plans).batchSize;
  assert.ok(tb < 9 && tb >= 1, String(tb));
  assert.ok(tight.peakBytes <= r.peakBytes / 3 || tb === 1);
  // six nnU-Net pools are truncated to five
  const deep = planExperiment({
    fingerprint: { ...fingerprint(), spacings: [[1, 1, 1]], shapes_after_crop: [[256, 256, 256]] },
    channelNames: ['CT'],
    numLabels: 3,
    numTraining: 10,
    datasetName: 'D',
    memoryGb: 40,
  });
  const deepTopo = configurationTopology(
    stunetPlansFromDataset(deep, { scale: 'S', numClasses: 3, memoryBytes: 1e12 }).plans,
  );
  assert.equal(deepTopo.poolOpKernelSizes.length, 6);
});
