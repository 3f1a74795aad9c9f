/**
 * Connected components as scipy.ndimage.label sees them (6-connectivity), and nnU-Net v1's
 * remove_all_but_the_largest_connected_component. The random fixtures were checked once by hand: the masks
 * below (src/util/random.ts Rng, mulberry32, same seeds) were labelled with scipy 1.17.1 `scipy.ndimage.label` (default structure)
 * and run through a line-by-line transliteration of nnU-Net 1.7.1's function; the counts, sizes and
 * checksums are frozen here, so no test needs Python.
 */
import type { Vec3 } from '../../src/util/vec3.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  componentRuns,
  keepLargestComponent,
  labelComponents,
  removeSmallBlobs,
  type ClassOrGroup,
} from './api.js';
import { Rng } from '../../src/util/random.js';

const count = (d: Vec3): number => d[0] * d[1] * d[2];
/** Σ value · (i mod 1000 + 1): the checksum the Python side printed. */
const checksum = (a: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * ((i % 1000) + 1);
  return s;
};
const histogram = (a: ArrayLike<number>, k: number): number[] => {
  const h = new Array<number>(k + 1).fill(0);
  for (let i = 0; i < a.length; i++) h[a[i] as number] = (h[a[i] as number] ?? 0) + 1;
  return h;
};

test('6-connectivity: faces join, edges and corners do not (scipy.ndimage.label default)', () => {
  const dims: Vec3 = [2, 2, 2];
  const at = (z: number, y: number, x: number): number => (z * 2 + y) * 2 + x;
  const make = (...idx: number[]): Uint8Array => {
    const m = new Uint8Array(8);
    for (const i of idx) m[i] = 1;
    return m;
  };
  assert.equal(labelComponents(make(at(0, 0, 0), at(0, 0, 1)), dims).count, 1); // x face
  assert.equal(labelComponents(make(at(0, 0, 0), at(0, 1, 0)), dims).count, 1); // y face
  assert.equal(labelComponents(make(at(0, 0, 0), at(1, 0, 0)), dims).count, 1); // z face
  assert.equal(labelComponents(make(at(0, 0, 0), at(0, 1, 1)), dims).count, 2); // edge
  assert.equal(labelComponents(make(at(0, 0, 0), at(1, 1, 0)), dims).count, 2); // edge across slices
  assert.equal(labelComponents(make(at(0, 0, 0), at(1, 1, 1)), dims).count, 2); // corner
  // a U joined only at its bottom row: one component, numbered by its first voxel
  const u = new Uint8Array([1, 0, 1, 1, 0, 1, 1, 1, 1]);
  const r = labelComponents(u, [1, 3, 3]);
  assert.equal(r.count, 1);
  assert.deepEqual([...r.labels], [1, 0, 1, 1, 0, 1, 1, 1, 1]);
});

test('random masks: same count, sizes and numbering as scipy.ndimage.label (frozen)', () => {
  const fixtures: {
    seed: number;
    dims: Vec3;
    p: number;
    n: number;
    max: number;
    first: number[];
    sum: number;
  }[] = [
    { seed: 1, dims: [7, 9, 11], p: 0.3, n: 56, max: 33, first: [13, 2, 13, 1, 6], sum: 1933096 },
    { seed: 2, dims: [5, 6, 7], p: 0.5, n: 17, max: 54, first: [5, 1, 2, 7, 54], sum: 80786 },
    { seed: 3, dims: [12, 10, 8], p: 0.4, n: 38, max: 305, first: [1, 305, 1, 5, 3], sum: 1342298 },
    { seed: 4, dims: [3, 40, 33], p: 0.45, n: 122, max: 1252, first: [42, 1, 7, 5, 1], sum: 17764164 },
    // near the site-percolation threshold of the cubic lattice: long, branching components
    { seed: 5, dims: [20, 20, 20], p: 0.3116, n: 569, max: 341, first: [1, 5, 4, 1, 1], sum: 300237849 },
    { seed: 6, dims: [1, 50, 60], p: 0.55, n: 139, max: 474, first: [26, 4, 474, 4, 11], sum: 34224334 },
  ];
  for (const f of fixtures) {
    const rng = new Rng(f.seed);
    const r = (): number => rng.next();
    const mask = Uint8Array.from({ length: count(f.dims) }, () => (r() < f.p ? 1 : 0));
    const { labels, count: n } = labelComponents(mask, f.dims);
    assert.equal(n, f.n, `seed ${f.seed}: count`);
    const sizes = histogram(labels, n).slice(1);
    assert.equal(Math.max(...sizes), f.max, `seed ${f.seed}: largest`);
    assert.deepEqual(sizes.slice(0, 5), f.first, `seed ${f.seed}: sizes of components 1-5`);
    assert.equal(checksum(labels), f.sum, `seed ${f.seed}: numbering`);
    const runs = componentRuns(mask, f.dims, null);
    assert.deepEqual([...runs.sizes], sizes);
  }
});

