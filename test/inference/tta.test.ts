import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StunetError } from '../../src/util/errors.js';
import { Tensor } from '../../src/engine/tensor.js';
import { flipSpatial, mirrorPasses, predictMirrored, softmaxChannels } from '../../src/inference/tta.js';
import { expectClose } from '../helpers.js';

test('v1 passes follow _internal_maybe_mirror_and_pred_3D: m = 0…7, only those whose axes are allowed', () => {
  assert.deepEqual(mirrorPasses([0, 1, 2], 'v1'), [[], [2], [1], [2, 1], [0], [2, 0], [1, 0], [2, 1, 0]]);
  assert.deepEqual(mirrorPasses([0, 1], 'v1'), [[], [1], [0], [1, 0]]);
  assert.deepEqual(mirrorPasses([], 'v1'), [[]]);
});

test('v2 passes: identity, then itertools.combinations (the STU-Net copy spells out the same order)', () => {
  assert.deepEqual(mirrorPasses([0, 1, 2], 'v2'), [[], [0], [1], [2], [0, 1], [0, 2], [1, 2], [0, 1, 2]]);
  assert.deepEqual(mirrorPasses([1, 2], 'v2'), [[], [1], [2], [1, 2]]);
});

test('invalid mirror axes are rejected', () => {
  for (const axes of [[3], [0, 0], [-1]])
    assert.throws(
      () => mirrorPasses(axes, 'v2'),
      (e: unknown) => e instanceof StunetError && e.code === 'BAD_INPUT',
    );
});

test('flipSpatial flips the named axes of (N, C, Z, Y, X) and is its own inverse', () => {
  const t = Tensor.fromArray([1, 2, 2, 1, 3], [0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15]);
  assert.deepEqual([...flipSpatial(t, [2]).data], [2, 1, 0, 5, 4, 3, 12, 11, 10, 15, 14, 13]);
  assert.deepEqual([...flipSpatial(t, [0]).data], [3, 4, 5, 0, 1, 2, 13, 14, 15, 10, 11, 12]);
  const r = Tensor.fromArray(
    [2, 1, 3, 4, 5],
    Array.from({ length: 120 }, (_, i) => i),
  );
  assert.deepEqual([...flipSpatial(flipSpatial(r, [0, 1, 2]), [2, 1, 0]).data], [...r.data]);
});

const Z = 4;
const Y = 3;
const X = 5;
const patch = Tensor.fromArray(
  [1, 1, Z, Y, X],
  Array.from({ length: Z * Y * X }, (_, i) => Math.sin(i)),
);

// Not flip-equivariant: channel 0 echoes the input, channel 1 is the position inside the patch.
const positional = (x: Tensor): Promise<Tensor[]> => {
  const [n, , z, y, w] = x.shape as [number, number, number, number, number];
  const s = z * y * w;
  const out = new Tensor([n, 2, z, y, w]);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < s; i++) {
      out.data[b * 2 * s + i] = x.data[b * s + i] as number;
      out.data[(b * 2 + 1) * s + i] = 100 * Math.floor(i / (y * w)) + 10 * (Math.floor(i / w) % y) + (i % w);
    }
  return Promise.resolve([out]);
};

test('v2 TTA flips the input, flips each output back and averages the logits', async () => {
  for (const batch of [false, true]) {
    let calls = 0;
    const net = (x: Tensor) => {
      calls++;
      return positional(x);
    };
    const { values, classes } = await predictMirrored(net, patch, {
      passes: mirrorPasses([0, 1, 2], 'v2'),
      aggregation: 'v2',
      batch,
    });
    assert.equal(classes, 2);
    assert.equal(calls, batch ? 1 : 8);
    const s = Z * Y * X;
    expectClose(values.subarray(0, s), patch.data, { atol: 1e-6, label: 'echo channel' });
    // The position channel averages to the patch centre (z, y, x) = (1.5, 1, 2) everywhere.
    expectClose(values.subarray(s), new Float32Array(s).fill(150 + 10 + 2), {
      atol: 1e-4,
      label: 'position',
    });
  }
});

test('v1 TTA averages softmaxes with weight 1/n; mirroring over a subset of axes', async () => {
  const passes = mirrorPasses([2], 'v1');
  const { values } = await predictMirrored(positional, patch, { passes, aggregation: 'v1', batch: false });
  const s = Z * Y * X;
  const expected = new Float32Array(2 * s);
  for (const flipX of [false, true]) {
    const logits = new Float32Array(2 * s);
    for (let i = 0; i < s; i++) {
      const x = i % X;
      logits[i] = patch.data[i] as number;
      logits[s + i] = 100 * Math.floor(i / (Y * X)) + 10 * (Math.floor(i / X) % Y) + (flipX ? X - 1 - x : x);
    }
    const p = softmaxChannels(logits, 2);
    for (let i = 0; i < p.length; i++) expected[i] = (expected[i] as number) + 0.5 * (p[i] as number);
  }
  expectClose(values, expected, { atol: 1e-7 });
});

test('softmaxChannels normalises over the channel axis and survives large logits', () => {
  const p = softmaxChannels(Float32Array.from([1000, 0, 0, 1]), 2); // (K=2, S=2)
  expectClose(p, [1, 1 / (1 + Math.E), 0, Math.E / (1 + Math.E)], { atol: 1e-7 });
});

test('an output that does not match the patch is reported (deep supervision left on)', async () => {
  const bad = () => Promise.resolve([new Tensor([1, 2, 2, 3, 5])]);
  await assert.rejects(
    predictMirrored(bad, patch, { passes: [[]], aggregation: 'v2', batch: false }),
    (e: unknown) => e instanceof StunetError && e.code === 'SHAPE_MISMATCH',
  );
});
