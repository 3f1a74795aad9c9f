import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  augmentSample,
  collate,
  defaultAugmentationParams,
  type AppliedTransform,
} from '../../src/augmentation/pipeline.js';
import { deepSupervisionScales } from '../../src/model/deep-supervision.js';
import { Rng } from '../../src/util/random.js';
import { randomSample, withinFourSigma } from './synthetic.js';

const RATES: Record<AppliedTransform, number> = {
  rotation: 0.2,
  scale: 0.2,
  noise: 0.1,
  blur: 0.2,
  brightness: 0.15,
  contrast: 0.15,
  lowres: 0.25,
  'gamma-inverted': 0.1,
  gamma: 0.3,
  'mirror-0': 0.5,
  'mirror-1': 0.5,
  'mirror-2': 0.5,
};

test('moreDA: each transform is applied at its nnU-Net rate (±4σ over 2000 samples)', () => {
  const p = defaultAugmentationParams([4, 4, 4]);
  const input = randomSample([6, 6, 6], 1, [-1, 0, 1, 2], 1);
  const rng = new Rng(2024);
  const counts = new Map<AppliedTransform, number>();
  const N = 2000;
  for (let i = 0; i < N; i++) {
    const trace: AppliedTransform[] = [];
    const out = augmentSample(input, p, rng, trace);
    for (const t of trace) counts.set(t, (counts.get(t) ?? 0) + 1);
    assert.deepEqual(out.shapeZYX, [4, 4, 4]);
    assert.equal(out.data.length, 64);
  }
  for (const [name, rate] of Object.entries(RATES) as [AppliedTransform, number][]) {
    const c = counts.get(name) ?? 0;
    assert.ok(withinFourSigma(c, N, rate), `${name}: ${c}/${N}, expected ${rate}`);
  }
});

test('labels: never a value the input lacks, −1 removed; the input is left untouched', () => {
  const p = defaultAugmentationParams([8, 8, 8]);
  const input = randomSample([12, 12, 12], 2, [-1, 0, 3, 7], 5);
  const before = input.data.slice();
  const rng = new Rng(9);
  for (let i = 0; i < 60; i++) {
    const out = augmentSample(input, p, rng);
    for (const v of out.seg) assert.ok(v === 0 || v === 3 || v === 7, `label ${v}`);
    for (const v of out.data) assert.ok(Number.isFinite(v));
  }
  assert.deepEqual(input.data, before);
});

test('same seed → same augmented sample', () => {
  const p = defaultAugmentationParams([8, 8, 8]);
  const input = randomSample([12, 12, 12], 1, [0, 1], 5);
  for (let seed = 0; seed < 10; seed++) {
    const a = augmentSample(input, p, new Rng(seed));
    const b = augmentSample(input, p, new Rng(seed));
    assert.deepEqual(a.data, b.data);
    assert.deepEqual(a.seg, b.seg);
  }
});

test('collate: (B, C, Z, Y, X) data and one nearest-downsampled target per deep-supervision head', () => {
  const s = [randomSample([8, 8, 8], 2, [0, 1], 1), randomSample([8, 8, 8], 2, [0, 2], 2)];
  const scales = deepSupervisionScales([
    [2, 2, 2],
    [2, 2, 2],
    [1, 1, 2],
  ]);
  const b = collate(s, ['a', 'b'], scales);
  assert.deepEqual(b.shapeBCZYX, [2, 2, 8, 8, 8]);
  assert.deepEqual(
    b.targets.map((t) => t.shape),
    [
      [2, 1, 8, 8, 8],
      [2, 1, 4, 4, 4],
      [2, 1, 2, 2, 2],
    ],
  );
  // nearest at factor 2 picks odd indices: target[1][0, 0, 0, 0, 0] = seg[0][1, 1, 1]
  assert.equal(b.targets[1]?.data[0], s[0]?.seg[(1 * 8 + 1) * 8 + 1]);
  assert.deepEqual(b.keys, ['a', 'b']);
});
