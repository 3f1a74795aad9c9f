import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Engine, TensorParams } from '../../src/engine/engine.js';
import { refBackend } from '../../src/engine/backends/ref/index.js';
import { Tensor } from '../../src/engine/tensor.js';
import { initWeightsHe } from '../../src/model/init.js';
import { scaleArchitecture } from '../../src/model/scales.js';
import { StuNet } from '../../src/model/stunet.js';
import { concatChunks, exportOnnx, type OnnxModelFn } from '../../src/onnx/export.js';
import { decodeModel } from '../../src/onnx/proto-read.js';
import { readOnnxFileInfo } from '../../src/node/onnx-file-info.js';
import { exportOnnxToFile } from '../../src/node/onnx-save.js';
import { createOrtSession } from '../../src/onnx/session-node.js';
import { OnnxTracer } from '../../src/onnx/tracer.js';
import { weightsFromMap } from '../../src/onnx/weights.js';
import { expectClose } from '../helpers.js';
import { randomTensor } from './reference.js';
import type { Vec3 } from '../../src/util/vec3.js';

// A tiny STU-Net: 6 stages, anisotropic pools (one of them [1,1,1]), 2 input channels, 3 classes.
const POOLS: Vec3[] = [
  [1, 2, 2],
  [2, 2, 1],
  [1, 1, 2],
  [2, 1, 1],
  [1, 1, 1],
];
const arch = scaleArchitecture('S', {
  depth: [1, 1, 2, 1, 1, 1],
  dims: [4, 6, 8, 8, 8, 8],
  numClasses: 3,
  inputChannels: 2,
  poolOpKernelSizes: POOLS,
});
const net = new StuNet(arch);
const weights = initWeightsHe(net, 7);
// Random norm affines and biases too, so every parameter matters.
let seed = 100;
for (const [name, t] of weights) {
  if (t.shape.length !== 1) continue;
  const offset = name.endsWith('.weight') ? 1 : 0; // norm scales around 1, biases around 0
  t.data.set(randomTensor(t.shape, seed++, 0.3).data.map((v) => v + offset));
}
const forwardDs: OnnxModelFn = (ops, p, x) => net.forward(ops, p, x, { deepSupervision: true });
const TRACE_SHAPE = [1, 2, 8, 8, 12];

function eager(x: Tensor): Tensor[] {
  return net.forward(new Engine(refBackend), new TensorParams(weights), x, { deepSupervision: true });
}

