/**
 * wasm backend convolutions against naive loops (forward: the ref backend's float64 oracle; backward:
 * the direct sums below), for both SIMD builds and 1 and 2 threads, on small odd shapes.
 */
import { after, before, describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { conv3dRef } from '../../src/engine/backends/ref/conv3d.js';
import { type WasmBackend } from '../../src/engine/backends/wasm/index.js';
import { createNodeWasmBackend } from '../../src/node/wasm-pool.js';
import type { Conv3dAttrs } from '../../src/engine/ops.js';
import { conv3dOutputShape } from '../../src/engine/shapes.js';
import { Tensor } from '../../src/engine/tensor.js';
import { Rng } from '../../src/util/random.js';
import { expectClose } from '../helpers.js';
import type { Vec3 } from '../../src/util/vec3.js';

// Node 20's V8 runs relaxed SIMD behind a flag; set it before any module is compiled so both builds
// are tested here (the backend itself never sets engine flags).
setFlagsFromString('--experimental-wasm-relaxed-simd');

type D5 = [number, number, number, number, number];

function random(shape: readonly number[], seed: number): Tensor {
  const rng = new Rng(seed);
  const t = new Tensor(shape);
  for (let i = 0; i < t.size; i++) t.data[i] = rng.normal();
  return t;
}

/** Visits every (n, co, ci, output voxel, tap) with its x and dy flat indices: the definition of conv. */
function forEachTerm(
  xShape: readonly number[],
  wShape: readonly number[],
  outShape: readonly number[],
  attrs: Conv3dAttrs,
  f: (xi: number, wi: number, yi: number) => void,
): void {
  const [N, Ci, D, H, W] = xShape as D5;
  const [Co, , kD, kH, kW] = wShape as D5;
  const [, , oD, oH, oW] = outShape as D5;
  const [sD, sH, sW] = attrs.stride;
  const [pD, pH, pW] = attrs.padding;
  for (let n = 0; n < N; n++)
    for (let co = 0; co < Co; co++)
      for (let ci = 0; ci < Ci; ci++)
        for (let od = 0; od < oD; od++)
          for (let oh = 0; oh < oH; oh++)
            for (let ow = 0; ow < oW; ow++)
              for (let kd = 0; kd < kD; kd++)
                for (let kh = 0; kh < kH; kh++)
                  for (let kw = 0; kw < kW; kw++) {
                    const z = od * sD - pD + kd;
                    const y = oh * sH - pH + kh;
                    const x = ow * sW - pW + kw;
                    if (z < 0 || z >= D || y < 0 || y >= H || x < 0 || x >= W) continue;
                    const xi = (((n * Ci + ci) * D + z) * H + y) * W + x;
                    const wi = (((co * Ci + ci) * kD + kd) * kH + kh) * kW + kw;
                    const yi = (((n * Co + co) * oD + od) * oH + oh) * oW + ow;
                    f(xi, wi, yi);
                  }
}

function naiveBackwardData(
  dy: Tensor,
  w: Tensor,
  attrs: Conv3dAttrs,
  xShape: readonly number[],
): Float64Array {
  const dx = new Float64Array(xShape.reduce((a, b) => a * b, 1));
  forEachTerm(xShape, w.shape, dy.shape, attrs, (xi, wi, yi) => {
    dx[xi] = (dx[xi] ?? NaN) + (w.data[wi] ?? NaN) * (dy.data[yi] ?? NaN);
  });
  return dx;
}

function naiveBackwardWeight(
  x: Tensor,
  dy: Tensor,
  attrs: Conv3dAttrs,
  wShape: readonly number[],
): Float64Array {
  const dw = new Float64Array(wShape.reduce((a, b) => a * b, 1));
  forEachTerm(x.shape, wShape, dy.shape, attrs, (xi, wi, yi) => {
    dw[wi] = (dw[wi] ?? NaN) + (x.data[xi] ?? NaN) * (dy.data[yi] ?? NaN);
  });
  return dw;
}

interface Case {
  name: string;
  x: D5;
  co: number;
  k: Vec3;
  stride: Vec3;
  padding: Vec3;
}

const CASES: Case[] = [
  {
    name: '3³ s1 p1, odd sizes',
    x: [2, 3, 5, 6, 7],
    co: 5,
    k: [3, 3, 3],
    stride: [1, 1, 1],
    padding: [1, 1, 1],
  },
  { name: '3³ s2 p1', x: [1, 4, 7, 9, 11], co: 6, k: [3, 3, 3], stride: [2, 2, 2], padding: [1, 1, 1] },
  { name: '3³ s[1,1,2] p1', x: [2, 2, 4, 5, 9], co: 3, k: [3, 3, 3], stride: [1, 1, 2], padding: [1, 1, 1] },
  { name: '1³ s1 p0', x: [2, 5, 3, 4, 13], co: 7, k: [1, 1, 1], stride: [1, 1, 1], padding: [0, 1, 0] },
  { name: '1³ s2 p0', x: [1, 3, 5, 5, 6], co: 4, k: [1, 1, 1], stride: [2, 2, 2], padding: [0, 0, 0] },
  {
    name: '3³ s1 p1, wide rows',
    x: [1, 6, 3, 4, 29],
    co: 9,
    k: [3, 3, 3],
    stride: [1, 1, 1],
    padding: [1, 1, 1],
  },
  { name: '3³ s2 p0, odd', x: [1, 2, 6, 7, 8], co: 5, k: [3, 3, 3], stride: [2, 2, 2], padding: [0, 0, 0] },
  {
    name: '[1,3,3] s[1,2,1] p[0,1,1]',
    x: [2, 3, 3, 8, 10],
    co: 4,
    k: [1, 3, 3],
    stride: [1, 2, 1],
    padding: [0, 1, 1],
  },
];

const TOL = { maxRelTol: 1e-5 };

const CONFIGS = [
  { simd: 'plain', threads: 1 },
  { simd: 'plain', threads: 2 },
  { simd: 'relaxed', threads: 1 },
  { simd: 'relaxed', threads: 2 },
  // One output plane per slab: exercises the streaming of D-slabs.
  { simd: 'plain', threads: 2, slabBytes: 1 },
] as const;

for (const config of CONFIGS) {
  describe(`wasm conv3d (${JSON.stringify(config)})`, () => {
    let backend: WasmBackend | undefined;
    const get = (): WasmBackend => {
      if (backend === undefined) throw new Error('backend not created');
      return backend;
    };
    before(async () => {
      backend = await createNodeWasmBackend(config);
    });
    after(async () => {
      await backend?.close();
    });

    CASES.forEach((c, i) => {
      const attrs: Conv3dAttrs = { stride: c.stride, padding: c.padding };
      const wShape = [c.co, c.x[1], ...c.k];
      const x = random(c.x, 10 + i);
      const w = random(wShape, 20 + i);
      const bias = random([c.co], 30 + i);
      const outShape = conv3dOutputShape(c.x, wShape, [c.co], attrs);
      const dy = random(outShape, 40 + i);

      test(`forward ${c.name}`, () => {
        const expected = conv3dRef(x, w, bias, attrs, outShape);
        expectClose(get().conv3d(x, w, bias, attrs, outShape).data, expected.data, { ...TOL, label: 'y' });
        const noBias = conv3dRef(x, w, null, attrs, outShape);
        expectClose(get().conv3d(x, w, null, attrs, outShape).data, noBias.data, {
          ...TOL,
          label: 'y (no bias)',
        });
      });

      test(`backward data ${c.name}`, () => {
        const dx = get().conv3dBackwardData(dy, w, attrs, c.x);
        expectClose(dx.data, naiveBackwardData(dy, w, attrs, c.x), { ...TOL, label: 'dx' });
      });

      test(`backward weight ${c.name}`, () => {
        const { dWeight, dBias } = get().conv3dBackwardWeight(x, dy, attrs, wShape);
        expectClose(dWeight.data, naiveBackwardWeight(x, dy, attrs, wShape), { ...TOL, label: 'dW' });
        const [N, Co] = outShape as D5;
        const plane = dy.size / (N * Co);
        const db = new Float64Array(Co);
        for (let j = 0; j < dy.size; j++) {
          const co = Math.floor(j / plane) % Co;
          db[co] = (db[co] ?? NaN) + (dy.data[j] ?? NaN);
        }
        expectClose(dBias.data, db, { ...TOL, label: 'dBias' });
      });
    });
  });
}
