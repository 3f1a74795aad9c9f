import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectClose } from './helpers.js';

test('expectClose accepts values within tolerance', () => {
  expectClose([1, 2, NaN], [1.0000001, 2, NaN], { atol: 1e-6 });
  expectClose([100.5], [100], { rtol: 0.01 });
  expectClose([0.5, 10], [0, 10], { maxRelTol: 0.05 });
});

test('expectClose rejects values outside tolerance and names the index', () => {
  assert.throws(() => {
    expectClose([1, 2.1], [1, 2], { atol: 0.01 });
  }, /values\[1\]/);
  assert.throws(() => {
    expectClose([NaN], [1]);
  }, /NaN mismatch/);
  assert.throws(() => {
    expectClose([1], [1, 2]);
  }, /length/);
  assert.throws(() => {
    expectClose([0.6, 10], [0, 10], { maxRelTol: 0.05 });
  }, /values\[0\]/);
});
