import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultAugmentationParams } from '../../src/augmentation/pipeline.js';
import { deepSupervisionScales } from '../../src/model/deep-supervision.js';
import {
  InlineBatchLoader,
  cropPadded,
  defaultLoaderConfig,
  doOversample,
  makeBatch,
  sampleBatch,
  samplePatch,
} from '../../src/training/loader.js';
import { Rng } from '../../src/util/random.js';
import { syntheticCase } from '../augmentation/synthetic.js';

test('get_do_oversample: the last round(B·0.33) samples of a batch are forced', () => {
  const forced = (b: number): boolean[] => Array.from({ length: b }, (_, j) => doOversample(j, b, 0.33));
  assert.deepEqual(forced(2), [false, true]);
  assert.deepEqual(forced(3), [false, false, true]);
  assert.deepEqual(forced(6), [false, false, false, false, true, true]);
  assert.deepEqual(forced(1), [false]);
});

test('padding: past the case border data is 0 and seg −1', () => {
  const c = syntheticCase('c', [4, 5, 6], 2);
  const s = cropPadded(c, [-2, -1, 3], [8, 8, 8]);
  // voxel (0, 0, 0) of the patch is case (−2, −1, 3): outside
  assert.equal(s.data[0], 0);
  assert.equal(s.seg[0], -1);
  // patch (2, 1, 0) is case (0, 0, 3): z = 0 is the −1 slab; (3, 2, 1) is case (1, 1, 4)
  const at = (z: number, y: number, x: number): number => (z * 8 + y) * 8 + x;
  assert.equal(s.data[at(3, 2, 1)], Math.fround(1 + 1 + 0.01 + 0.0004));
  assert.equal(s.data[512 + at(3, 2, 1)], c.data[120 + (1 * 5 + 1) * 6 + 4]);
  assert.equal(s.seg[at(3, 2, 1)], c.seg[(1 * 5 + 1) * 6 + 4]);
  // case x ends at 5 → patch x ≥ 3 is outside
  assert.equal(s.data[at(3, 2, 3)], 0);
  assert.equal(s.seg[at(3, 2, 3)], -1);
  let inside = 0;
  for (const v of s.seg) if (v !== -1) inside++;
  assert.equal(inside, 3 * 5 * 3); // case z 1..3 (z 0 is the −1 slab), y 0..4, x 3..5
});

test('random patches: lower corners span [−need_to_pad/2, shape + need_to_pad/2 − patch]', () => {
  const c = syntheticCase('c', [20, 20, 20]);
  const rng = new Rng(1);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < 2000; i++) {
    const p = samplePatch(c, [12, 12, 12], [6, 6, 6], false, rng);
    assert.equal(p.selectedClass, null);
    for (const v of p.lowerZYX) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
  }
  assert.equal(min, -3);
  assert.equal(max, 20 + 3 - 12);
});

test('forced patches contain foreground of a present class; random ones often do not', () => {
  const c = syntheticCase('c', [40, 40, 40]);
  const rng = new Rng(2);
  const seen = new Set<number>();
  let randomWithFg = 0;
  for (let i = 0; i < 300; i++) {
    const forced = samplePatch(c, [12, 12, 12], [4, 4, 4], true, rng);
    assert.ok(forced.selectedClass === 1 || forced.selectedClass === 2);
    seen.add(forced.selectedClass);
    assert.ok(forced.sample.seg.includes(forced.selectedClass), 'forced patch holds its class');
    const random = samplePatch(c, [12, 12, 12], [4, 4, 4], false, rng);
    if (random.sample.seg.some((v) => v > 0)) randomWithFg++;
  }
  assert.deepEqual([...seen].sort(), [1, 2]);
  assert.ok(randomWithFg < 150, `random patches with foreground: ${randomWithFg}/300`);
});

test('a case without foreground falls back to a random patch', () => {
  const c = { ...syntheticCase('c', [10, 10, 10]), classLocations: new Map([[1, new Int32Array(0)]]) };
  const p = samplePatch(c, [6, 6, 6], [0, 0, 0], true, new Rng(3));
  assert.equal(p.selectedClass, null);
});

test('batches: B samples of the generator size; the forced share holds foreground', () => {
  const cases = [syntheticCase('a', [30, 30, 30]), syntheticCase('b', [24, 28, 30])];
  const cfg = { ...defaultLoaderConfig([8, 8, 8], 3, null), generatorPatchSizeZYX: [8, 8, 8] as const };
  const rng = new Rng(4);
  for (let i = 0; i < 50; i++) {
    const ps = sampleBatch(cases, cfg, rng);
    assert.equal(ps.length, 3);
    assert.ok(ps[2]?.sample.seg.some((v) => v > 0));
  }
});

test('makeBatch: seeded — same (seed, index) gives the same batch, another index another one', () => {
  const cases = [syntheticCase('a', [20, 20, 20]), syntheticCase('b', [18, 20, 22], 1)];
  const aug = defaultAugmentationParams([8, 8, 8]);
  const cfg = defaultLoaderConfig(
    [8, 8, 8],
    2,
    aug,
    deepSupervisionScales([
      [2, 2, 2],
      [2, 2, 2],
    ]),
  );
  assert.deepEqual(cfg.generatorPatchSizeZYX, [12, 12, 12]);
  const a = makeBatch(cases, cfg, 42, 3);
  const b = makeBatch(cases, cfg, 42, 3);
  const c = makeBatch(cases, cfg, 42, 4);
  assert.deepEqual(a.data, b.data);
  assert.deepEqual(a.targets, b.targets);
  assert.notDeepEqual(a.data, c.data);
  assert.deepEqual(a.shapeBCZYX, [2, 1, 8, 8, 8]);
  assert.deepEqual(
    a.targets.map((t) => t.shape),
    [
      [2, 1, 8, 8, 8],
      [2, 1, 4, 4, 4],
    ],
  );
  for (const t of a.targets) for (const v of Array.from(t.data)) assert.ok(v === 0 || v === 1 || v === 2);
  const loader = new InlineBatchLoader(cases, cfg, 42, 3);
  assert.deepEqual(loader.nextSync().data, a.data);
  assert.deepEqual(loader.nextSync().data, c.data);
});
