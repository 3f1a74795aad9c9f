/**
 * Slab-wise stitching, padding, progress and cancellation, on synthetic networks (fast). The numbers of the
 * official code are checked in sliding-window-parity.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StunetError } from '../../src/util/errors.js';
import { Tensor } from '../../src/engine/tensor.js';
import { computeGaussianV2, getGaussianV1 } from '../../src/inference/gaussian.js';
import {
  slidingWindowPredict,
  slidingWindowPredictFull,
  type SlidingWindowMode,
  type SlidingWindowOptions,
} from '../../src/inference/sliding-window.js';
import { AbortError } from '../../src/util/errors.js';
import { computeStepsForSlidingWindow, padToPatch } from '../../src/inference/steps.js';
import { SlabAccumulator, type Slab } from '../../src/inference/stitcher.js';
import { mirrorPasses, predictMirrored } from '../../src/inference/tta.js';
import type { ProgressEvent } from '../../src/util/progress.js';
import { expectClose } from '../helpers.js';
import type { Vec3 } from '../../src/util/vec3.js';

const K = 3;

/** Not flip-equivariant and not translation-invariant: the mirrored passes and tile offsets all matter. */
const fakeNet = (x: Tensor): Promise<Tensor[]> => {
  const [n, c, z, y, w] = x.shape as [number, number, number, number, number];
  const s = z * y * w;
  const out = new Tensor([n, K, z, y, w]);
  for (let b = 0; b < n; b++)
    for (let k = 0; k < K; k++)
      for (let i = 0; i < s; i++) {
        const v = x.data[b * c * s + i] as number;
        const v2 = c > 1 ? (x.data[(b * c + 1) * s + i] as number) : 0;
        out.data[(b * K + k) * s + i] =
          Math.sin((k + 1) * v) + 0.3 * v2 + 0.01 * k * (i % 7) + 0.002 * Math.floor(i / w);
      }
  return Promise.resolve([out]);
};

function volume(C: number, Z: number, Y: number, X: number): { data: Float32Array; shape: number[] } {
  const data = Float32Array.from({ length: C * Z * Y * X }, (_, i) => Math.cos(i * 0.37) * 2);
  return { data, shape: [C, Z, Y, X] };
}

/** The official algorithm with whole-volume accumulators (what slidingWindowPredict must equal). */
async function naive(
  input: { data: Float32Array; shape: number[] },
  o: SlidingWindowOptions,
): Promise<Float32Array> {
  const [C, Z, Y, X] = input.shape as [number, number, number, number];
  const patch = o.patchSizeZYX;
  const { paddedZYX: P, lowZYX: L } = padToPatch([Z, Y, X], patch);
  const steps = computeStepsForSlidingWindow(patch, P, o.stepSize ?? 0.5) as [number[], number[], number[]];
  const tiles = steps[0].length * steps[1].length * steps[2].length;
  const aggregation = o.mode === 'v1' ? 'v1' : 'v2';
  const g =
    o.mode === 'v1'
      ? tiles > 1
        ? getGaussianV1(patch)
        : null
      : computeGaussianV2(patch, {
          variant: o.mode === 'v2-stunet' ? 'stunet' : 'upstream',
          valueScalingFactor: o.mode === 'v2-stunet' ? 1000 : 10,
          dtype: 'float16',
        });
  const nP = P[0] * P[1] * P[2];
  const sums = new Float64Array(K * nP);
  const weights = new Float64Array(nP);
  const padded = new Float32Array(C * nP);
  for (let c = 0; c < C; c++)
    for (let z = 0; z < Z; z++)
      for (let y = 0; y < Y; y++)
        for (let x = 0; x < X; x++)
          padded[((c * P[0] + z + L[0]) * P[1] + y + L[1]) * P[2] + x + L[2]] = input.data[
            ((c * Z + z) * Y + y) * X + x
          ] as number;
  const [pz, py, px] = patch;
  for (const z0 of steps[0])
    for (const y0 of steps[1])
      for (const x0 of steps[2]) {
        const t = new Tensor([1, C, pz, py, px]);
        for (let c = 0; c < C; c++)
          for (let z = 0; z < pz; z++)
            for (let y = 0; y < py; y++)
              for (let x = 0; x < px; x++)
                t.data[((c * pz + z) * py + y) * px + x] = padded[
                  ((c * P[0] + z0 + z) * P[1] + y0 + y) * P[2] + x0 + x
                ] as number;
        const passes = mirrorPasses(o.mirrorAxes ?? [0, 1, 2], aggregation);
        const { values } = await predictMirrored(fakeNet, t, { passes, aggregation, batch: false });
        for (let z = 0; z < pz; z++)
          for (let y = 0; y < py; y++)
            for (let x = 0; x < px; x++) {
              const i = (z * py + y) * px + x;
              const w = g === null ? 1 : (g[i] as number);
              const j = ((z0 + z) * P[1] + y0 + y) * P[2] + x0 + x;
              weights[j] = (weights[j] as number) + w;
              for (let k = 0; k < K; k++)
                sums[k * nP + j] =
                  (sums[k * nP + j] as number) + (values[k * pz * py * px + i] as number) * w;
            }
      }
  const out = new Float32Array(K * Z * Y * X);
  for (let k = 0; k < K; k++)
    for (let z = 0; z < Z; z++)
      for (let y = 0; y < Y; y++)
        for (let x = 0; x < X; x++) {
          const j = ((z + L[0]) * P[1] + y + L[1]) * P[2] + x + L[2];
          out[((k * Z + z) * Y + y) * X + x] = (sums[k * nP + j] as number) / (weights[j] as number);
        }
  return out;
}

