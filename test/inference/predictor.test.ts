/**
 * Streaming export (resample back slab by slab + argmax) against whole-volume references, and
 * predictVolume's checks, on synthetic data (fast). End-to-end runs on real CT are in test/cli/predict.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor } from '../../src/engine/tensor.js';
import { axisTaps, exportAxisKinds, StreamingResampler } from '../../src/inference/export.js';
import { predictVolume } from '../../src/inference/predictor.js';
import { argmaxChannels } from '../../src/inference/stitcher.js';
import { resampleData } from '../../src/preprocessing/index.js';
import { Rng } from '../../src/util/random.js';
import { expectClose } from '../helpers.js';
import type { Vec3 } from '../../src/util/vec3.js';

/** Plain whole-volume resample: every output voxel sums its 8 (or fewer) taps directly. */
function referenceResample(
  src: Float32Array,
  K: number,
  inZYX: Vec3,
  outZYX: Vec3,
  nearestAxis: number | null,
): Float32Array {
  const tap = (n: number, m: number, k: number, nearest: boolean): [number, number, number, number] => {
    if (n === m) return [k, k, 1, 0];
    const c = (k + 0.5) * (n / m) - 0.5;
    const cl = (i: number): number => Math.min(n - 1, Math.max(0, i));
    if (nearest) return [cl(Math.floor(c + 0.5)), 0, 1, 0];
    const f = Math.floor(c);
    return [cl(f), cl(f + 1), 1 - (c - f), c - f];
  };
  const [Zi, Yi, Xi] = inZYX;
  const [Zo, Yo, Xo] = outZYX;
  const out = new Float32Array(K * Zo * Yo * Xo);
  let o = 0;
  for (let c = 0; c < K; c++)
    for (let z = 0; z < Zo; z++)
      for (let y = 0; y < Yo; y++)
        for (let x = 0; x < Xo; x++) {
          const [z0, z1, wz0, wz1] = tap(Zi, Zo, z, nearestAxis === 0);
          const [y0, y1, wy0, wy1] = tap(Yi, Yo, y, nearestAxis === 1);
          const [x0, x1, wx0, wx1] = tap(Xi, Xo, x, nearestAxis === 2);
          let s = 0;
          for (const [zz, wz] of [
            [z0, wz0],
            [z1, wz1],
          ] as const)
            for (const [yy, wy] of [
              [y0, wy0],
              [y1, wy1],
            ] as const)
              for (const [xx, wx] of [
                [x0, wx0],
                [x1, wx1],
              ] as const) {
                if (wz * wy * wx === 0) continue;
                s += wz * wy * wx * (src[((c * Zi + zz) * Yi + yy) * Xi + xx] as number);
              }
          out[o++] = s;
        }
  return out;
}

async function streamed(
  src: Float32Array,
  K: number,
  inZYX: Vec3,
  outZYX: Vec3,
  nearestAxis: number | null,
  slabDepths: readonly number[],
): Promise<{ probs: Float32Array; labels: Uint8Array }> {
  const [Zi, Yi, Xi] = inZYX;
  const [Zo, Yo, Xo] = outZYX;
  const plane = Yo * Xo;
  const probs = new Float32Array(K * Zo * plane);
  const labels = new Uint8Array(Zo * plane);
  const order: number[] = [];
  const r = new StreamingResampler(K, inZYX, outZYX, exportAxisKinds(nearestAxis), (z, v) => {
    order.push(z);
    for (let c = 0; c < K; c++) probs.set(v.subarray(c * plane, (c + 1) * plane), (c * Zo + z) * plane);
    labels.set(argmaxChannels(v, K), z * plane);
  });
  let z = 0;
  let i = 0;
  while (z < Zi) {
    const dz = Math.min(Zi - z, slabDepths[i++ % slabDepths.length] ?? 1);
    const values = new Float32Array(K * dz * Yi * Xi);
    for (let c = 0; c < K; c++)
      values.set(src.subarray((c * Zi + z) * Yi * Xi, (c * Zi + z + dz) * Yi * Xi), c * dz * Yi * Xi);
    await r.push({ zStart: z, zEnd: z + dz, classes: K, values });
    z += dz;
  }
  r.finish();
  assert.deepEqual(
    order,
    Array.from({ length: Zo }, (_, k) => k),
    'planes go out once each, in order',
  );
  return { probs, labels };
}