function checkAll(actual: readonly Tensor[], expected: readonly Tensor[], label: string): void {
  assert.equal(actual.length, expected.length, `${label}: output count`);
  expected.forEach((e, i) => {
    const a = actual[i];
    assert.ok(a !== undefined);
    assert.deepEqual(a.shape, e.shape, `${label} output ${i} shape`);
    expectClose(a.data, e.data, { atol: 1e-5, maxRelTol: 1e-4, label: `${label} output ${i}` });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'stunet-onnx-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

void test('tiny STU-Net (deep supervision) in ONNX Runtime matches the eager engine, at the trace size and another', async () => {
  const exported = exportOnnx(forwardDs, { inputShape: TRACE_SHAPE, weights: weightsFromMap(weights) });
  assert.deepEqual(exported.outputNames, ['output_0', 'output_1', 'output_2', 'output_3', 'output_4']);
  assert.deepEqual(
    [...exported.paramNames].sort(),
    [...weights.keys()].sort(),
    'every parameter is an initializer',
  );
  assert.equal(exported.externalData, undefined);
  const session = await createOrtSession(exported.model);
  try {
    for (const shape of [TRACE_SHAPE, [2, 2, 4, 12, 8]]) {
      const x = randomTensor(shape, 3);
      checkAll(await session.run(x), eager(x), `input ${shape.join('×')}`);
    }
  } finally {
    await session.release();
  }
});

void test('graph inputs/outputs declare dynamic N, D, H, W; smaller heads get their own names', () => {
  const exported = exportOnnx(forwardDs, {
    inputShape: TRACE_SHAPE,
    weights: weightsFromMap(weights),
    outputNames: ['seg', 'ds1', 'ds2', 'ds3', 'ds4'],
  });
  const g = decodeModel(exported.model).graph;
  assert.deepEqual(g.inputs, [{ name: 'input', elemType: 1, dims: ['N', 2, 'D', 'H', 'W'] }]);
  assert.deepEqual(g.outputs[0]?.dims, ['N', 3, 'D', 'H', 'W']);
  // The next head sits before the last upsampling, which undoes pools[0] = [1, 2, 2].
  assert.deepEqual(g.outputs[1]?.dims, ['N', 3, 'D', 'H_ds1', 'W_ds1']);
  assert.deepEqual(
    g.outputs.map((o) => o.name),
    ['seg', 'ds1', 'ds2', 'ds3', 'ds4'],
  );
  const ops = new Set(g.nodes.map((n) => n.opType));
  assert.deepEqual([...ops].sort(), [
    'Add',
    'Concat',
    'Conv',
    'Identity',
    'InstanceNormalization',
    'LeakyRelu',
    'Resize',
  ]);
  const conv = g.nodes.find((n) => n.name === 'conv_blocks_context.1.0.conv1/Conv');
  assert.ok(conv !== undefined, 'conv nodes are named after their module');
  assert.deepEqual(conv.inputs.slice(1), [
    'conv_blocks_context.1.0.conv1.weight',
    'conv_blocks_context.1.0.conv1.bias',
  ]);
  const staticDims = decodeModel(
    exportOnnx(forwardDs, { inputShape: TRACE_SHAPE, weights: weightsFromMap(weights), dynamicAxes: false })
      .model,
  ).graph;
  assert.deepEqual(staticDims.inputs[0]?.dims, TRACE_SHAPE);
  assert.deepEqual(staticDims.outputs[4]?.dims, [1, 3, 2, 2, 3]); // bottleneck resolution: 8×8×12 / [4, 4, 4]
});

void test('external data: threshold 0 writes a side file; ORT runs it from the path with the same numbers as inline', async () => {
  const inline = exportOnnx(forwardDs, { inputShape: TRACE_SHAPE, weights: weightsFromMap(weights) });
  const modelPath = join(dir, 'tiny.onnx');
  const saved = exportOnnxToFile(forwardDs, modelPath, {
    inputShape: TRACE_SHAPE,
    weights: weightsFromMap(weights),
    externalDataThreshold: 0,
    metadata: { 'stunet.arch': JSON.stringify(arch.dims), empty: '' },
  });
  assert.equal(saved.externalDataPath, join(dir, 'tiny.onnx.data'));
  assert.deepEqual(readdirSync(dir).sort(), ['tiny.onnx', 'tiny.onnx.data'], 'no temporaries left behind');
  assert.equal(statSync(join(dir, 'tiny.onnx.data')).size, saved.externalData?.byteLength);
  assert.ok(
    statSync(modelPath).size < inline.model.length - inline.weightBytes + 20_000,
    'the model file holds no weights',
  );

  const all = decodeModel(saved.model).graph.initializers;
  const inits = all.filter((t) => !t.name.startsWith('resize_scales_'));
  assert.deepEqual(
    all
      .filter((t) => t.rawData !== undefined)
      .map((t) => t.name)
      .sort(),
    ['resize_scales_1x1x2', 'resize_scales_1x2x2', 'resize_scales_2x1x1', 'resize_scales_2x2x1'],
    'Resize scales stay inline (ORT shape inference reads them)',
  );
  assert.ok(inits.every((t) => t.rawData === undefined && t.externalData?.location === 'tiny.onnx.data'));
  assert.equal(inits.length, weights.size);
  for (const t of inits) {
    const ext = t.externalData;
    assert.ok(ext !== undefined);
    assert.equal(ext.length, 4 * t.dims.reduce((a, b) => a * b, 1));
    assert.equal(ext.offset % (ext.length >= 4096 ? 4096 : 16), 0, `${t.name} is aligned`);
  }
  assert.deepEqual(readOnnxFileInfo(modelPath).metadata, { 'stunet.arch': '[4,6,8,8,8,8]', empty: '' });

  const x = randomTensor(TRACE_SHAPE, 5);
  const fromFile = await createOrtSession(modelPath);
  const fromBytes = await createOrtSession(inline.model);
  const fromMemory = await createOrtSession(saved.model, {
    externalData: [{ path: 'tiny.onnx.data', data: concatChunks(saved.externalData?.chunks ?? []) }],
  });
  try {
    const expected = await fromBytes.run(x);
    for (const s of [fromFile, fromMemory]) {
      const got = await s.run(x);
      got.forEach((t, i) => {
        assert.deepEqual([...t.data], [...(expected[i]?.data ?? [])], `output ${i} identical`);
      });
    }
  } finally {
    await Promise.all([fromFile.release(), fromBytes.release(), fromMemory.release()]);
  }
  await assert.rejects(
    createOrtSession(saved.model),
    /ONNX Runtime failed to load/,
    'bytes without their side file fail clearly',
  );
});

void test('weights: missing or mis-shaped parameters fail naming the key', () => {
  const fn: OnnxModelFn = (ops, p, x) => [
    ops.conv3d(x, p.param('c.weight', [2, 1, 1, 1, 1]), p.param('c.bias', [2]), {
      stride: [1, 1, 1],
      padding: [0, 0, 0],
    }),
  ];
  const opts = { inputShape: [1, 1, 2, 2, 2] };
  assert.throws(() => exportOnnx(fn, { ...opts, weights: weightsFromMap(new Map()) }), {
    code: 'NOT_FOUND',
    message: /no entry 'c.weight'/,
  });
  const wrong = new Map([
    ['c.weight', new Tensor([2, 1, 1, 1, 2])],
    ['c.bias', new Tensor([2])],
  ]);
  assert.throws(() => exportOnnx(fn, { ...opts, weights: weightsFromMap(wrong) }), {
    code: 'SHAPE_MISMATCH',
    message: /'c.weight'/,
  });
  assert.throws(() => exportOnnx(fn, { ...opts, weights: () => new Float32Array(3) }), {
    code: 'SHAPE_MISMATCH',
    message: /'c.weight' has 3 values/,
  });
  const twice: OnnxModelFn = (ops, p) => [
    ops.add(p.param('a', [1, 1, 2, 2, 2]), p.param('a', [1, 1, 2, 2, 1])),
  ];
  assert.throws(
    () => exportOnnx(twice, { ...opts, weights: (_n, s) => new Float32Array(s.reduce((a, b) => a * b, 1)) }),
    /'a' requested as/,
  );
});

void test('export validates its options and the traced ops like the eager engine does', () => {
  const id: OnnxModelFn = (_ops, _p, x) => [x];
  const weightsNone = weightsFromMap(new Map());
  assert.throws(
    () => exportOnnx(id, { inputShape: [1, 1, 2, 2], weights: weightsNone }),
    /5 positive integers/,
  );
  assert.throws(
    () => exportOnnx(id, { inputShape: [1, 1, 2, 2, 2], weights: weightsNone, outputNames: ['a', 'b'] }),
    /2 output names/,
  );
  assert.throws(
    () => exportOnnx(id, { inputShape: [1, 1, 2, 2, 2], weights: weightsNone, outputNames: ['input'] }),
    /'input' is already used/,
  );
  assert.throws(
    () => exportOnnx(() => [], { inputShape: [1, 1, 2, 2, 2], weights: weightsNone }),
    /no outputs/,
  );
  assert.throws(
    () => exportOnnx(id, { inputShape: [1, 1, 2, 2, 2], weights: weightsNone, dynamicAxes: { 7: 'Z' } }),
    /axis '7'/,
  );
  assert.throws(
    () =>
      exportOnnx(id, {
        inputShape: [1, 1, 2, 2, 2],
        weights: weightsNone,
        externalData: true,
        externalDataLocation: '../x',
      }),
    /relative path/,
  );
  const badConv: OnnxModelFn = (ops, p, x) => [
    ops.conv3d(x, p.param('w', [2, 3, 1, 1, 1]), null, { stride: [1, 1, 1], padding: [0, 0, 0] }),
  ];
  assert.throws(
    () => exportOnnx(badConv, { inputShape: [1, 1, 2, 2, 2], weights: () => new Float32Array(6) }),
    {
      code: 'SHAPE_MISMATCH',
      message: /input has 1 channels but weight \[2, 3, 1, 1, 1\] expects 3/,
    },
  );
  const other = new OnnxTracer().input('y', [1, 1, 2, 2, 2]);
  assert.throws(
    () =>
      exportOnnx((ops, _p, x) => [ops.add(x, other)], { inputShape: [1, 1, 2, 2, 2], weights: weightsNone }),
    /does not belong to this trace/,
  );
});

void test('a static export rejects other input sizes at run time with a StunetError', async () => {
  const exported = exportOnnx((ops, _p, x) => [ops.leakyRelu(x, 0.1)], {
    inputShape: [1, 1, 2, 2, 2],
    weights: weightsFromMap(new Map()),
    dynamicAxes: false,
  });
  const session = await createOrtSession(exported.model);
  try {
    await assert.rejects(session.run(new Tensor([1, 1, 2, 2, 3])), {
      name: 'StunetError',
      code: 'RUNTIME',
      message: /failed to run the model on input \[1, 1, 2, 2, 3\]/,
    });
  } finally {
    await session.release();
  }
});