test('keepLargestComponent = nnU-Net 1.7.1 remove_all_but_the_largest_connected_component (frozen)', () => {
  const dims: Vec3 = [9, 12, 10];
  const fixtures: {
    seed: number;
    p: number;
    k: number;
    entries: ClassOrGroup[];
    min: [string, number][] | null;
    vpv: number;
    counts: number[];
    sum: number;
    kept: [string, number][];
    removed: [string, number][];
  }[] = [
    {
      seed: 11,
      p: 0.5,
      k: 3,
      entries: [1, 2, 3],
      min: null,
      vpv: 1,
      counts: [1026, 24, 12, 18],
      sum: 27184,
      kept: [
        ['1', 8],
        ['2', 6],
        ['3', 9],
      ],
      removed: [
        ['1', 7],
        ['2', 5],
        ['3', 7],
      ],
    },
    {
      seed: 12,
      p: 0.6,
      k: 3,
      entries: [[1, 2, 3]],
      min: null,
      vpv: 1,
      counts: [408, 242, 210, 220],
      sum: 616620,
      kept: [['(1, 2, 3)', 672]],
      removed: [['(1, 2, 3)', 1]],
    },
    // groups and classes in turn, a class twice: order matters, each step sees the previous one's result
    {
      seed: 13,
      p: 0.55,
      k: 4,
      entries: [[1, 2], 3, [3, 4], 1],
      min: null,
      vpv: 1,
      counts: [1036, 10, 23, 6, 5],
      sum: 43682,
      kept: [
        ['(1, 2)', 53],
        ['3', 6],
        ['(3, 4)', 11],
        ['1', 10],
      ],
      removed: [
        ['(1, 2)', 26],
        ['3', 5],
        ['(3, 4)', 7],
        ['1', 6],
      ],
    },
    // min_valid_object_sizes in volume units (voxels × 0.5): only smaller components go
    {
      seed: 14,
      p: 0.5,
      k: 3,
      entries: [1, 2, 3],
      min: [
        ['1', 6],
        ['2', 2.5],
        ['3', 40],
      ],
      vpv: 0.5,
      counts: [1018, 12, 36, 14],
      sum: 51771,
      kept: [
        ['1', 6],
        ['2', 9],
        ['3', 7],
      ],
      removed: [
        ['1', 4.5],
        ['2', 2],
        ['3', 3.5],
      ],
    },
    {
      seed: 15,
      p: 0.6,
      k: 3,
      entries: [[1, 2, 3], 2],
      min: [
        ['(1, 2, 3)', 30],
        ['2', 3],
      ],
      vpv: 1.5,
      counts: [480, 205, 184, 211],
      sum: 565795,
      kept: [
        ['(1, 2, 3)', 981],
        ['2', 30],
      ],
      removed: [
        ['(1, 2, 3)', 1.5],
        ['2', 1.5],
      ],
    },
  ];
  for (const f of fixtures) {
    const rng = new Rng(f.seed);
    const r = (): number => rng.next();
    const labels = Uint8Array.from({ length: count(dims) }, () =>
      r() < f.p ? 1 + Math.floor(r() * f.k) : 0,
    );
    const before = histogram(labels, f.k)[0] ?? 0;
    const out = keepLargestComponent(labels, dims, f.entries, {
      volumePerVoxel: f.vpv,
      minValidObjectSizes: f.min === null ? null : new Map(f.min),
    });
    assert.deepEqual(histogram(labels, f.k), f.counts, `seed ${f.seed}: voxels per label after`);
    assert.equal(checksum(labels), f.sum, `seed ${f.seed}: which voxels`);
    assert.deepEqual([...out.keptSize], f.kept, `seed ${f.seed}: kept_size`);
    assert.deepEqual([...out.largestRemoved], f.removed, `seed ${f.seed}: largest_removed`);
    assert.equal(out.removedVoxels, (f.counts[0] ?? 0) - before, `seed ${f.seed}: voxels removed`);
  }
});

