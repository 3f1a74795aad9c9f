/**
 * The tab's memory bound (issue 11, item 6), decided before any work from the model's architecture and the
 * image's header: S and B fit wasm32's 4 GiB on every backend for the small example CT at 1.5 mm; L and H are
 * refused with a message that says why and what to do instead.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { MemoryStore } from '../../src/jobs/store.js';
import { defaultMeta } from '../../src/model/loaded-model.js';
import { scaleArchitecture, type ScaleName } from '../../src/model/scales.js';
import { webMemoryPlan, WASM32_BYTES, type WebExecutor } from '../../web/src/memory.js';
import { fixturePath } from '../helpers.js';

const store = new MemoryStore([['ct.nii.gz', readFileSync(fixturePath('nifti', 'example_ct_sm.nii.gz'))]]);
const plan = (scale: ScaleName, executor: WebExecutor) =>
  webMemoryPlan(
    store,
    { arch: scaleArchitecture(scale), weights: new Map(), meta: defaultMeta('nnunet-v1') },
    'ct.nii.gz',
    executor,
  );

test('S and B fit on WASM, WebGPU and the engine; the bound is said', () => {
  for (const scale of ['S', 'B'] as const)
    for (const executor of ['ort-wasm', 'ort-webgpu', 'engine'] as const) {
      const p = plan(scale, executor);
      assert.equal(p.refusal, null, `${scale} on ${executor}`);
      assert.ok(p.wasmBytes > 0 && p.wasmBytes < WASM32_BYTES && p.tabBytes > p.wasmBytes / 2);
      assert.match(p.text, /of wasm32's 4\.00 GiB/);
    }
  // ONNX Runtime holds S's weights and one 128³ tile's features in its wasm memory: about 0.9 GiB
  const s = plan('S', 'ort-wasm');
  assert.ok(s.wasmBytes > 0.7 * 2 ** 30 && s.wasmBytes < 1.1 * 2 ** 30, String(s.wasmBytes));
});

test('L and H are refused before any work, on every backend, saying why', () => {
  assert.match(plan('L', 'ort-wasm').refusal ?? '', /more than wasm32's 4\.00 GiB.*S or B fit/);
  assert.match(plan('H', 'ort-wasm').refusal ?? '', /more than wasm32's/);
  assert.match(plan('L', 'ort-webgpu').refusal ?? '', /exceed the 1\.50 GiB an inline ONNX model/);
  assert.match(plan('H', 'ort-webgpu').refusal ?? '', /wasm32|inline ONNX/);
  assert.match(plan('L', 'engine').refusal ?? '', /in the tab with the engine/);
  assert.match(plan('H', 'engine').refusal ?? '', /in the tab with the engine/);
});
