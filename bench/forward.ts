/**
 * Forward-pass benchmark: STU-Net S and B at 1×1×128³ on ONNX Runtime with 1 and 2 intra-op threads
 * (random He-initialised weights, one warm-up, median of 3). Prints figures; asserts nothing.
 *
 *   npm run bench:forward                 human-readable lines
 *   npm run bench:forward -- --json       one JSON object per measurement
 *   npm run bench:forward -- --scales S --threads 1,2 --patch 64,64,64 --repeats 3
 */
import { Tensor } from '../src/engine/tensor.js';
import { initWeightsHe } from '../src/model/init.js';
import { defaultMeta } from '../src/model/loaded-model.js';
import { scaleArchitecture } from '../src/model/scales.js';
import { StuNet } from '../src/model/stunet.js';
import { createNetworkRunner } from '../src/jobs/network.js';
import { nodeRuntime } from '../src/node/runtime.js';
import { Rng } from '../src/util/random.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const json = process.argv.includes('--json');
const scales = arg('--scales', 'S,B').split(',');
const threadList = arg('--threads', '1,2').split(',').map(Number);
const patch = arg('--patch', '128,128,128').split(',').map(Number);
const repeats = Number(arg('--repeats', '3'));

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

for (const scale of scales) {
  const arch = scaleArchitecture(scale);
  const model = { arch, weights: initWeightsHe(new StuNet(arch), 0), meta: defaultMeta() };
  const rng = new Rng(1);
  const x = new Tensor([1, 1, ...patch]);
  for (let i = 0; i < x.size; i++) x.data[i] = rng.normal();
  for (const threads of threadList) {
    const runner = await createNetworkRunner(model, nodeRuntime, {
      executor: 'ort',
      deepSupervision: false,
      threads,
    });
    await runner.run(x); // warm-up: ORT plans kernels and allocates on the first run
    const times: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const t0 = performance.now();
      await runner.run(x);
      times.push((performance.now() - t0) / 1000);
    }
    await runner.close();
    const seconds = median(times);
    const peakRssBytes = process.resourceUsage().maxRSS * 1024;
    if (json) {
      console.log(JSON.stringify({ scale, patch, threads, backend: 'ort', seconds, peakRssBytes }));
    } else {
      console.log(
        `STU-Net ${scale} 1×1×${patch.join('×')} ort threads=${threads}: ${seconds.toFixed(2)} s ` +
          `(median of ${repeats}; runs ${times.map((t) => t.toFixed(2)).join(', ')}; peak RSS ${(peakRssBytes / 2 ** 30).toFixed(2)} GiB)`,
      );
    }
  }
}