/** 1×1×n rows: `s` is a string of labels, one digit a voxel. */
const row = (s: string): Uint8Array => Uint8Array.from(s, Number);
const dimsOf = (s: string): Vec3 => [1, 1, s.length];

test('ties at the largest size are all kept (nnU-Net 1.7; older versions kept the first only)', () => {
  const labels = row('1101101');
  keepLargestComponent(labels, dimsOf('1101101'), [1]);
  assert.deepEqual([...labels], [1, 1, 0, 1, 1, 0, 0]);
});

test('a group is one foreground: a class touching the largest component survives, alone it does not', () => {
  const s = '1112002201';
  const asGroup = row(s);
  keepLargestComponent(asGroup, dimsOf(s), [[1, 2]]);
  assert.deepEqual([...asGroup], [1, 1, 1, 2, 0, 0, 0, 0, 0, 0]);
  const perClass = row(s);
  const r = keepLargestComponent(perClass, dimsOf(s), [1, 2]);
  assert.deepEqual([...perClass], [1, 1, 1, 0, 0, 0, 2, 2, 0, 0]);
  assert.equal(r.removedVoxels, 2);
  // a class absent from the map: nothing kept, nothing removed
  const absent = keepLargestComponent(row('0110'), [1, 1, 4], [3]);
  assert.deepEqual([...absent.keptSize], [['3', null]]);
  assert.deepEqual([...absent.largestRemoved], [['3', null]]);
});

test('removeSmallBlobs: per class, in mm³ (voxels × spacing), the only component of a class too', () => {
  const s = '1110110220333302';
  const spacing: Vec3 = [2, 1, 1.5]; // 3 mm³ per voxel
  const a = row(s);
  const r = removeSmallBlobs(a, dimsOf(s), spacing, 6.5); // 2 voxels = 6 mm³ < 6.5, 3 voxels = 9 mm³ stay
  assert.deepEqual([...a], [...row('1110000000333300')]);
  assert.deepEqual(r, { removedComponents: 3, removedVoxels: 5 });
  const b = row(s);
  removeSmallBlobs(b, dimsOf(s), spacing, 6); // not below: equal stays
  assert.deepEqual([...b], [...row('1110110220333300')]);
  const c = row(s);
  removeSmallBlobs(c, dimsOf(s), spacing, 100, [2]); // only class 2 is cleaned
  assert.deepEqual([...c], [...row('1110110000333300')]);
  // float32 maps (as NIfTI gives them) are cleaned the same way
  const f = Float32Array.from(row(s));
  removeSmallBlobs(f, dimsOf(s), spacing, 6.5);
  assert.deepEqual([...f], [...row('1110000000333300')]);
});

test('bad input: one clear error, the map untouched', () => {
  const labels = row('1101');
  assert.throws(() => keepLargestComponent(labels, [1, 1, 5], [1]), /label map has 4 voxels.*need 5/);
  assert.throws(() => keepLargestComponent(labels, [1, 1, 4], [0]), /0 is the background/);
  assert.throws(() => keepLargestComponent(labels, [1, 1, 4], [[1, 2.5]]), /2\.5 is not a label/);
  assert.throws(
    () => keepLargestComponent(labels, [1, 1, 4], [1, 2], { minValidObjectSizes: new Map([['1', 3]]) }),
    /min_valid_object_sizes has no entry for 2/,
  );
  assert.throws(() => removeSmallBlobs(labels, [1, 1, 4], [1, 1, 0], 5), /spacing must be positive/);
  assert.throws(() => removeSmallBlobs(labels, [1, 1, 4], [1, 1, 1], -1), /≥ 0/);
  assert.deepEqual([...labels], [1, 1, 0, 1]);
});
