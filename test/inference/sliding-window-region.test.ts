/**
 * The sliding window restricted to a region (what `predict --roi-subset` runs at full resolution): only the
 * tiles overlapping the box run, values inside the box equal the whole image's bit for bit, voxels no tile
 * covers are 0 in every class, and the slabs still tile z = 0…Z in order, in both the logit path and the
 * feature-network (class head) path.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor } from '../../src/engine/tensor.js';
import {
  slidingWindowPredict,
  slidingWindowPredictFull,
  type SlidingWindowOptions,
} from '../../src/inference/sliding-window.js';
import type { Slab } from '../../src/inference/stitcher.js';
import type { Vec3 } from '../../src/util/vec3.js';

const K = 3;
const net = (x: Tensor): Promise<Tensor[]> => {
  const [n, c, z, y, w] = x.shape as [number, number, number, number, number];
  const s = z * y * w;
  const out = new Tensor([n, K, z, y, w]);
  for (let b = 0; b < n; b++)
    for (let k = 0; k < K; k++)
      for (let i = 0; i < s; i++)
        out.data[(b * K + k) * s + i] =
          Math.sin((k + 1) * (x.data[b * c * s + i] as number)) + 0.01 * k * (i % 7);
  return Promise.resolve([out]);
};

function input(Z: number, Y: number, X: number): { data: Float32Array; shape: number[] } {
  return {
    data: Float32Array.from({ length: Z * Y * X }, (_, i) => Math.cos(i * 0.37) * 2),
    shape: [1, Z, Y, X],
  };
}

const regions: {
  name: string;
  shape: Vec3;
  low: Vec3;
  high: Vec3;
  mode: SlidingWindowOptions['mode'];
  depth?: number;
}[] = [
  {
    name: 'a box in the middle (z steps skipped before and after)',
    shape: [60, 37, 41],
    low: [24, 10, 5],
    high: [30, 20, 12],
    mode: 'v1',
  },
  {
    name: 'the far corner, slabs of 3',
    shape: [60, 37, 41],
    low: [55, 30, 38],
    high: [60, 37, 41],
    mode: 'v1',
    depth: 3,
  },
  {
    name: 'v2 logits, the first slices',
    shape: [33, 20, 20],
    low: [0, 0, 0],
    high: [2, 5, 5],
    mode: 'v2-upstream',
  },
];

for (const r of regions) {
  test(`region: ${r.name}`, async () => {
    const x = input(...r.shape);
    const opts: SlidingWindowOptions = {
      patchSizeZYX: [8, 16, 16],
      mode: r.mode,
      mirrorAxes: [0, 2],
      ...(r.mode === 'v1' ? {} : { accumulation: 'float32' as const }),
      ...(r.depth === undefined ? {} : { maxSlabDepth: r.depth }),
    };
    const full = await slidingWindowPredictFull(x, net, opts);
    const slabs: Slab[] = [];
    const part = await slidingWindowPredict(
      x,
      net,
      { ...opts, region: { lowZYX: r.low, highZYX: r.high } },
      (s) => {
        slabs.push(s);
      },
    );
    assert.ok(part.tiles < full.tiles && part.tiles > 0, `${part.tiles} of ${full.tiles} tiles`);
    assert.equal(part.gridTiles, full.tiles);
    const [Z, Y, X] = r.shape;
    assert.equal(slabs[0]?.zStart, 0);
    slabs.forEach((s, i) => {
      if (i > 0) assert.equal(s.zStart, slabs[i - 1]?.zEnd);
      if (r.depth !== undefined) assert.ok(s.zEnd - s.zStart <= r.depth);
    });
    assert.equal(slabs.at(-1)?.zEnd, Z);
    let inside = 0;
    let zeros = 0;
    for (const s of slabs) {
      const dz = s.zEnd - s.zStart;
      for (let k = 0; k < K; k++)
        for (let z = s.zStart; z < s.zEnd; z++)
          for (let y = 0; y < Y; y++)
            for (let xx = 0; xx < X; xx++) {
              const v = s.values[((k * dz + z - s.zStart) * Y + y) * X + xx] as number;
              const f = full.data[((k * Z + z) * Y + y) * X + xx] as number;
              const inBox =
                z >= r.low[0] &&
                z < r.high[0] &&
                y >= r.low[1] &&
                y < r.high[1] &&
                xx >= r.low[2] &&
                xx < r.high[2];
              if (inBox) {
                inside++;
                assert.equal(v, f, `class ${k} at ${z},${y},${xx}`);
              } else if (v === 0) zeros++; // outside: partial sums where only some covering tiles ran
            }
    }
    assert.ok(inside > 0 && zeros > 0);
  });
}

test('an empty region is refused', async () => {
  await assert.rejects(
    slidingWindowPredict(
      input(20, 20, 20),
      net,
      { patchSizeZYX: [8, 16, 16], mode: 'v1', region: { lowZYX: [3, 3, 3], highZYX: [3, 9, 9] } },
      () => {},
    ),
    /region .* is empty/,
  );
});
