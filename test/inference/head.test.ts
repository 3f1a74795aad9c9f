/**
 * The class head applied by the sliding window (feature networks) against the same head inside the
 * network (logit networks): same probabilities for v1 and v2, with and without TTA; the fast exponential;
 * the file-backed stitching ring against the in-memory one.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor } from '../../src/engine/tensor.js';
import { expNonPositive, jsClassHead } from '../../src/inference/head.js';
import { slidingWindowPredictFull } from '../../src/inference/sliding-window.js';
import type { NetworkFn } from '../../src/inference/tta.js';
import { fileRingStore } from '../../src/node/predict-files.js';
import { onnxClassHead } from '../../src/inference/head-onnx.js';
import { createOrtSession } from '../../src/onnx/session-node.js';

const C = 3;
const K = 4;
const weight = Float32Array.from({ length: K * C }, (_, i) => Math.sin(i * 1.7) * 2);
const bias = Float32Array.from({ length: K }, (_, i) => Math.cos(i) * 0.5);
const head = jsClassHead(weight, bias);

/** A position-dependent, flip-equivariant 1×1×1 "network": features from the input voxel alone. */
function features(x: Tensor): Tensor {
  const [n, , Z, Y, X] = x.shape as [number, number, number, number, number];
  const S = Z * Y * X;
  const out = new Tensor([n, C, Z, Y, X]);
  for (let b = 0; b < n; b++)
    for (let c = 0; c < C; c++)
      for (let s = 0; s < S; s++)
        out.data[(b * C + c) * S + s] = Math.tanh((x.data[b * S + s] as number) * (c + 1));
  return out;
}
const featureNet: NetworkFn = Object.assign((x: Tensor) => Promise.resolve([features(x)]), {
  classHead: head,
});
const logitNet: NetworkFn = (x: Tensor) => {
  const f = features(x);
  const [, , Z, Y, X] = f.shape as [number, number, number, number, number];
  return Promise.resolve([new Tensor([1, K, Z, Y, X], head.apply(f.data, [Z, Y, X]) as Float32Array)]);
};

const input = {
  data: Float32Array.from({ length: 11 * 9 * 13 }, (_, i) => Math.sin(i * 0.31) * 3),
  shape: [1, 11, 9, 13],
};

for (const mode of ['v1', 'v2-upstream'] as const)
  for (const mirrorAxes of [[], [0, 2]])
    test(`feature network + head equals logit network (${mode}, mirror [${mirrorAxes.join(',')}])`, async () => {
      const opts = { patchSizeZYX: [6, 6, 8] as const, mode, mirrorAxes, accumulation: 'float32' as const };
      const a = await slidingWindowPredictFull(input, logitNet, opts);
      const b = await slidingWindowPredictFull(input, featureNet, { ...opts, ringStore: fileRingStore() });
      assert.deepEqual(b.shape, a.shape);
      let max = 0;
      for (let i = 0; i < a.data.length; i++)
        max = Math.max(max, Math.abs((a.data[i] as number) - (b.data[i] as number)));
      assert.ok(max < 1e-6, `max difference ${max}`);
    });

test('expNonPositive matches Math.exp to 1e-9 relative', () => {
  for (let i = 0; i <= 20000; i++) {
    const x = -i * 0.037;
    const e = Math.exp(x);
    assert.ok(Math.abs(expNonPositive(x) - e) <= 1e-9 * e, `x = ${x}`);
  }
  assert.equal(expNonPositive(0), 1);
  assert.equal(expNonPositive(-Infinity), 0);
  assert.ok(Number.isNaN(expNonPositive(NaN)));
});

