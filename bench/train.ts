/**
 * Training-step benchmark: forward + backward + SGD step of STU-Net S and B at batch 2, patch 64³ and 128³,
 * on `ref` (64³ only: it is the slow oracle) and `wasm` with 1 and 2 threads. Random He weights, random
 * input and labels (105 classes), deep supervision on. Prints the step time, the achieved GFLOP/s
 * (3 × forward conv MACs × 2, the usual fwd+bwd estimate), the predicted peak bytes and the peak RSS.
 * Never asserts.
 *
 *   npm run bench:train                         all combinations (B at 128³ takes minutes per step)
 *   npm run bench:train -- --json               one JSON object per measurement
 *   npm run bench:train -- --scales S --patches 64 --backends wasm --threads 2 --steps 2
 */
import { setFlagsFromString } from 'node:v8';
import type { Backend } from '../src/engine/backend.js';
import { refBackend } from '../src/engine/backends/ref/index.js';
import { createNodeWasmBackend } from '../src/node/wasm-pool.js';
import { Tensor } from '../src/engine/tensor.js';
import { countModel } from '../src/model/counting.js';
import { initWeightsHe } from '../src/model/init.js';
import { scaleArchitecture } from '../src/model/scales.js';
import { StuNet } from '../src/model/stunet.js';
import { downsampleSegForDs } from '../src/augmentation/deep-supervision.js';
import { deepSupervisionScales } from '../src/model/deep-supervision.js';
import { estimateTrainingMemory, formatBytes } from '../src/model/memory.js';
import { NNUNET_SGD, SgdOptimizer } from '../src/training/optimizer.js';
import { createTrainingState, trainStep } from '../src/training/train-step.js';
import { Rng } from '../src/util/random.js';

if (process.versions.node.startsWith('20.')) setFlagsFromString('--experimental-wasm-relaxed-simd');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}
const json = process.argv.includes('--json');
const scales = arg('--scales', 'S,B').split(',');
const patches = arg('--patches', '64,128').split(',').map(Number);
const backends = arg('--backends', 'ref,wasm').split(',');
const threadList = arg('--threads', '1,2').split(',').map(Number);
const steps = Number(arg('--steps', '1'));
const batch = Number(arg('--batch', '2'));

async function makeBackend(
  name: string,
  threads: number,
): Promise<Backend & { close?: () => Promise<void> }> {
  return name === 'ref' ? refBackend : createNodeWasmBackend({ threads });
}

for (const scale of scales) {
  for (const p of patches) {
    const arch = scaleArchitecture(scale);
    const patch = [p, p, p] as const;
    const macs = countModel(arch, patch).convMacs * batch;
    const estimate = estimateTrainingMemory(arch, [batch, 1, ...patch]);
    for (const backendName of backends) {
      if (backendName === 'ref' && p > 64) continue;
      for (const threads of backendName === 'ref' ? [1] : threadList) {
        const backend = await makeBackend(backendName, threads);
        const weights = initWeightsHe(new StuNet(arch), 0);
        const state = createTrainingState(arch, weights, backend, new SgdOptimizer(NNUNET_SGD), {
          loss: { batchDice: false },
          clipNorm: 12,
        });
        const rng = new Rng(3);
        const x = new Tensor([batch, 1, ...patch]);
        for (let i = 0; i < x.size; i++) x.data[i] = rng.normal();
        const seg = {
          shape: [batch, 1, ...patch],
          data: Float32Array.from({ length: x.size }, () => Math.floor(rng.next() * 105)),
        };
        const targets = downsampleSegForDs(seg, deepSupervisionScales(arch.poolOpKernelSizes));
        const times: number[] = [];
        for (let s = 0; s < steps; s++) {
          const t0 = performance.now();
          trainStep(state, x, targets);
          times.push((performance.now() - t0) / 1000);
        }
        await backend.close?.();
        const seconds = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)] ?? NaN;
        const gflops = (3 * 2 * macs) / seconds / 1e9;
        const peakRssBytes = process.resourceUsage().maxRSS * 1024;
        const m = {
          backend: backendName,
          scale,
          patch: [...patch],
          batch,
          threads,
          seconds,
          gflops,
          predictedPeakBytes: estimate.peakBytes,
          peakRssBytes,
        };
        if (json) console.log(JSON.stringify(m));
        else {
          console.log(
            `STU-Net ${scale} batch ${batch} ${p}³ ${backendName} threads=${threads}: ${seconds.toFixed(2)} s/step, ` +
              `${gflops.toFixed(1)} GFLOP/s, predicted peak ${formatBytes(estimate.peakBytes)}, peak RSS ${formatBytes(peakRssBytes)}`,
          );
        }
      }
    }
  }
}
