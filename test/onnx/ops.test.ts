import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Tensor } from '../../src/engine/tensor.js';
import { exportOnnx } from '../../src/onnx/export.js';
import { createOrtSession } from '../../src/onnx/session-node.js';
import { weightsFromMap } from '../../src/onnx/weights.js';
import { expectClose } from '../helpers.js';
import * as ref from './reference.js';
import { runExported } from './run.js';
import type { Vec3 } from '../../src/util/vec3.js';

// Each op traced alone, run by ONNX Runtime (CPU), compared with the naive loops in reference.ts.
const TOL = { atol: 1e-5, rtol: 1e-5 };

function check(actual: Tensor | undefined, expected: Tensor, label: string): void {
  assert.ok(actual !== undefined, `${label}: no output`);
  assert.deepEqual(actual.shape, expected.shape, `${label}: shape`);
  expectClose(actual.data, expected.data, { ...TOL, label });
}

interface ConvCase {
  label: string;
  x: number[];
  w: number[];
  stride: Vec3;
  padding: Vec3;
  bias: boolean;
}

const convCases: ConvCase[] = [
  {
    label: '1×1×1 conv',
    x: [1, 3, 2, 3, 4],
    w: [2, 3, 1, 1, 1],
    stride: [1, 1, 1],
    padding: [0, 0, 0],
    bias: true,
  },
  {
    label: '3×3×3 conv, pad 1, batch 2',
    x: [2, 2, 5, 6, 7],
    w: [3, 2, 3, 3, 3],
    stride: [1, 1, 1],
    padding: [1, 1, 1],
    bias: true,
  },
  {
    label: '3×3×3 conv, pad 1, stride 2 (odd sizes)',
    x: [1, 2, 7, 6, 5],
    w: [4, 2, 3, 3, 3],
    stride: [2, 2, 2],
    padding: [1, 1, 1],
    bias: true,
  },
  {
    label: '3×3×3 conv, pad 1, stride [1,1,2], no bias',
    x: [1, 3, 4, 5, 8],
    w: [2, 3, 3, 3, 3],
    stride: [1, 1, 2],
    padding: [1, 1, 1],
    bias: false,
  },
  {
    label: 'anisotropic kernel 1×3×3, pad [0,1,1]',
    x: [1, 2, 3, 4, 5],
    w: [2, 2, 1, 3, 3],
    stride: [1, 2, 1],
    padding: [0, 1, 1],
    bias: true,
  },
];

for (const c of convCases) {
  void test(`ONNX ${c.label} matches the reference loop`, async () => {
    const x = ref.randomTensor(c.x, 1);
    const w = ref.randomTensor(c.w, 2, 0.5);
    const b = ref.randomTensor([c.w[0] as number], 3);
    const weights = new Map([['conv.weight', w], ...(c.bias ? [['conv.bias', b] as const] : [])]);
    const [y] = await runExported(
      (ops, p, input) => [
        ops.conv3d(
          input,
          p.param('conv.weight', c.w),
          c.bias ? p.param('conv.bias', [c.w[0] as number]) : null,
          {
            stride: c.stride,
            padding: c.padding,
          },
        ),
      ],
      x,
      weights,
    );
    check(y, ref.conv3d(x, w, c.bias ? b : null, c.stride, c.padding), c.label);
  });
}

void test('ONNX instanceNorm matches the reference (biased variance, affine, eps)', async () => {
  const x = ref.randomTensor([2, 3, 3, 4, 5], 4, 3);
  for (let i = 0; i < x.size; i++) x.data[i] = (x.data[i] as number) + 5; // non-zero mean
  const g = ref.randomTensor([3], 5);
  const b = ref.randomTensor([3], 6);
  const [y] = await runExported(
    (ops, p, input) => [ops.instanceNorm(input, p.param('in.weight', [3]), p.param('in.bias', [3]), 1e-5)],
    x,
    new Map([
      ['in.weight', g],
      ['in.bias', b],
    ]),
  );
  check(y, ref.instanceNorm(x, g, b, 1e-5), 'instanceNorm');
});

void test('ONNX leakyRelu and add match the reference', async () => {
  const x = ref.randomTensor([1, 2, 3, 4, 5], 7);
  const other = ref.randomTensor([1, 2, 3, 4, 5], 8);
  const [relu, sum] = await runExported(
    (ops, p, input) => [ops.leakyRelu(input, 0.01), ops.add(input, p.param('other', [1, 2, 3, 4, 5]))],
    x,
    new Map([['other', other]]),
  );
  check(relu, ref.leakyRelu(x, 0.01), 'leakyRelu');
  check(sum, ref.add(x, other), 'add');
});

void test('ONNX concat on the channel axis and on a spatial axis matches the reference', async () => {
  const x = ref.randomTensor([1, 2, 3, 4, 5], 9);
  const a = ref.randomTensor([1, 3, 3, 4, 5], 10);
  const b = ref.randomTensor([1, 2, 3, 2, 5], 11);
  const [c1, c3] = await runExported(
    (ops, p, input) => [
      ops.concat([input, p.param('a', [1, 3, 3, 4, 5])], 1),
      ops.concat([p.param('b', [1, 2, 3, 2, 5]), input], 3),
    ],
    x,
    new Map([
      ['a', a],
      ['b', b],
    ]),
  );
  check(c1, ref.concat([x, a], 1), 'concat axis 1');
  check(c3, ref.concat([b, x], 3), 'concat axis 3');
});

for (const scale of [
  [2, 2, 2],
  [1, 1, 2],
  [1, 2, 3],
] as Vec3[]) {
  void test(`ONNX nearest upsampling by [${scale.join(',')}] equals torch's nearest (floor(i / s))`, async () => {
    const x = ref.randomTensor([2, 2, 2, 3, 4], 12);
    const [y] = await runExported((ops, _p, input) => [ops.upsampleNearest(input, scale)], x);
    assert.ok(y !== undefined);
    assert.deepEqual(y.shape, ref.upsampleNearest(x, scale).shape);
    assert.deepEqual(
      [...y.data],
      [...ref.upsampleNearest(x, scale).data],
      'nearest upsampling copies values exactly',
    );
  });
}

void test('the traced graph is size-generic: exported at one size, run at another', async () => {
  const w = ref.randomTensor([3, 2, 3, 3, 3], 13, 0.4);
  const b = ref.randomTensor([3], 14);
  const weights = new Map([
    ['down.weight', w],
    ['down.bias', b],
  ]);
  const net = (x: Tensor): Tensor =>
    ref.upsampleNearest(ref.leakyRelu(ref.conv3d(x, w, b, [2, 2, 1], [1, 1, 1]), 0.01), [2, 2, 1]);
  const small = ref.randomTensor([1, 2, 4, 4, 6], 15);
  const large = ref.randomTensor([2, 2, 6, 8, 5], 16);
  const exported = exportOnnx(
    (ops, p, x) => {
      const y = ops.conv3d(x, p.param('down.weight', [3, 2, 3, 3, 3]), p.param('down.bias', [3]), {
        stride: [2, 2, 1],
        padding: [1, 1, 1],
      });
      return [ops.upsampleNearest(ops.leakyRelu(y, 0.01), [2, 2, 1])];
    },
    { inputShape: small.shape, weights: weightsFromMap(weights) },
  );
  const session = await createOrtSession(exported.model);
  try {
    for (const x of [small, large]) {
      const [y] = await session.run(x);
      check(y, net(x), `input ${x.shape.join('×')}`);
    }
  } finally {
    await session.release();
  }
});