const cases: {
  shape: [number, number, number, number];
  patch: Vec3;
  step: number;
  mode: SlidingWindowMode;
  depth?: number;
}[] = [
  { shape: [1, 23, 37, 41], patch: [8, 16, 16], step: 0.5, mode: 'v1' },
  { shape: [2, 23, 37, 41], patch: [8, 16, 16], step: 0.33, mode: 'v1', depth: 1 },
  { shape: [1, 17, 20, 33], patch: [8, 16, 16], step: 1, mode: 'v2-upstream', depth: 3 },
  { shape: [1, 5, 37, 11], patch: [8, 16, 16], step: 0.5, mode: 'v2-stunet' }, // z and x smaller than the patch
  { shape: [1, 6, 10, 12], patch: [8, 16, 16], step: 0.5, mode: 'v1' }, // one tile: v1 uses no Gaussian
];

for (const c of cases) {
  test(`slab-wise stitching equals whole-volume aggregation: ${c.mode} ${c.shape.join('×')} patch ${c.patch.join('×')} step ${c.step}${c.depth ? ` slabs ≤ ${c.depth}` : ''}`, async () => {
    const input = volume(...c.shape);
    const opts: SlidingWindowOptions = {
      patchSizeZYX: c.patch,
      mode: c.mode,
      stepSize: c.step,
      ...(c.mode === 'v1' ? {} : { accumulation: 'float32' as const }),
      ...(c.depth === undefined ? {} : { maxSlabDepth: c.depth }),
    };
    const slabs: Slab[] = [];
    const [, Z, Y, X] = c.shape;
    const summary = await slidingWindowPredict(input, fakeNet, opts, (s) => {
      slabs.push(s);
    });
    // Slabs tile z = 0…Z in order, each within the depth limit.
    assert.equal(slabs[0]?.zStart, 0);
    slabs.forEach((s, i) => {
      if (i > 0) assert.equal(s.zStart, slabs[i - 1]?.zEnd);
      assert.ok(s.zEnd > s.zStart && s.zEnd - s.zStart <= (c.depth ?? c.patch[0]));
      assert.equal(s.values.length, K * (s.zEnd - s.zStart) * Y * X);
    });
    assert.equal(slabs.at(-1)?.zEnd, Z);
    const full = await slidingWindowPredictFull(input, fakeNet, opts);
    assert.deepEqual(full.shape, [K, Z, Y, X]);
    assert.equal(full.tiles, summary.tiles);
    expectClose(full.data, await naive(input, opts), { atol: 2e-6, rtol: 2e-6, label: 'stitched' });
  });
}

test('finished slabs are emitted while later tiles are still to run (streaming, not collect-then-split)', async () => {
  const log: string[] = [];
  await slidingWindowPredict(
    volume(1, 40, 16, 16),
    fakeNet,
    {
      patchSizeZYX: [8, 16, 16],
      mode: 'v2-upstream',
      mirrorAxes: [],
      onProgress: (e) => log.push(`tile ${e.done}`),
    },
    (s) => {
      log.push(`slab ${s.zStart}-${s.zEnd}`);
    },
  );
  // 9 tiles at z = 0, 4, …, 32: once tile 2 (z = 4) has run, nothing below z = 8 can change.
  assert.deepEqual(log.slice(0, 5), ['tile 0', 'tile 1', 'slab 0-4', 'tile 2', 'slab 4-8']);
  assert.equal(log.at(-1), 'slab 32-40');
});

