/** Issue 15, item 2: predict's memory, said before the work (the estimate's parts and the probe). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { estimatePredictMemory, inferenceActivationPeak } from '../../src/model/inference-memory.js';
import { scaleArchitecture } from '../../src/model/scales.js';
import { loadNnunetV1 } from '../../src/checkpoint/nnunet-read.js';
import { fixturePath, tinyArchitecture } from '../helpers.js';

test('the live activations of a tiny net, replayed by hand', () => {
  // dims [4, 8], one residual block per stage, 8³ input, 1 class. Every output is 4 bytes a voxel: a
  // 4-channel map at 8³ is 8192 bytes, the 8-channel upsampled map 16384. The tape (see memory.ts): stage
  // 0 ends in the skip map; stage 1 at 4³; upsample (8 ch at 8³) → conv to 4 ch → concat with the skip →
  // block. Most alive: at the conv after the upsample — the input (2048, the caller's), the skip (8192),
  // the upsampled map (16384) and the conv's output (8192); the concat (input, skip, conv output and the
  // 16384-byte concat) and the block's shortcut conv tie it.
  const a = tinyArchitecture(1, [4, 8]);
  const peak = inferenceActivationPeak(a, [1, 1, 8, 8, 8]);
  assert.equal(peak, 2048 + 8192 + 16384 + 8192);
  // Halving the skip's channels is not possible here; a deeper stage 0 (more ops in the block) must not
  // change the peak, which is set by the decoder.
  assert.equal(inferenceActivationPeak({ ...a, depth: [2, 1] }, [1, 1, 8, 8, 8]), peak);
});

test('activations grow with the patch and the scale; the runtime copy only for ONNX Runtime', () => {
  const s = scaleArchitecture('S');
  const small = inferenceActivationPeak(s, [1, 1, 64, 64, 64]);
  const big = inferenceActivationPeak(s, [1, 1, 128, 128, 128]);
  assert.ok(Math.abs(big / small - 8) < 0.01, `${big / small}`);
  assert.ok(inferenceActivationPeak(scaleArchitecture('B'), [1, 1, 128, 128, 128]) > big);
  const o = {
    patchZYX: [128, 128, 128] as const,
    inputVoxels: 1e6,
    resampledVoxels: 2e6,
    ringBytes: 2 ** 28,
  };
  const ort = estimatePredictMemory(scaleArchitecture('H'), {
    ...o,
    patchZYX: [128, 128, 128],
    executor: 'ort',
  });
  const wasm = estimatePredictMemory(scaleArchitecture('H'), {
    ...o,
    patchZYX: [128, 128, 128],
    executor: 'wasm',
  });
  assert.equal(ort.weightsBytes, 4 * 1_457_326_221);
  assert.ok(ort.runtimeWeightsBytes >= ort.weightsBytes, 'ONNX Runtime holds a copy of the weights at least');
  assert.equal(wasm.runtimeWeightsBytes, 0);
  // ONNX Runtime: while its session is created both copies exist; running, only its own.
  assert.ok(ort.peakBytes >= ort.baseBytes + 2 * ort.weightsBytes);
  const running = ort.baseBytes + ort.runtimeWeightsBytes + ort.activationBytes + ort.caseBytes;
  assert.equal(ort.peakBytes, Math.max(running, ort.baseBytes + 2 * ort.weightsBytes));
  assert.equal(wasm.peakBytes, wasm.baseBytes + wasm.weightsBytes + wasm.activationBytes + wasm.caseBytes);
  const low = estimatePredictMemory(scaleArchitecture('H'), { ...o, executor: 'ort', lowMemory: true });
  assert.ok(low.activationBytes < ort.activationBytes && low.peakBytes < ort.peakBytes);
});

test('a checkpoint probed without its weights has the architecture of the full load', () => {
  const path = fixturePath('stunet-forward', 'T1.model');
  const bytes = readFileSync(path);
  const pkl = readFileSync(`${path}.pkl`);
  const full = loadNnunetV1(bytes, pkl, path);
  const probe = loadNnunetV1(bytes, pkl, path, { weights: false });
  assert.deepEqual(probe.arch, full.arch);
  assert.deepEqual(probe.meta, full.meta);
  assert.equal(probe.weights.size, 0);
  assert.ok(full.weights.size > 0);
});
