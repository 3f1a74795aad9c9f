/**
 * `--device`: ONNX Runtime's CPU, CUDA and WebGPU providers, and the fallback to the CPU (with the reason)
 * where the requested one is not there. CI has no GPU: the fallback paths are what runs here.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { InferenceSession } from 'onnxruntime-node';
import { Tensor } from '../../src/engine/tensor.js';
import { readNifti, writeNifti } from '../../src/io/nifti.js';
import { cropNifti } from '../../src/io/nifti-crop.js';
import { loadModelFromStore } from '../../src/jobs/model-files.js';
import { createNetworkRunner, createPredictorNetwork } from '../../src/jobs/network.js';
import { engineRuntime } from '../../src/jobs/runtime.js';
import { nodeStore } from '../../src/node/file-store.js';
import { nodeRuntime } from '../../src/node/runtime.js';
import { exportOnnx } from '../../src/onnx/export.js';
import { deviceName, parseDevice } from '../../src/onnx/session.js';
import { createOrtSession, cudaProviderLibrary } from '../../src/onnx/session-node.js';
import { weightsFromMap } from '../../src/onnx/weights.js';
import { fixturePath } from '../helpers.js';
import { runCli, tempDir } from '../cli/cli-helpers.js';
import * as ref from './reference.js';

const W = ref.randomTensor([3, 2, 3, 3, 3], 31, 0.3);
const B = ref.randomTensor([3], 32);
const model = exportOnnx(
  (ops, p, x) => [
    ops.conv3d(x, p.param('w', [3, 2, 3, 3, 3]), p.param('b', [3]), {
      stride: [1, 1, 1],
      padding: [1, 1, 1],
    }),
  ],
  {
    inputShape: [1, 2, 5, 6, 7],
    weights: weightsFromMap(
      new Map([
        ['w', W],
        ['b', B],
      ]),
    ),
    outputNames: ['y'],
  },
).model;
const X = ref.randomTensor([1, 2, 5, 6, 7], 33);

const cudaLibrary = cudaProviderLibrary();
/** Whether CUDA can be tried here (its provider library installed); CI: no. */
const cudaBundled = cudaLibrary === null || existsSync(cudaLibrary);

async function outputOn(options: Parameters<typeof createOrtSession>[1]): Promise<{
  y: Tensor;
  device: string;
  fallback: string | undefined;
}> {
  const s = await createOrtSession(model, options);
  try {
    const [y] = await s.run(X);
    assert.ok(y !== undefined);
    return { y, device: s.device, fallback: s.fallback };
  } finally {
    await s.release();
  }
}

test('parseDevice: cpu, cuda, cuda:N, webgpu; anything else refused', () => {
  assert.deepEqual(parseDevice('cpu'), { kind: 'cpu' });
  assert.deepEqual(parseDevice('CUDA'), { kind: 'cuda' });
  assert.deepEqual(parseDevice('cuda:1'), { kind: 'cuda', index: 1 });
  assert.deepEqual(parseDevice('webgpu'), { kind: 'webgpu' });
  assert.equal(deviceName(parseDevice('cuda')), 'cuda:0');
  assert.equal(deviceName(parseDevice('cuda:3')), 'cuda:3');
  for (const bad of ['gpu', 'cuda:', 'cuda:-1', 'cuda:x', 'mps', ''])
    assert.throws(() => parseDevice(bad), {
      code: 'BAD_INPUT',
      message: /use cpu, cuda, cuda:N .* or webgpu/,
    });
});

test('device cpu: the CPU provider, no fallback', async (t) => {
  const create = t.mock.method(InferenceSession, 'create');
  const r = await outputOn({ device: { kind: 'cpu' } });
  assert.equal(r.device, 'cpu');
  assert.equal(r.fallback, undefined);
  assert.deepEqual(
    (create.mock.calls[0]?.arguments[1] as InferenceSession.SessionOptions).executionProviders,
    ['cpu'],
  );
});

test('device cuda:N without the CUDA provider: the CPU runs, same numbers, and the fallback says why', async (t) => {
  if (cudaBundled) {
    t.skip('the CUDA provider is installed here');
    return;
  }
  const cpu = await outputOn({});
  const create = t.mock.method(InferenceSession, 'create');
  const r = await outputOn({ device: { kind: 'cuda', index: 1 } });
  assert.equal(r.device, 'cpu');
  assert.match(
    r.fallback ?? '',
    /^device cuda:1 is not available here \(the CUDA execution provider is not installed: no \S+libonnxruntime_providers_cuda\.so\).*--onnxruntime-node-install=cuda12/,
  );
  // its library is not there: ORT was not asked for CUDA (no native error printed), only for the CPU
  const providers = create.mock.calls.map(
    (c) => (c.arguments[1] as InferenceSession.SessionOptions).executionProviders,
  );
  assert.deepEqual(providers, [['cpu']]);
  assert.deepEqual(Array.from(r.y.data), Array.from(cpu.y.data));
  await assert.rejects(createOrtSession(model, { device: { kind: 'cuda' }, deviceFallback: false }), {
    code: 'RUNTIME',
    message: /device cuda:0 is not available here/,
  });
});