test('padding: an image smaller than the patch is centred in zeros and cropped back exactly', async () => {
  const input = volume(1, 5, 9, 30);
  const seen: number[] = [];
  const echo = (x: Tensor): Promise<Tensor[]> => {
    seen.push(x.data.reduce((n, v) => n + (v === 0 ? 1 : 0), 0));
    return Promise.resolve([new Tensor(x.shape, x.data.slice())]);
  };
  const out = await slidingWindowPredictFull(input, echo, {
    patchSizeZYX: [8, 16, 16],
    mode: 'v2-upstream',
    mirrorAxes: [],
    accumulation: 'float32',
  });
  assert.deepEqual(out.padding, { paddedZYX: [8, 16, 30], lowZYX: [1, 3, 0] });
  expectClose(out.data, input.data, { atol: 1e-6, rtol: 1e-6, label: 'echo' });
  // Each 8×16×16 tile holds 5·9·16 image voxels; the rest is padding.
  assert.ok(seen.every((n) => n === 8 * 16 * 16 - 5 * 9 * 16));
});

test('progress: one event per tile, stage sliding-window', async () => {
  const events: ProgressEvent[] = [];
  await slidingWindowPredictFull(volume(1, 12, 20, 20), fakeNet, {
    patchSizeZYX: [8, 16, 16],
    mode: 'v1',
    mirrorAxes: [0],
    onProgress: (e) => events.push(e),
  });
  assert.deepEqual(
    events.map((e) => `${e.stage} ${e.done}/${e.total}`),
    [0, 1, 2, 3, 4, 5, 6, 7, 8].map((d) => `sliding-window ${d}/8`),
  );
});

test('cancellation: aborting stops before the next network call with an AbortError (a StunetError)', async () => {
  const controller = new AbortController();
  let calls = 0;
  const net = (x: Tensor) => {
    calls++;
    return fakeNet(x);
  };
  await assert.rejects(
    slidingWindowPredict(
      volume(1, 24, 16, 16),
      net,
      {
        patchSizeZYX: [8, 16, 16],
        mode: 'v1',
        signal: controller.signal,
        onProgress: (e) => {
          if (e.done === 2) controller.abort();
        },
      },
      () => undefined,
    ),
    (e: unknown) =>
      e instanceof AbortError &&
      e instanceof StunetError &&
      e.name === 'AbortError' &&
      /after 2 of 5 tiles/.test(e.message),
  );
  assert.equal(calls, 2 * 8);
  const already = AbortSignal.abort();
  await assert.rejects(
    slidingWindowPredictFull(volume(1, 8, 16, 16), net, {
      patchSizeZYX: [8, 16, 16],
      mode: 'v1',
      signal: already,
    }),
    (e: unknown) => e instanceof AbortError && e.cause === already.reason,
  );
  assert.equal(calls, 2 * 8);
});

test('invalid options are rejected with StunetErrors', async () => {
  const input = volume(1, 8, 16, 16);
  const base = { patchSizeZYX: [8, 16, 16] as Vec3, mode: 'v1' as const };
  await assert.rejects(
    slidingWindowPredictFull(input, fakeNet, { ...base, accumulation: 'float16' }),
    (e: unknown) => e instanceof StunetError && e.code === 'UNSUPPORTED',
  );
  await assert.rejects(
    slidingWindowPredictFull(input, fakeNet, { ...base, maxSlabDepth: 0 }),
    (e: unknown) => e instanceof StunetError && e.code === 'BAD_INPUT',
  );
  await assert.rejects(
    slidingWindowPredictFull({ data: input.data, shape: [8, 16, 16] }, fakeNet, base),
    (e: unknown) => e instanceof StunetError && e.code === 'BAD_INPUT',
  );
});

test('the accumulator holds only patch-depth slices and refuses tiles outside them', () => {
  const acc = new SlabAccumulator(2, 4, 3, 3, 'float32');
  const ones = new Float32Array(2 * 4 * 3 * 3).fill(1);
  acc.add(ones, null, 0, 0, 0, [4, 3, 3]);
  assert.throws(
    () => {
      acc.add(ones, null, 2, 0, 0, [4, 3, 3]);
    },
    (e: unknown) => e instanceof StunetError,
  );
  acc.release(2);
  acc.add(ones, null, 2, 0, 0, [4, 3, 3]);
  assert.deepEqual([...acc.read(2, 4, 0, 3, 0, 3)], new Array(2 * 2 * 9).fill(1));
  assert.throws(
    () => acc.read(0, 2, 0, 3, 0, 3),
    (e: unknown) => e instanceof StunetError,
  );
});
