/**
 * wasm backend's memory-bound kernels (forward against the ref backend, backward against naive loops
 * and finite differences of the definition) on odd shapes; 1 and 2 threads (they run on the calling
 * thread, so the pool must not disturb them).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { refBackend } from '../../src/engine/backends/ref/index.js';
import { createWasmBackend, type WasmBackend } from '../../src/engine/backends/wasm/index.js';
import { createNodeWasmBackend } from '../../src/node/wasm-pool.js';
import { concatShape, upsampleNearestShape } from '../../src/engine/shapes.js';
import { Tensor } from '../../src/engine/tensor.js';
import { Rng } from '../../src/util/random.js';
import { expectClose } from '../helpers.js';
import type { Vec3 } from '../../src/util/vec3.js';

function random(shape: readonly number[], seed: number): Tensor {
  const rng = new Rng(seed);
  const t = new Tensor(shape);
  for (let i = 0; i < t.size; i++) t.data[i] = rng.normal();
  return t;
}

const TOL = { maxRelTol: 1e-5 };
const X_SHAPE = [2, 3, 3, 4, 5];

/** Σ dy · f(x) as a float64 function of one input element, for central differences. */
function directional(f: (x: Tensor) => Tensor, x: Tensor, dy: Tensor, i: number, h: number): number {
  const probe = (delta: number): number => {
    const xp = new Tensor(x.shape, x.data.slice());
    xp.data[i] = (xp.data[i] ?? NaN) + delta;
    const y = f(xp);
    let s = 0;
    for (let j = 0; j < y.size; j++) s += (y.data[j] ?? NaN) * (dy.data[j] ?? NaN);
    return s;
  };
  return (probe(h) - probe(-h)) / (2 * h);
}