function softmaxLike(K: number, n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const v = new Float32Array(K * n);
  for (let i = 0; i < v.length; i++) v[i] = rng.next();
  return v;
}

const CASES: {
  name: string;
  K: number;
  inZYX: Vec3;
  outZYX: Vec3;
  nearest: number | null;
  slabs: number[];
}[] = [
  {
    name: 'downsample all axes',
    K: 4,
    inZYX: [14, 12, 10],
    outZYX: [7, 5, 9],
    nearest: null,
    slabs: [3, 1, 5],
  },
  { name: 'upsample all axes', K: 3, inZYX: [5, 6, 7], outZYX: [11, 13, 8], nearest: null, slabs: [2] },
  { name: 'separate z along axis 0', K: 3, inZYX: [9, 8, 8], outZYX: [4, 16, 15], nearest: 0, slabs: [1, 4] },
  { name: 'separate z along axis 2', K: 2, inZYX: [6, 8, 9], outZYX: [12, 5, 3], nearest: 2, slabs: [6] },
  { name: 'same shape', K: 3, inZYX: [4, 5, 6], outZYX: [4, 5, 6], nearest: null, slabs: [1] },
];

for (const c of CASES) {
  test(`streamed resample back + argmax equals the whole-volume reference: ${c.name}`, async () => {
    const n = c.inZYX[0] * c.inZYX[1] * c.inZYX[2];
    const src = softmaxLike(c.K, n, 7);
    const ref = referenceResample(src, c.K, c.inZYX, c.outZYX, c.nearest);
    const got = await streamed(src, c.K, c.inZYX, c.outZYX, c.nearest, c.slabs);
    expectClose(got.probs, ref, { atol: 1e-6, rtol: 1e-5 });
    assert.deepEqual(got.labels, argmaxChannels(ref, c.K));
    // the nnU-Net v1 port (resample_data_or_seg, is_seg False, order 1, order_z 0) on the whole volume
    const port = resampleData({ data: src, shape: [c.K, ...c.inZYX] }, c.outZYX, {
      axis: c.nearest,
      doSeparateZ: c.nearest !== null,
      order: 1,
      orderZ: 0,
    });
    expectClose(got.probs, port.data, { atol: 1e-6, rtol: 1e-5 });
  });
}

test('axisTaps: identity for equal lengths, clamped edges otherwise', () => {
  const t = axisTaps(4, 4, 'linear');
  assert.equal(t.identity, true);
  assert.deepEqual([...t.i0], [0, 1, 2, 3]);
  const d = axisTaps(4, 2, 'linear'); // coordinates 0.5, 2.5
  assert.deepEqual([...d.i0], [0, 2]);
  assert.deepEqual([...d.w1], [0.5, 0.5]);
  const u = axisTaps(2, 4, 'linear'); // coordinates −0.25, 0.25, 0.75, 1.25
  assert.deepEqual([...u.i0], [0, 0, 0, 1]);
  assert.deepEqual([...u.i1], [0, 1, 1, 1]);
});

/** A 2-class "network": class 1 where the normalised input is above 0. */
const thresholdNet = (x: Tensor): Promise<Tensor[]> => {
  const [n, , z, y, w] = x.shape as [number, number, number, number, number];
  const s = z * y * w;
  const out = new Tensor([n, 2, z, y, w]);
  for (let i = 0; i < s; i++) {
    out.data[s + i] = 4 * (x.data[i] as number);
  }
  return Promise.resolve([out]);
};

