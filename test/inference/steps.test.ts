import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { StunetError } from '../../src/util/errors.js';
import { computeStepsForSlidingWindow, padToPatch } from '../../src/inference/steps.js';
import { results } from './fixtures.js';

test('worked example: size 110, patch 64, step 0.5 → 0, 23, 46', () => {
  assert.deepEqual(computeStepsForSlidingWindow([64], [110], 0.5), [[0, 23, 46]]);
});

for (const [name, cases] of [
  ['v1', results.v1_steps],
  ['v2stu', results.v2stu.steps],
  ['v2up', results.v2up.steps],
] as const) {
  test(`step lists equal the official ${name} ones for all ${cases.length} cases, raw and after padding`, () => {
    assert.equal(cases.length, 8);
    for (const c of cases) {
      const label = `image ${c.image_size.join('×')} patch ${c.patch_size.join('×')} step ${c.step_size}`;
      assert.deepEqual(
        computeStepsForSlidingWindow(c.patch_size, c.image_size, c.step_size),
        c.raw_call,
        label,
      );
      const pad = padToPatch(
        c.image_size as [number, number, number],
        c.patch_size as [number, number, number],
      );
      assert.deepEqual(pad.paddedZYX, c.padded_image_size, label);
      assert.deepEqual(
        computeStepsForSlidingWindow(c.patch_size, pad.paddedZYX, c.step_size),
        c.after_padding,
        label,
      );
    }
  });
}

test('np.round semantics: 32.5 → 32 (half to even)', () => {
  // image 129, patch 64, step 0.7: 3 tiles, stride 65 / 2 = 32.5
  assert.deepEqual(computeStepsForSlidingWindow([64], [129], 0.7), [[0, 32, 65]]);
});

test('padding centres the content; an odd remainder goes to the high side', () => {
  assert.deepEqual(padToPatch([10, 20, 30], [16, 32, 64]), { paddedZYX: [16, 32, 64], lowZYX: [3, 6, 17] });
  assert.deepEqual(padToPatch([40, 32, 65], [16, 32, 64]), { paddedZYX: [40, 32, 65], lowZYX: [0, 0, 0] });
});

test('tiles start at 0, end at the border, stride ≤ patch·step, and cover every voxel', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 300 }),
      fc.integer({ min: 1, max: 160 }),
      fc.double({ min: 0.05, max: 1, noNaN: true }),
      (image, patch, step) => {
        const padded = Math.max(image, patch);
        const [starts] = computeStepsForSlidingWindow([patch], [padded], step) as [number[]];
        assert.equal(starts[0], 0);
        assert.equal(starts.at(-1), padded - patch);
        for (let i = 1; i < starts.length; i++) {
          const stride = (starts[i] as number) - (starts[i - 1] as number);
          assert.ok(stride >= 0 && stride <= Math.ceil(patch * step), `stride ${stride}`);
        }
        // every voxel is inside some tile
        for (let i = 1; i < starts.length; i++)
          assert.ok((starts[i] as number) <= (starts[i - 1] as number) + patch);
      },
    ),
    { numRuns: 2000 },
  );
});

test('invalid step sizes are rejected with a StunetError', () => {
  for (const s of [0, -0.5, 1.5, NaN])
    assert.throws(
      () => computeStepsForSlidingWindow([64], [100], s),
      (e: unknown) => e instanceof StunetError && e.code === 'BAD_INPUT',
    );
});
