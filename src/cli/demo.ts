/**
 * `stunet demo`: the end-to-end path that exists today, on an embedded default (no downloads):
 * build STU-Net-S with seeded He weights → our model folder → official v1/v2 PyTorch checkpoints, read back
 * bit-exact → ONNX export → ONNX Runtime forward on a synthetic CT-like phantom → cross-check against the
 * reference engine → files and a summary in --out. (The training demo replaces this in a later issue.)
 */
import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { loadNnunetV1, loadNnunetV2 } from '../checkpoint/nnunet-read.js';
import { fail } from '../errors.js';
import { Tensor } from '../engine/tensor.js';
import { writeNpy } from '../io/npy.js';
import { countModel } from '../model/counting.js';
import { initWeightsHe } from '../model/init.js';
import { defaultMeta, type LoadedModel } from '../model/loaded-model.js';
import { scaleArchitecture } from '../model/scales.js';
import { StuNet } from '../model/stunet.js';
import { readBytes, writeAtomic } from '../node/fs.js';
import { saveModelFolder, saveTorchCheckpoint } from '../node/model-source.js';
import { createNetworkRunner } from '../node/network-runner.js';
import { saveOnnx } from '../onnx/save.js';
import { exportStunetOnnx } from '../onnx/stunet-export.js';
import { consoleProgress } from '../util/progress.js';
import { Rng } from '../util/random.js';
import { parsePositiveInt, parseVec3 } from './args.js';

interface DemoOptions {
  out: string;
  scale: string;
  patch: string;
  threads?: string;
}

/** A CT-like phantom, z-scored: a body ellipsoid with two organ blobs and a spine, plus noise. (1, 1, Z, Y, X) */
function phantom(zyx: readonly number[], seed: number): Tensor {
  const [Z, Y, X] = zyx as [number, number, number];
  const t = new Tensor([1, 1, Z, Y, X]);
  const rng = new Rng(seed);
  const inside = (z: number, y: number, x: number, c: number[], r: number[]): boolean =>
    ((z - (c[0] ?? 0)) / (r[0] ?? 1)) ** 2 +
      ((y - (c[1] ?? 0)) / (r[1] ?? 1)) ** 2 +
      ((x - (c[2] ?? 0)) / (r[2] ?? 1)) ** 2 <=
    1;
  for (let z = 0; z < Z; z++) {
    for (let y = 0; y < Y; y++) {
      for (let x = 0; x < X; x++) {
        let hu = -1000; // air
        if (inside(z, y, x, [Z / 2, Y / 2, X / 2], [Z * 0.48, Y * 0.4, X * 0.45])) hu = -80; // fat/body
        if (inside(z, y, x, [Z / 2, Y * 0.45, X * 0.35], [Z * 0.25, Y * 0.18, X * 0.15])) hu = 60; // liver-like
        if (inside(z, y, x, [Z / 2, Y * 0.5, X * 0.65], [Z * 0.12, Y * 0.1, X * 0.08])) hu = 30; // kidney-like
        if (inside(0, y, x, [0, Y * 0.7, X / 2], [1, Y * 0.07, X * 0.07])) hu = 700; // spine column
        t.data[(z * Y + y) * X + x] = (hu + rng.normal() * 20 + 300) / 400;
      }
    }
  }
  return t;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return m;
}

function argmaxClasses(logits: Tensor): Uint8Array {
  const [, C, Z, Y, X] = logits.shape as [number, number, number, number, number];
  const n = Z * Y * X;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < C; c++)
      if ((logits.data[c * n + i] ?? 0) > (logits.data[best * n + i] ?? 0)) best = c;
    out[i] = best;
  }
  return out;
}

