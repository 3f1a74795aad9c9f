import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { InferenceSession } from 'onnxruntime-node';
import { Tensor } from '../../src/engine/tensor.js';
import { exportOnnx } from '../../src/onnx/export.js';
import {
  createOrtSession,
  ortVersion,
  supportedProviders,
  type OrtSessionOptions,
} from '../../src/onnx/session-node.js';
import { weightsFromMap } from '../../src/onnx/weights.js';
import * as ref from './reference.js';

// A small conv net, enough work for threads to matter a little.
const W = ref.randomTensor([4, 2, 3, 3, 3], 21, 0.3);
const B = ref.randomTensor([4], 22);
const model = exportOnnx(
  (ops, p, x) => [
    ops.leakyRelu(
      ops.conv3d(x, p.param('w', [4, 2, 3, 3, 3]), p.param('b', [4]), {
        stride: [1, 1, 1],
        padding: [1, 1, 1],
      }),
      0.01,
    ),
  ],
  {
    inputShape: [1, 2, 6, 6, 6],
    weights: weightsFromMap(
      new Map([
        ['w', W],
        ['b', B],
      ]),
    ),
    outputNames: ['y'],
  },
).model;
const X = ref.randomTensor([1, 2, 8, 10, 12], 23);

void test('thread, optimisation and memory options reach ORT and do not change the numbers', async (t) => {
  const base = await createOrtSession(model, { intraOpThreads: 1 });
  const expected = (await base.run(X))[0];
  await base.release();
  assert.ok(expected !== undefined);
  // Watch what OrtSession.create hands to ORT (the session object does not expose its options).
  const create = t.mock.method(InferenceSession, 'create');
  const defaults: InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  };
  const noSpin = { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } };
  const cases: [OrtSessionOptions, InferenceSession.SessionOptions][] = [
    [
      { intraOpThreads: 2, interOpThreads: 1 },
      { ...defaults, intraOpNumThreads: 2, interOpNumThreads: 1 },
    ],
    [
      { intraOpThreads: 4, graphOptimizationLevel: 'disabled' },
      { ...defaults, intraOpNumThreads: 4, graphOptimizationLevel: 'disabled' },
    ],
    [
      { executionProviders: ['cpu'], graphOptimizationLevel: 'basic' },
      { ...defaults, graphOptimizationLevel: 'basic' },
    ],
    [
      {
        enableCpuMemArena: false,
        enableMemPattern: false,
        executionMode: 'sequential',
        allowSpinning: false,
      },
      {
        ...defaults,
        enableCpuMemArena: false,
        enableMemPattern: false,
        executionMode: 'sequential',
        extra: { session: noSpin },
      },
    ],
  ];
  for (const [options, ortOptions] of cases) {
    const s = await createOrtSession(model, options);
    try {
      assert.deepEqual(create.mock.calls.at(-1)?.arguments[1], ortOptions, JSON.stringify(options));
      const [y] = await s.run(X);
      assert.ok(y !== undefined);
      assert.deepEqual(y.shape, [1, 4, 8, 10, 12]);
      for (let i = 0; i < y.size; i++)
        assert.ok(
          Math.abs((y.data[i] as number) - (expected.data[i] as number)) < 1e-5,
          JSON.stringify(options),
        );
    } finally {
      await s.release();
    }
  }
  assert.equal(create.mock.callCount(), cases.length);
  await assert.rejects(createOrtSession(model, { intraOpThreads: 0 }), {
    code: 'BAD_INPUT',
    message: /intraOpThreads must be a positive integer/,
  });
  assert.equal(create.mock.callCount(), cases.length, 'a bad thread count is refused before ORT is called');
});

void test('sessions report names, take inputs by position or name, refuse bad inputs and use after release', async () => {
  const s = await createOrtSession(model);
  assert.deepEqual(s.inputNames, ['input']);
  assert.deepEqual(s.outputNames, ['y']);
  const [a] = await s.run([X]);
  const [b] = await s.run({ input: X });
  assert.deepEqual(a?.data, b?.data);
  await assert.rejects(s.run([X, X]), { code: 'BAD_INPUT', message: /takes 1 input\(s\) \(input\), got 2/ });
  await assert.rejects(s.run({ other: X }), { code: 'BAD_INPUT', message: /missing model input 'input'/ });
  await assert.rejects(s.run(new Tensor([1, 3, 4, 4, 4])), {
    code: 'RUNTIME',
    message: /failed to run the model on input \[1, 3, 4, 4, 4\]/,
  });
  await s.release();
  await s.release(); // idempotent
  await assert.rejects(s.run(X), { code: 'BAD_INPUT', message: /released/ });
});

void test('ORT load failures become StunetErrors that say what failed', async () => {
  await assert.rejects(createOrtSession(new Uint8Array([1, 2, 3, 4])), {
    name: 'StunetError',
    code: 'RUNTIME',
    message: /failed to load the ONNX model/,
  });
  await assert.rejects(createOrtSession('/nonexistent/model.onnx'), {
    code: 'RUNTIME',
    message: /'\/nonexistent\/model.onnx'/,
  });
});

void test('an unavailable execution provider fails listing what is available, or falls back to CPU', async (t) => {
  if (supportedProviders().some((p) => p.name === 'cuda' && p.bundled)) {
    t.skip('this onnxruntime-node build bundles CUDA');
    return;
  }
  let s;
  try {
    s = await createOrtSession(model, { executionProviders: ['cuda'] });
  } catch (e) {
    assert.match(
      (e as Error).message,
      /requested execution providers: cuda; bundled here: cpu.*--onnxruntime-node-install=cuda12/,
    );
    return;
  }
  // Some builds fall back to CPU silently when the provider library is present but no GPU is.
  try {
    const [y] = await s.run(X);
    assert.deepEqual(y?.shape, [1, 4, 8, 10, 12]);
  } finally {
    await s.release();
  }
});

void test('ortVersion reports the installed onnxruntime-node version', () => {
  const pkg = createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string };
  assert.match(ortVersion(), /^\d+\.\d+\.\d+/);
  assert.equal(ortVersion(), pkg.version);
});

void test("a process that ran a session leaves no empty /tmp/mat-debug-<pid>.log of ONNX Runtime's behind", () => {
  const session = join(import.meta.dirname, '..', '..', 'src', 'onnx', 'session-node.ts');
  const script = `
    import { createOrtSession } from ${JSON.stringify(session)};
    const s = await createOrtSession(new Uint8Array(${JSON.stringify([...model])}));
    await s.release();
    console.log(process.pid);`;
  const r = spawnSync(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), '--input-type=module', '-e', script],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(r.status, 0, r.stderr);
  const pid = r.stdout.trim();
  assert.match(pid, /^\d+$/);
  assert.equal(existsSync(`/tmp/mat-debug-${pid}.log`), false);
});
