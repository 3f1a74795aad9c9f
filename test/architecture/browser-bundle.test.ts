/**
 * The core entry bundles for a browser (esbuild, platform browser: a Node built-in anywhere in its graph
 * fails the build), and the bundle runs where there is no Node: in a fresh V8 context holding only what a
 * browser's Web Worker has, it loads an official v1 checkpoint from bytes and segments a CT crop with the
 * engine (wasm kernels, one thread), bytes in and bytes out.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createContext, runInContext } from 'node:vm';
import { build } from 'esbuild';
import { cropNifti } from '../../src/io/nifti-crop.js';
import { readNifti, writeNifti } from '../../src/io/nifti.js';
import { fixturePath } from '../helpers.js';
import { ROOT } from './graph.js';

async function bundle(format: 'esm' | 'iife'): Promise<string> {
  const r = await build({
    entryPoints: [join(ROOT, 'src', 'index.ts')],
    bundle: true,
    platform: 'browser',
    format,
    globalName: 'stunet',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  assert.deepEqual(r.errors, []);
  const out = r.outputFiles[0];
  assert.ok(out !== undefined);
  return out.text;
}

test('`stunet` bundles for the browser with nothing of Node in it', async () => {
  const text = await bundle('esm');
  assert.ok(text.length > 100_000, 'the core is in the bundle');
  assert.doesNotMatch(
    text,
    /from ["']node:|require\(["'](node:)?(fs|path|os|worker_threads)["']\)|onnxruntime-node/,
  );
});

test('the bundle segments a CT from bytes in a context without Node', async () => {
  const code = await bundle('iife');
  const ct = writeNifti(
    cropNifti(
      readNifti(readFileSync(fixturePath('nifti', 'example_ct_sm.nii.gz'))),
      [40, 30, 6],
      [36, 30, 14],
    ),
  );
  const inputs = {
    ct,
    model: new Uint8Array(readFileSync(fixturePath('stunet-forward', 'T1.model'))),
    pkl: new Uint8Array(readFileSync(fixturePath('stunet-forward', 'T1.model.pkl'))),
  };
  // A Worker's globals, none of Node's (no process, require, Buffer).
  const context = createContext({
    inputs: JSON.stringify({ ct: [...inputs.ct], model: [...inputs.model], pkl: [...inputs.pkl] }),
    atob,
    btoa,
    TextEncoder,
    TextDecoder,
    performance,
    setTimeout,
    clearTimeout,
    queueMicrotask,
    console,
  });
  runInContext(code, context);
  const result = (await runInContext(
    `(async () => {
      if (typeof process !== 'undefined' || typeof require !== 'undefined') throw new Error('Node leaked in');
      const raw = JSON.parse(inputs);
      const bytes = (a) => Uint8Array.from(a);
      const store = new stunet.MemoryStore([
        ['m/T1.model', bytes(raw.model)], ['m/T1.model.pkl', bytes(raw.pkl)], ['in/ct.nii.gz', bytes(raw.ct)],
      ]);
      const model = stunet.loadModelFromStore(store, 'm/T1.model');
      const p = await stunet.createPredictorNetwork(model, 'wasm', stunet.engineRuntime(), { threads: 1 });
      try {
        await stunet.predictFiles({ store }, 'in/ct.nii.gz', 'out/seg.nii.gz', model, p.network, { mirrorAxes: [] });
      } finally {
        await p.close();
      }
      const seg = stunet.readNifti(store.read('out/seg.nii.gz'));
      return JSON.stringify({ dims: seg.dims, labels: [...new Set(seg.raw)].sort(), files: store.list('out') });
    })()`,
    context,
  )) as string;
  const r = JSON.parse(result) as { dims: number[]; labels: number[]; files: string[] };
  assert.deepEqual(r.dims, [36, 30, 14]);
  assert.deepEqual(r.files, ['seg.json', 'seg.nii.gz']);
  assert.ok(r.labels.length > 1 && r.labels.every((l) => l >= 0 && l < 5), `labels ${r.labels.join(',')}`);
});