test('the ONNX Runtime head step gives sums + weight · mean softmax of the JS head', async () => {
  const w = new Tensor([K, C, 1, 1, 1], weight);
  const b = new Tensor([K], bias);
  const h = await onnxClassHead(w, b, 1, createOrtSession);
  const step = h.head.accumulateSoftmax?.bind(h.head) ?? assert.fail('no accumulateSoftmax');
  const n = 30;
  const feats = [0, 1, 2].map(
    (p) =>
      features(
        new Tensor(
          [1, 1, 2, 3, 5],
          Float32Array.from({ length: n }, (_, i) => (i + p) / 7 - 2),
        ),
      ).data,
  );
  const softmax = (f: Float32Array): Float32Array => {
    const logits = head.apply(f, [2, 3, 5]) as Float32Array;
    const p = new Float32Array(K * n);
    for (let s = 0; s < n; s++) {
      let sum = 0;
      for (let k = 0; k < K; k++) sum += Math.exp(logits[k * n + s] as number);
      for (let k = 0; k < K; k++) p[k * n + s] = Math.exp(logits[k * n + s] as number) / sum;
    }
    return p;
  };
  try {
    for (const passes of [1, 3])
      for (const g of [null, Float32Array.from({ length: n }, (_, i) => 0.5 + i / 10)]) {
        // A subarray at an offset, as the sliding window passes the Gaussian's planes.
        const gv = g === null ? null : Float32Array.from([9, ...g]).subarray(1);
        const sums = Float32Array.from({ length: n * K }, (_, i) => i / 100);
        const before = sums.slice();
        const fs = feats.slice(0, passes);
        const out = await step(fs, n, gv, sums);
        assert.equal(out.length, n * K);
        const ps = fs.map(softmax);
        for (let s = 0; s < n; s++)
          for (let k = 0; k < K; k++) {
            let mean = 0;
            for (const p of ps) mean += (p[k * n + s] as number) / passes;
            const want = (before[s * K + k] as number) + (g === null ? 1 : (g[s] as number)) * mean;
            assert.ok(Math.abs((out[s * K + k] as number) - want) < 1e-6, `passes ${passes} s ${s} k ${k}`);
          }
      }
  } finally {
    await h.close();
  }
});

for (const mirrorAxes of [[], [0, 2]])
  test(`sliding window with the ONNX Runtime head step equals the logit network (v1, mirror [${mirrorAxes.join(',')}])`, async () => {
    const h = await onnxClassHead(
      new Tensor([K, C, 1, 1, 1], weight),
      new Tensor([K], bias),
      1,
      createOrtSession,
    );
    try {
      const net: NetworkFn = Object.assign((x: Tensor) => Promise.resolve([features(x)]), {
        classHead: h.head,
      });
      const opts = { patchSizeZYX: [6, 6, 8] as const, mode: 'v1' as const, mirrorAxes };
      const a = await slidingWindowPredictFull(input, logitNet, opts);
      // passes held (v1's exact order); the streamed default is tested below
      const b = await slidingWindowPredictFull(input, net, {
        ...opts,
        ringStore: fileRingStore(),
        ttaFeatureBudgetBytes: Infinity,
      });
      assert.deepEqual(b.shape, a.shape);
      let max = 0;
      for (let i = 0; i < a.data.length; i++)
        max = Math.max(max, Math.abs((a.data[i] as number) - (b.data[i] as number)));
      assert.ok(max < 1e-6, `max difference ${max}`);
    } finally {
      await h.close();
    }
  });

for (const mirrorAxes of [[0, 1, 2], [1]])
  test(`streamed TTA passes (over the feature budget) equal the logit network (v1, mirror [${mirrorAxes.join(',')}])`, async () => {
    const h = await onnxClassHead(
      new Tensor([K, C, 1, 1, 1], weight),
      new Tensor([K], bias),
      1,
      createOrtSession,
    );
    const passesPerCall: number[] = [];
    const fused = h.head.accumulateSoftmax?.bind(h.head);
    assert.ok(fused !== undefined);
    const spy = {
      ...h.head,
      accumulateSoftmax: (f: readonly Float32Array[], n: number, g: Float32Array | null, s: Float32Array) => {
        passesPerCall.push(f.length);
        return fused(f, n, g, s);
      },
    };
    try {
      const net: NetworkFn = Object.assign((x: Tensor) => Promise.resolve([features(x)]), { classHead: spy });
      const opts = { patchSizeZYX: [6, 6, 8] as const, mode: 'v1' as const, mirrorAxes };
      const a = await slidingWindowPredictFull(input, logitNet, opts);
      for (const ringStore of [undefined, fileRingStore()]) {
        passesPerCall.length = 0;
        const b = await slidingWindowPredictFull(input, net, {
          ...opts,
          ttaFeatureBudgetBytes: 0,
          ...(ringStore === undefined ? {} : { ringStore }),
        });
        assert.ok(passesPerCall.length > 0 && passesPerCall.every((p) => p === 1), 'one pass per head call');
        assert.deepEqual(b.shape, a.shape);
        let max = 0;
        for (let i = 0; i < a.data.length; i++)
          max = Math.max(max, Math.abs((a.data[i] as number) - (b.data[i] as number)));
        // the sums take the P passes one by one (float32 rounding per add, up to ~8 tiles deep): a few ulp
        assert.ok(max < 1e-5, `max difference ${max}`);
      }
      // within the budget the passes are held and go through the head together
      passesPerCall.length = 0;
      await slidingWindowPredictFull(input, net, { ...opts, ttaFeatureBudgetBytes: Infinity });
      assert.ok(passesPerCall.every((p) => p === 2 ** mirrorAxes.length));
    } finally {
      await h.close();
    }
  });