for (const threads of [1, 2]) {
  describe(`wasm elementwise (threads ${threads})`, () => {
    let backend: WasmBackend | undefined;
    const get = (): WasmBackend => {
      if (backend === undefined) throw new Error('backend not created');
      return backend;
    };
    before(async () => {
      backend = await createNodeWasmBackend({ threads, simd: 'plain' });
    });
    after(async () => {
      await backend?.close();
    });

    const x = random(X_SHAPE, 1);
    const gamma = random([3], 2);
    const beta = random([3], 3);
    const dy = random(X_SHAPE, 4);

    test('forward kernels match ref', () => {
      const be = get();
      expectClose(
        be.instanceNorm(x, gamma, beta, 1e-5).data,
        refBackend.instanceNorm(x, gamma, beta, 1e-5).data,
        TOL,
      );
      expectClose(be.leakyRelu(x, 0.01).data, refBackend.leakyRelu(x, 0.01).data, TOL);
      const b = random(X_SHAPE, 5);
      expectClose(be.add(x, b).data, refBackend.add(x, b).data, TOL);
      const parts = [x, random([2, 2, 3, 4, 5], 6)];
      const cShape = concatShape(
        parts.map((p) => p.shape),
        1,
      );
      expectClose(be.concat(parts, 1, cShape).data, refBackend.concat(parts, 1, cShape).data, TOL);
      for (const scale of [
        [2, 2, 2],
        [1, 1, 2],
        [2, 1, 3],
      ] as Vec3[]) {
        const uShape = upsampleNearestShape(x.shape, scale);
        expectClose(
          be.upsampleNearest(x, scale, uShape).data,
          refBackend.upsampleNearest(x, scale, uShape).data,
          TOL,
        );
      }
    });

    test('instanceNormBackward matches finite differences and the closed forms', () => {
      const be = get();
      const x64 = random(X_SHAPE, 7); // float32 data; differences in float64 through the ref forward
      const { dx, dWeight, dBias } = be.instanceNormBackward(x64, gamma, dy, 1e-5);
      for (const i of [0, 7, 33, 59, 119]) {
        const fd = directional((t) => refBackend.instanceNorm(t, gamma, beta, 1e-5), x64, dy, i, 1e-2);
        assert.ok(
          Math.abs(fd - (dx.data[i] ?? NaN)) < 2e-2 * Math.max(1, Math.abs(fd)),
          `dx[${i}] ${dx.data[i]} vs ${fd}`,
        );
      }
      // dγ = Σ dy·x̂, dβ = Σ dy, with x̂ from the ref forward with γ = 1, β = 0.
      const xhat = refBackend.instanceNorm(x64, Tensor.fromArray([3], [1, 1, 1]), new Tensor([3]), 1e-5);
      const plane = 3 * 4 * 5;
      const dg = [0, 0, 0];
      const db = [0, 0, 0];
      for (let j = 0; j < dy.size; j++) {
        const c = Math.floor(j / plane) % 3;
        dg[c] = (dg[c] ?? NaN) + (dy.data[j] ?? NaN) * (xhat.data[j] ?? NaN);
        db[c] = (db[c] ?? NaN) + (dy.data[j] ?? NaN);
      }
      expectClose(dWeight.data, dg, { maxRelTol: 1e-4 });
      expectClose(dBias.data, db, TOL);
    });

    test('leakyReluBackward: slope where x ≤ 0', () => {
      const xs = Tensor.fromArray([5], [-2, -0, 0, 0.5, 3]);
      const g = Tensor.fromArray([5], [1, 2, 3, 4, 5]);
      assert.deepEqual([...get().leakyReluBackward(xs, g, 0.1).data], [0.1, 0.2, 0.3, 4, 5].map(Math.fround));
    });

    test('upsampleNearestBackward is the adjoint of upsampleNearest', () => {
      for (const scale of [
        [2, 2, 2],
        [1, 1, 2],
        [2, 1, 3],
      ] as Vec3[]) {
        const uShape = upsampleNearestShape(x.shape, scale);
        const u = random(uShape, 8);
        const up = get().upsampleNearest(x, scale, uShape);
        const back = get().upsampleNearestBackward(u, scale, x.shape);
        let lhs = 0;
        let rhs = 0;
        for (let j = 0; j < u.size; j++) lhs += (up.data[j] ?? NaN) * (u.data[j] ?? NaN);
        for (let j = 0; j < x.size; j++) rhs += (x.data[j] ?? NaN) * (back.data[j] ?? NaN);
        assert.ok(
          Math.abs(lhs - rhs) < 1e-4 * Math.max(1, Math.abs(lhs)),
          `${lhs} vs ${rhs} for ${scale.join(',')}`,
        );
      }
    });

    test('slice inverts concat', () => {
      const a = random([2, 2, 3, 1, 4], 9);
      const b = random([2, 3, 3, 1, 4], 10);
      const c = get().concat([a, b], 1, concatShape([a.shape, b.shape], 1));
      assert.deepEqual([...get().slice(c, 1, 0, 2).data], [...a.data]);
      assert.deepEqual([...get().slice(c, 1, 2, 3).data], [...b.data]);
      assert.deepEqual(get().slice(c, 1, 2, 3).shape, [2, 3, 3, 1, 4]);
    });

    test('sgdUpdate follows torch.optim.SGD (momentum, Nesterov, weight decay)', () => {
      for (const nesterov of [false, true]) {
        const step = { lr: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov };
        const p = Tensor.fromArray([2], [1, -2]);
        const buf = new Tensor([2]);
        const grads = [Tensor.fromArray([2], [0.5, 0.25]), Tensor.fromArray([2], [-1, 2])];
        const pe = [1, -2];
        const be = [0, 0];
        grads.forEach((g, t) => {
          get().sgdUpdate(p, g, buf, step, t === 0);
          for (let i = 0; i < 2; i++) {
            const gi = (g.data[i] ?? NaN) + 0.01 * (pe[i] ?? NaN);
            be[i] = t === 0 ? gi : 0.9 * (be[i] ?? NaN) + gi;
            pe[i] = (pe[i] ?? NaN) - 0.1 * (nesterov ? gi + 0.9 * (be[i] ?? NaN) : (be[i] ?? NaN));
          }
        });
        expectClose(p.data, pe, { atol: 1e-6 });
        expectClose(buf.data, be, { atol: 1e-6 });
      }
    });
  });
}

void test('more than one wasm thread needs a host thread pool; none given is one clear error', async () => {
  await assert.rejects(createWasmBackend({ threads: 2 }), {
    code: 'BAD_INPUT',
    message: /2 threads need a thread pool \(options\.pool: nodeThreadPool or webWorkerPool\)/,
  });
  const single = await createWasmBackend();
  assert.equal(single.threads, 1);
  await single.close();
});