async function runDemo(o: DemoOptions): Promise<void> {
  const out = resolve(o.out);
  const patch = parseVec3('--patch', o.patch);
  const threads = o.threads === undefined ? undefined : parsePositiveInt('--threads', o.threads);
  const progress = consoleProgress(process.stdout);
  const steps = 6;
  const step = (done: number, message: string): void => {
    progress({ stage: 'demo', done, total: steps, message });
  };
  const arch = scaleArchitecture(o.scale);
  const counts = countModel(arch, patch);
  console.log(
    `STU-Net-${o.scale}: ${counts.parameters.toLocaleString('en-US')} parameters, ${counts.convMacs.toExponential(3)} conv MACs at ${patch.join('×')}`,
  );
  step(0, 'building the network with seeded He-init weights');
  const model: LoadedModel = {
    arch,
    weights: initWeightsHe(new StuNet(arch), 0),
    meta: { ...defaultMeta(), patchSizeZYX: patch },
  };
  saveModelFolder(join(out, 'model'), model);
  step(1, `model folder written to ${join(out, 'model')}`);

  const v1 = saveTorchCheckpoint(model, join(out, 'torch-v1', 'demo.model'), 'torch-v1');
  const v2 = saveTorchCheckpoint(model, join(out, 'torch-v2', 'checkpoint_final.pth'), 'torch-v2');
  const back1 = loadNnunetV1(readBytes(v1.files[0] ?? ''), readBytes(v1.files[1] ?? ''));
  const back2 = loadNnunetV2(readBytes(v2.files[0] ?? ''));
  for (const back of [back1, back2]) {
    for (const [k, t] of model.weights) {
      const b = back.weights.get(k);
      if (b === undefined || maxAbsDiff(b.data, t.data) !== 0)
        fail('RUNTIME', `checkpoint round trip changed '${k}'`);
    }
  }
  step(
    2,
    'official v1 (.model + .pkl) and v2 (.pth + plans.json) checkpoints written and read back bit-exact',
  );

  const exported = exportStunetOnnx(model, { deepSupervision: false });
  saveOnnx(exported, join(out, 'model', 'model.onnx'));
  step(3, `ONNX graph exported (${exported.nodeCount} nodes)`);

  const x = phantom(patch, 1);
  const ort = await createNetworkRunner(model, {
    executor: 'ort',
    deepSupervision: false,
    ...(threads === undefined ? {} : { threads }),
  });
  const t0 = performance.now();
  const [logits] = await ort.run(x);
  const ortSeconds = (performance.now() - t0) / 1000;
  if (logits === undefined) fail('RUNTIME', 'ONNX Runtime returned no output');
  writeAtomic(join(out, 'phantom.npy'), writeNpy({ dtype: 'float32', shape: x.shape, data: x.data }));
  writeAtomic(
    join(out, 'argmax.npy'),
    writeNpy({ dtype: 'uint8', shape: patch, data: argmaxClasses(logits) }),
  );
  step(4, `ONNX Runtime forward at 1×1×${patch.join('×')}: ${ortSeconds.toFixed(2)} s`);

  // Cross-check the two executors on a small crop (the reference engine is the slow, readable oracle).
  const small = phantom([16, 16, 32], 2);
  const [a] = await ort.run(small);
  await ort.close();
  const ref = await createNetworkRunner(model, { executor: 'ref', deepSupervision: false });
  const [b] = await ref.run(small);
  const diff = a !== undefined && b !== undefined ? maxAbsDiff(a.data, b.data) : NaN;
  step(5, `ONNX Runtime vs reference engine on 16×16×32: max |Δ| = ${diff.toExponential(2)}`);

  const summary = {
    scale: o.scale,
    parameters: counts.parameters,
    convMacs: counts.convMacs,
    patch,
    ortForwardSeconds: ortSeconds,
    ortVsRefMaxAbsDiff: diff,
    files: {
      model: join(out, 'model'),
      onnx: join(out, 'model', 'model.onnx'),
      torchV1: v1.files,
      torchV2: v2.files,
    },
  };
  writeAtomic(join(out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  step(6, 'done');
  console.log(`results in ${out} (summary.json, model/, torch-v1/, torch-v2/, phantom.npy, argmax.npy)`);
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'run the end-to-end path on an embedded default: build, convert, export ONNX, forward (no downloads)',
    )
    .option('--out <dir>', 'output folder', './stunet-demo')
    .option('--scale <S|B|L|H>', 'network scale', 'S')
    .option('--patch <Z,Y,X>', 'phantom size (divisible by 16,16,32; default: the released 128³ patch)', '128,128,128')
    .option('--threads <n>', 'ONNX Runtime threads (default: all cores)')
    .action(runDemo);
}