test('device webgpu: runs on WebGPU where an adapter exists, else on the CPU saying why; same numbers', async () => {
  const cpu = await outputOn({});
  const r = await outputOn({ device: { kind: 'webgpu' } });
  if (r.fallback === undefined) assert.equal(r.device, 'webgpu');
  else {
    assert.equal(r.device, 'cpu');
    assert.match(r.fallback, /^device webgpu is not available here \(.+\); WebGPU needs a GPU/);
  }
  for (let i = 0; i < cpu.y.size; i++)
    assert.ok(Math.abs((r.y.data[i] as number) - (cpu.y.data[i] as number)) < 1e-4, `element ${i}`);
});

const T1 = fixturePath('stunet-forward', 'T1.model');

test('the engine backends refuse a GPU device; the predictor reports where it runs and why', async (t) => {
  const loaded = loadModelFromStore(nodeStore, T1);
  await assert.rejects(
    createPredictorNetwork(loaded, 'wasm', engineRuntime(), { device: { kind: 'cuda' } }),
    {
      code: 'BAD_INPUT',
      message: /device cuda:0 needs backend 'ort'.*the wasm engine runs on the CPU/,
    },
  );
  await assert.rejects(
    createNetworkRunner(loaded, engineRuntime(), {
      executor: 'ref',
      deepSupervision: false,
      device: { kind: 'webgpu' },
    }),
    { code: 'BAD_INPUT', message: /device webgpu needs backend 'ort'/ },
  );
  const wasm = await createPredictorNetwork(loaded, 'wasm', engineRuntime(), {
    device: { kind: 'cpu' },
    threads: 1,
  });
  assert.equal(wasm.device, 'cpu');
  assert.equal(wasm.fallback, undefined);
  await wasm.close();
  if (cudaBundled) {
    t.skip('the CUDA provider is installed here');
    return;
  }
  const ort = await createPredictorNetwork(loaded, 'ort', nodeRuntime, {
    device: { kind: 'cuda' },
    threads: 1,
  });
  try {
    assert.equal(ort.device, 'cpu');
    assert.match(ort.fallback ?? '', /^device cuda:0 is not available here/);
  } finally {
    await ort.close();
  }
});

function ctCrop(dir: string): string {
  const img = readNifti(readFileSync(fixturePath('nifti', 'example_ct_sm.nii.gz')));
  const path = join(dir, 'ct.nii.gz');
  writeFileSync(path, writeNifti(cropNifti(img, [40, 30, 6], [36, 30, 14])));
  return path;
}

test('stunet predict --device: cpu runs and says so; cuda falls back with a warning; wasm + a GPU refused', () => {
  const dir = tempDir();
  const input = ctCrop(dir);
  const cpu = runCli([
    'predict',
    '-i',
    input,
    '-o',
    join(dir, 'a.nii.gz'),
    '-m',
    T1,
    '--no-tta',
    '--device',
    'cpu',
  ]);
  assert.equal(cpu.status, 0, cpu.stderr);
  assert.match(cpu.stdout, /^device: cpu \(ONNX Runtime\)$/m);
  assert.doesNotMatch(cpu.stderr, /warning/);
  if (!cudaBundled) {
    const out = join(dir, 'b.nii.gz');
    const cuda = runCli(['predict', '-i', input, '-o', out, '-m', T1, '--no-tta', '--device', 'cuda:0']);
    assert.equal(cuda.status, 0, cuda.stderr);
    assert.match(cuda.stderr, /^warning: device cuda:0 is not available here .*; running on the CPU$/m);
    assert.match(cuda.stdout, /^device: cpu \(ONNX Runtime\)$/m);
    assert.deepEqual(readNifti(readFileSync(out)).data, readNifti(readFileSync(join(dir, 'a.nii.gz'))).data);
  }
  const wasm = runCli([
    'predict',
    '-i',
    input,
    '-o',
    join(dir, 'c.nii.gz'),
    '-m',
    T1,
    '--backend',
    'wasm',
    '--device',
    'webgpu',
  ]);
  assert.equal(wasm.status, 1);
  assert.match(wasm.stderr, /error: device webgpu needs backend 'ort'/);
  const bad = runCli(['predict', '-i', input, '-o', join(dir, 'c.nii.gz'), '-m', T1, '--device', 'gpu']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /error: device: use cpu, cuda, cuda:N/);
});
