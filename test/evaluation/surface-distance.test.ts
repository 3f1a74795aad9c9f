import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  averageSurfaceDistance,
  computeSurfaceDistances,
  robustHausdorff,
  squaredEdt,
  surfaceDiceAtTolerance,
  surfelAreaTable,
  numpySumForTest,
} from './api.js';
import { expectClose } from '../helpers.js';

/** O(n²) squared EDT: the definition. */
function bruteEdt(f: Uint8Array, [nz, ny, nx]: readonly number[], s: readonly number[]): Float64Array {
  const out = new Float64Array(f.length).fill(Infinity);
  const feats: [number, number, number][] = [];
  for (let i = 0; i < f.length; i++) {
    if (f[i] !== 0)
      feats.push([
        Math.floor(i / ((ny ?? 1) * (nx ?? 1))),
        Math.floor(i / (nx ?? 1)) % (ny ?? 1),
        i % (nx ?? 1),
      ]);
  }
  for (let z = 0, i = 0; z < (nz ?? 0); z++)
    for (let y = 0; y < (ny ?? 0); y++)
      for (let x = 0; x < (nx ?? 0); x++, i++)
        for (const [a, b, c] of feats) {
          const d =
            ((z - a) * (s[0] ?? 1)) ** 2 + ((y - b) * (s[1] ?? 1)) ** 2 + ((x - c) * (s[2] ?? 1)) ** 2;
          if (d < (out[i] ?? Infinity)) out[i] = d;
        }
  return out;
}

test('squaredEdt equals the brute-force definition on random anisotropic grids', () => {
  fc.assert(
    fc.property(
      fc.tuple(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 8 }),
      ),
      fc.tuple(
        fc.double({ min: 0.3, max: 5, noNaN: true }),
        fc.double({ min: 0.3, max: 5, noNaN: true }),
        fc.double({ min: 0.3, max: 5, noNaN: true }),
      ),
      fc.double({ min: 0, max: 0.4, noNaN: true }),
      fc.integer(),
      (shape, spacing, density, seed) => {
        const n = shape[0] * shape[1] * shape[2];
        let r = seed >>> 0;
        const f = Uint8Array.from({ length: n }, () => {
          r = (Math.imul(r, 1664525) + 1013904223) >>> 0;
          return r / 2 ** 32 < density ? 1 : 0;
        });
        expectClose(squaredEdt(f, shape, spacing), bruteEdt(f, shape, spacing), {
          rtol: 1e-12,
          label: 'edt',
        });
      },
    ),
    { numRuns: 200 },
  );
});

test('surfel area table: the all-outside and all-inside codes have no area; a lone corner is symmetric', () => {
  const t = surfelAreaTable([2, 3, 5]);
  assert.equal(t[0], 0);
  assert.equal(t[255], 0);
  // One voxel set in a 2×2×2 neighbourhood (code 1) and one voxel clear (code 254) cut the same triangle.
  assert.equal(t[1], t[254]);
});

test('identical, empty and one-sided masks follow the library', () => {
  const shape = [4, 5, 6] as const;
  const spacing = [2, 1, 0.5] as const;
  const cube = new Uint8Array(120);
  for (let z = 1; z < 3; z++)
    for (let y = 1; y < 4; y++) for (let x = 2; x < 5; x++) cube[(z * 5 + y) * 6 + x] = 1;
  const empty = new Uint8Array(120);

  const same = computeSurfaceDistances(cube, cube, shape, spacing);
  assert.ok(same.distancesGtToPred.length > 0 && same.distancesGtToPred.every((d) => d === 0));
  assert.equal(surfaceDiceAtTolerance(same, 0), 1);
  assert.equal(robustHausdorff(same, 95), 0);

  const predEmpty = computeSurfaceDistances(cube, empty, shape, spacing);
  assert.equal(predEmpty.distancesPredToGt.length, 0);
  assert.ok(predEmpty.distancesGtToPred.every((d) => d === Infinity));
  assert.equal(surfaceDiceAtTolerance(predEmpty, 100), 0);
  const asd = averageSurfaceDistance(predEmpty);
  assert.equal(asd.gtToPred, Infinity);
  assert.ok(Number.isNaN(asd.predToGt));
  assert.equal(robustHausdorff(predEmpty, 95), Infinity);

  const both = computeSurfaceDistances(empty, empty, shape, spacing);
  assert.ok(Number.isNaN(surfaceDiceAtTolerance(both, 1)));
  assert.equal(robustHausdorff(both, 95), Infinity);
});

test('shifted cube: swapping gt and pred swaps the lists; distances sorted; equal shapes give equal total area', () => {
  const shape = [6, 7, 8] as const;
  const spacing = [2.5, 0.75, 0.75] as const;
  const a = new Uint8Array(336);
  const b = new Uint8Array(336);
  for (let z = 1; z < 4; z++)
    for (let y = 2; y < 5; y++)
      for (let x = 1; x < 5; x++) {
        a[(z * 7 + y) * 8 + x] = 1;
        b[((z + 1) * 7 + y) * 8 + x + 2] = 1;
      }
  const ab = computeSurfaceDistances(a, b, shape, spacing);
  const ba = computeSurfaceDistances(b, a, shape, spacing);
  assert.deepEqual(ab.distancesGtToPred, ba.distancesPredToGt);
  assert.deepEqual(ab.surfelAreasGt, ba.surfelAreasPred);
  for (let i = 1; i < ab.distancesGtToPred.length; i++) {
    assert.ok((ab.distancesGtToPred[i - 1] ?? 0) <= (ab.distancesGtToPred[i] ?? 0));
  }
  // Both cubes have the same shape, hence the same total surfel area.
  expectClose([numpySumForTest(ab.surfelAreasGt)], [numpySumForTest(ab.surfelAreasPred)], { rtol: 1e-12 });
  const nsd = surfaceDiceAtTolerance(ab, 1);
  assert.ok(nsd > 0 && nsd < 1, `NSD ${nsd}`);
});