function phantom(Z: number, Y: number, X: number): Float32Array {
  const v = new Float32Array(Z * Y * X);
  for (let z = 2; z < Z - 1; z++)
    for (let y = 1; y < Y - 2; y++)
      for (let x = 3; x < X - 1; x++) v[(z * Y + y) * X + x] = y < Y / 2 ? 100 : 10 + x;
  return v;
}

test('predictVolume: labels on the input grid, background outside the crop box, progress stages', async () => {
  const [Z, Y, X] = [9, 14, 16];
  const stages = new Set<string>();
  const r = await predictVolume({ data: phantom(Z, Y, X), shape: [1, Z, Y, X] }, [3, 2, 1.5], {
    network: thresholdNet,
    inputChannels: 1,
    patchSizeZYX: [8, 8, 8],
    mode: 'v1',
    mirrorAxes: [],
    onProgress: (e) => stages.add(e.stage),
  });
  assert.deepEqual(r.shapeZYX, [Z, Y, X]);
  assert.equal(r.labels.length, Z * Y * X);
  assert.ok(r.labels instanceof Uint8Array);
  assert.deepEqual([...stages].sort(), ['export', 'preprocess', 'sliding-window']);
  let inside = 0;
  for (let z = 0; z < Z; z++)
    for (let y = 0; y < Y; y++)
      for (let x = 0; x < X; x++) {
        const l = r.labels[(z * Y + y) * X + x] as number;
        assert.ok(l === 0 || l === 1);
        const inBox = z >= 2 && z < Z - 1 && y >= 1 && y < Y - 2 && x >= 3 && x < X - 1;
        if (!inBox) assert.equal(l, 0, `outside the crop box at ${z},${y},${x}`);
        else inside += l;
      }
  assert.ok(inside > 0, 'some foreground inside the box');
});

test("predictVolume refuses a channel count other than the model's and non-finite voxels", async () => {
  const opts = {
    network: thresholdNet,
    inputChannels: 1,
    patchSizeZYX: [8, 8, 8] as Vec3,
    mode: 'v1' as const,
  };
  await assert.rejects(
    predictVolume({ data: new Float32Array(2 * 8 * 8 * 8), shape: [2, 8, 8, 8] }, [1, 1, 1], opts),
    /takes 1 input channel\(s\), the case has 2/,
  );
  const bad = phantom(8, 8, 8);
  bad[100] = NaN;
  await assert.rejects(predictVolume({ data: bad, shape: [1, 8, 8, 8] }, [1, 1, 1], opts), /NaN or infinite/);
});

test('predictVolume is cancelled by an AbortSignal', async () => {
  const ctl = new AbortController();
  ctl.abort(new Error('user'));
  await assert.rejects(
    predictVolume({ data: phantom(9, 14, 16), shape: [1, 9, 14, 16] }, [1, 1, 1], {
      network: thresholdNet,
      inputChannels: 1,
      patchSizeZYX: [8, 8, 8],
      mode: 'v1',
      signal: ctl.signal,
    }),
    (e: Error) => e.name === 'AbortError',
  );
});

test('predictVolume streams probabilities on the cropped grid that sum to 1 (v2 logits get a softmax)', async () => {
  const [Z, Y, X] = [9, 14, 16];
  let planes = 0;
  const r = await predictVolume({ data: phantom(Z, Y, X), shape: [1, Z, Y, X] }, [1.5, 1.5, 1.5], {
    network: thresholdNet,
    inputChannels: 1,
    patchSizeZYX: [8, 8, 8],
    mode: 'v2-upstream',
    mirrorAxes: [],
    onProbabilities: (z, p, g) => {
      assert.equal(z, planes++);
      assert.deepEqual(g.shapeZYX, r0Shape);
      const P = p.length / g.classes;
      for (let i = 0; i < P; i += 7)
        expectClose([(p[i] as number) + (p[P + i] as number)], [1], { atol: 1e-5 });
    },
  });
  assert.equal(planes, r0Shape[0]);
  assert.deepEqual(r.properties.size_after_cropping, r0Shape);
});
const r0Shape: Vec3 = [6, 11, 12];
