/**
 * conv3d kernel benchmark for the wasm backend: forward, backward-data and backward-weight, on 1 and 2
 * threads, plain and relaxed SIMD (relaxed runs where the engine validates it; this script turns on
 * Node 20's --experimental-wasm-relaxed-simd flag itself). One warm-up, median of --repeats.
 * FLOPs = 2·MACs of the dense convolution (same count for all three kernels). Prints; asserts nothing.
 * Besides wall time it reports process CPU time (all threads): on a shared, loaded machine the wall
 * figure understates the kernel; gflops/cpu-s is what one busy core achieves.
 *
 *   npm run bench:conv                         human-readable lines
 *   npm run bench:conv -- --json               one JSON object per measurement
 *   npm run bench:conv -- --size 64 --cin 32 --cout 32 --k 3 --stride 1,1,1 --threads 1,2 --simd plain,relaxed
 */
import { setFlagsFromString } from 'node:v8';
import { simdSupported, type SimdVariant } from '../src/engine/backends/wasm/index.js';
import { createNodeWasmBackend } from '../src/node/wasm-pool.js';
import type { Conv3dAttrs } from '../src/engine/ops.js';
import { conv3dOutputShape } from '../src/engine/shapes.js';
import { Tensor } from '../src/engine/tensor.js';
import { Rng } from '../src/util/random.js';
import type { Vec3 } from '../src/util/vec3.js';

setFlagsFromString('--experimental-wasm-relaxed-simd');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const json = process.argv.includes('--json');
const size = Number(arg('--size', '64'));
const batch = Number(arg('--batch', '1'));
const cin = Number(arg('--cin', '32'));
const cout = Number(arg('--cout', '32'));
const k = Number(arg('--k', '3'));
const stride = arg('--stride', '1,1,1').split(',').map(Number) as unknown as Vec3;
const threadList = arg('--threads', '1,2').split(',').map(Number);
const simdList = arg('--simd', 'plain,relaxed').split(',') as SimdVariant[];
const kernels = arg('--kernels', 'forward,backwardData,backwardWeight').split(',');
const repeats = Number(arg('--repeats', '3'));

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

function random(shape: readonly number[], rng: Rng): Tensor {
  const t = new Tensor(shape);
  for (let i = 0; i < t.size; i++) t.data[i] = rng.normal();
  return t;
}

const pad = (k - 1) / 2;
const attrs: Conv3dAttrs = { stride, padding: [pad, pad, pad] };
const xShape = [batch, cin, size, size, size];
const wShape = [cout, cin, k, k, k];
const outShape = conv3dOutputShape(xShape, wShape, [cout], attrs);
const rng = new Rng(1);
const x = random(xShape, rng);
const w = random(wShape, rng);
const b = random([cout], rng);
const dy = random(outShape, rng);
const macs = outShape.slice(2).reduce((p, q) => p * q, 1) * batch * cout * cin * k ** 3;
const shape = `x[${xShape.join(',')}] w[${wShape.join(',')}] s[${stride.join(',')}]`;

for (const simd of simdList) {
  if (!simdSupported(simd)) {
    if (!json) console.log(`${simd} SIMD: not supported by this engine, skipped`);
    continue;
  }
  for (const threads of threadList) {
    const be = await createNodeWasmBackend({ threads, simd });
    try {
      const run: Record<string, () => void> = {
        forward: () => be.conv3d(x, w, b, attrs, outShape),
        backwardData: () => be.conv3dBackwardData(dy, w, attrs, xShape),
        backwardWeight: () => be.conv3dBackwardWeight(x, dy, attrs, wShape),
      };
      for (const kernel of kernels) {
        const f = run[kernel];
        if (f === undefined) throw new Error(`unknown kernel ${kernel}`);
        f();
        const times: number[] = [];
        const cpus: number[] = [];
        for (let r = 0; r < repeats; r++) {
          const c0 = process.cpuUsage();
          const t0 = performance.now();
          f();
          times.push((performance.now() - t0) / 1000);
          const c = process.cpuUsage(c0);
          cpus.push((c.user + c.system) / 1e6);
        }
        const seconds = median(times);
        const cpuSeconds = median(cpus);
        const gflops = (2 * macs) / seconds / 1e9;
        const gflopsPerCpuSecond = (2 * macs) / cpuSeconds / 1e9;
        if (json) {
          console.log(
            JSON.stringify({ kernel, shape, threads, simd, seconds, gflops, cpuSeconds, gflopsPerCpuSecond }),
          );
        } else {
          console.log(
            `${kernel.padEnd(15)} ${shape}  ${simd.padEnd(7)} ${threads} thr  ` +
              `${(seconds * 1000).toFixed(1).padStart(8)} ms  ${gflops.toFixed(1).padStart(6)} GFLOP/s  ` +
              `(${gflopsPerCpuSecond.toFixed(1)} GFLOP per CPU-s)`,
          );
        }
      }
    } finally {
      await be.close();
    }
  }
}
