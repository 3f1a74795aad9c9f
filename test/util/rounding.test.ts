import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { roundHalfEven } from '../../src/util/rounding.js';

test('roundHalfEven follows np.round: ties to even, sign of zero kept', () => {
  assert.deepEqual(
    [0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5, 2.4, 2.6, -2.6, 0, -0].map(roundHalfEven),
    [0, 2, 2, 4, -0, -2, -2, 2, 3, -3, 0, -0],
  );
});

test('roundHalfEven is the nearest integer, and an even one on ties', () => {
  fc.assert(
    fc.property(fc.double({ min: -1e9, max: 1e9, noNaN: true }), (x) => {
      const r = roundHalfEven(x);
      assert.ok(Number.isInteger(r));
      const d = Math.abs(x - r);
      assert.ok(d <= 0.5);
      if (d === 0.5) assert.equal(Math.abs(r % 2), 0);
    }),
  );
});
