import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { expectClose } from '../helpers.js';
import {
  affineFromLps,
  affineToQuatern,
  det3,
  invertAffine,
  linear3,
  lpsFromAffine,
  mat4,
  matMul4,
  nearestOrthogonal,
  qformAffine,
  voxelSizesMm,
  el,
  type Mat4,
} from '../../src/io/geometry.js';
import { defaultNiftiHeader, createNifti } from '../../src/io/nifti-volume.js';
import {
  fromCanonical,
  ioOrientation,
  orientationCode,
  orientationFromCode,
  toClosestCanonical,
} from '../../src/io/orientation.js';

/** m · (p, 1), the first three coordinates. */
const apply = (m: Mat4, p: readonly number[]): number[] =>
  [0, 1, 2].map((r) => el(m, r, 3) + [0, 1, 2].reduce((s, c) => s + el(m, r, c) * (p[c] ?? 0), 0));
const flat = (m: readonly (readonly number[])[]): number[] => m.flatMap((r) => [...r]);

/** Rotation matrix of a unit quaternion (a, b, c, d). */
function rotation(a: number, b: number, c: number, d: number): number[][] {
  return [
    [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
    [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
    [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b],
  ];
}

const unitQuat = fc
  .tuple(fc.double({ min: -1, max: 1, noNaN: true }), fc.double({ min: -1, max: 1, noNaN: true }))
  .chain(([b, c]) => fc.tuple(fc.constant(b), fc.constant(c), fc.double({ min: -1, max: 1, noNaN: true })))
  .filter(([b, c, d]) => b * b + c * c + d * d > 0.01)
  .map(([b, c, d]) => {
    const n = Math.hypot(1, b, c, d); // a = 1/n > 0
    return [1 / n, b / n, c / n, d / n] as const;
  });
const tilt = fc.double({ min: -0.15, max: 0.15, noNaN: true });
const zoom = fc.double({ min: 0.2, max: 5, noNaN: true });
const offset = fc.double({ min: -300, max: 300, noNaN: true });
const size = fc.integer({ min: 1, max: 5 });
const PERMS = [
  [0, 1, 2],
  [0, 2, 1],
  [1, 0, 2],
  [1, 2, 0],
  [2, 0, 1],
  [2, 1, 0],
] as const;

/** A near-axis-aligned affine: permutation + flips, then a rotation of up to ~17° and a small shear. */
const nearAxisAffine = fc
  .record({
    perm: fc.constantFrom(...PERMS),
    flips: fc.tuple(fc.constantFrom(1, -1), fc.constantFrom(1, -1), fc.constantFrom(1, -1)),
    tilt: fc.tuple(tilt, tilt, tilt),
    shear: fc.double({ min: -0.2, max: 0.2, noNaN: true }),
    zooms: fc.tuple(zoom, zoom, zoom),
    t: fc.tuple(offset, offset, offset),
  })
  .map(({ perm, flips, tilt, shear, zooms, t }) => {
    const [b, c, d] = tilt;
    const n = Math.hypot(1, b, c, d);
    const r = rotation(1 / n, b / n, c / n, d / n);
    const rows = [0, 1, 2].map((w) =>
      [0, 1, 2].map((a) => {
        // column a = R · (flip · e_perm[a]) (+ shear of axis 2 along axis 1's direction), · zoom
        const ax = a as 0 | 1 | 2;
        let v = (r[w]?.[perm[ax]] ?? 0) * flips[ax];
        if (ax === 2) v += shear * (r[w]?.[perm[1]] ?? 0) * flips[1];
        return Math.fround(v * zooms[ax]);
      }),
    );
    const affine = mat4(rows.map((row, w) => [...row, Math.fround(t[w] ?? 0)]));
    return { affine, perm, flips };
  });

test('qform: quaternion → affine → quaternion → affine is stable (qfac ±1)', () => {
  fc.assert(
    fc.property(
      unitQuat,
      fc.tuple(zoom, zoom, zoom),
      fc.constantFrom(1, -1),
      fc.tuple(offset, offset, offset),
      (q, z, qfac, t) => {
        const h = {
          ...defaultNiftiHeader(),
          quatern_b: q[1],
          quatern_c: q[2],
          quatern_d: q[3],
          qoffset_x: t[0],
          qoffset_y: t[1],
          qoffset_z: t[2],
          pixdim: [qfac, ...z, 1, 1, 1, 1],
        };
        const a = qformAffine(h);
        expectClose(
          linear3(a)[0] ?? [],
          (rotation(...q)[0] ?? []).map((v, c) => v * (z[c] ?? 0) * (c === 2 ? qfac : 1)),
          { atol: 1e-9 },
        );
        const back = affineToQuatern(a);
        assert.equal(back.qfac, qfac);
        expectClose(back.zooms, z, { rtol: 1e-9 });
        const again = qformAffine({ ...h, ...back, pixdim: [back.qfac, ...back.zooms, 1, 1, 1, 1] });
        expectClose(flat(again), flat(a), { atol: 1e-9 });
      },
    ),
  );
});

test('nearest orthogonal matrix: orthonormal, and a rotation is its own', () => {
  fc.assert(
    fc.property(nearAxisAffine, ({ affine }) => {
      const z = voxelSizesMm(affine);
      const q = nearestOrthogonal(linear3(affine).map((r) => r.map((v, c) => v / (z[c] ?? 1))));
      const qtq = [0, 1, 2].map((i) =>
        [0, 1, 2].map((j) => [0, 1, 2].reduce((s, k) => s + (q[k]?.[i] ?? 0) * (q[k]?.[j] ?? 0), 0)),
      );
      expectClose(flat(qtq), [1, 0, 0, 0, 1, 0, 0, 0, 1], { atol: 1e-12 });
      expectClose(flat(nearestOrthogonal(q)), flat(q), { atol: 1e-12 });
    }),
  );
});

test('affine inverse and SimpleITK LPS view round-trip', () => {
  fc.assert(
    fc.property(nearAxisAffine, ({ affine }) => {
      expectClose(
        flat(matMul4(affine, invertAffine(affine))),
        flat(
          mat4([
            [1, 0, 0, 0],
            [0, 1, 0, 0],
            [0, 0, 1, 0],
          ]),
        ),
        { atol: 1e-9 },
      );
      const z = voxelSizesMm(affine);
      const lps = lpsFromAffine(affine);
      expectClose(flat(affineFromLps([z[2], z[1], z[0]], lps)), flat(affine), { atol: 1e-9 });
      // LPS direction is the RAS one with x and y rows negated
      assert.equal(Math.sign(lps.directionLPS[0] ?? 0) || 0, -Math.sign(affine[0][0]) || 0);
    }),
  );
});

test('ioOrientation recovers the axes of tilted, sheared, flipped and permuted affines', () => {
  fc.assert(
    fc.property(nearAxisAffine, ({ affine, perm, flips }) => {
      const o = ioOrientation(affine);
      assert.deepEqual(
        o.map((x) => [x.axis, x.flip]),
        [0, 1, 2].map((a) => [perm[a], flips[a]]),
      );
      assert.deepEqual(orientationFromCode(orientationCode(affine)), o);
    }),
  );
  assert.equal(
    orientationCode(
      mat4([
        [-1, 0, 0, 0],
        [0, -1, 0, 0],
        [0, 0, 1, 0],
      ]),
    ),
    'LPS',
  );
  assert.throws(() => orientationFromCode('RAR'), /exactly once/);
});

test('closest canonical: every voxel keeps its world position and value; the way back is identity', () => {
  fc.assert(
    fc.property(nearAxisAffine, fc.tuple(size, size, size), ({ affine }, dims) => {
      const n = dims[0] * dims[1] * dims[2];
      const img = createNifti({ raw: Int16Array.from({ length: n }, (_, i) => i), dims, affine });
      const { image: canon, transform } = toClosestCanonical(img);
      assert.equal(orientationCode(canon.affine), 'RAS');
      const inv = invertAffine(canon.affine);
      for (let k = 0; k < dims[2]; k++)
        for (let j = 0; j < dims[1]; j++)
          for (let i = 0; i < dims[0]; i++) {
            const [ci = 0, cj = 0, ck = 0] = apply(inv, apply(img.affine, [i, j, k])).map(Math.round);
            const [ni = 0, nj = 0] = canon.dims;
            assert.equal(canon.raw[ci + ni * (cj + nj * ck)], i + dims[0] * (j + dims[1] * k));
          }
      const back = fromCanonical(canon, transform);
      assert.deepEqual(back.raw, img.raw);
      assert.deepEqual(back.header, img.header);
      // a permutation + flips keeps the voxel volume
      expectClose([Math.abs(det3(linear3(canon.affine)))], [Math.abs(det3(linear3(img.affine)))], {
        rtol: 1e-12,
      });
    }),
    { numRuns: 60 },
  );
});
