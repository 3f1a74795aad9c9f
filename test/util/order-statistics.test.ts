import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_SELECT_RANKS, selectRanks } from '../../src/util/order-statistics.js';
import { Rng } from '../../src/util/random.js';

function sortedCopy(v: Float32Array): Float32Array {
  return Float32Array.from(v).sort();
}

test('selectRanks equals the sorted array at every requested rank (random, ties, signs, ±0, ±Inf, NaN)', () => {
  const rng = new Rng(7);
  const n = 5000;
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = rng.next();
    // many ties (integers), wide magnitudes, both signs
    v[i] = i % 3 === 0 ? Math.round((u - 0.5) * 40) : (u - 0.5) * 10 ** Math.floor(rng.next() * 12 - 6);
  }
  v.set([0, -0, Infinity, -Infinity, NaN, -NaN, 1e-45, -1e-45, 3.4e38, -3.4e38], 100);
  const s = sortedCopy(v);
  // the ranks around ±0, the extremes, and random ones, MAX_SELECT_RANKS at a time (the radix path)
  const zero = s.findIndex((x) => x === 0);
  const fixed = [0, 1, n - 3, n - 2, n - 1, zero - 1, zero, zero + 1, zero + 2];
  for (let trial = 0; trial < 40; trial++) {
    const ranks =
      trial === 0 ? fixed : Array.from({ length: MAX_SELECT_RANKS }, () => Math.floor(rng.next() * n));
    const got = selectRanks(v, ranks);
    ranks.forEach((r, i) => {
      assert.ok(Object.is(got[i], s[r]), `rank ${r}: ${got[i]} vs ${s[r]}`);
    });
  }
  // more ranks than MAX_SELECT_RANKS: a sorted copy, same answers
  const all = Array.from({ length: n }, (_, i) => i);
  assert.deepEqual(selectRanks(v, all), Array.from(s));
  // the input is untouched
  assert.equal(v[100], 0);
  assert.ok(Number.isNaN(v[104]));
});

test('selectRanks on views, repeated ranks, one element, and bad ranks', () => {
  const buf = new Float32Array([9, 3, -1, 7, 5, 2]);
  const view = buf.subarray(1, 5); // 3, -1, 7, 5
  assert.deepEqual(selectRanks(view, [3, 0, 0, 1, 2]), [7, -1, -1, 3, 5]);
  assert.deepEqual(selectRanks(new Float32Array([4.5]), [0]), [4.5]);
  assert.deepEqual(selectRanks(view, []), []);
  assert.throws(() => selectRanks(view, [4]), /rank 4 is not within 0…3/);
  assert.throws(() => selectRanks(view, [0.5]), /rank 0.5/);
});
