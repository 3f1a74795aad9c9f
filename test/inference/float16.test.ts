import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { halfFromFloat32Op, roundToFloat16 } from '../../src/inference/float16.js';

test('roundToFloat16 rounds to nearest, ties to even, and saturates like IEEE binary16', () => {
  const cases: [number, number][] = [
    [1, 1],
    [1 + 2 ** -11, 1], // tie → even (1.0)
    [1 + 3 * 2 ** -11, 1 + 2 ** -9], // tie → even (…10)
    [1 + 2 ** -11 + 2 ** -30, 1 + 2 ** -10], // just above the tie
    [65504, 65504],
    [65519.99, 65504],
    [65520, Infinity], // the tie above max rounds to the even "mantissa" of infinity
    [-70000, -Infinity],
    [2 ** -24, 2 ** -24], // smallest subnormal
    [2 ** -25, 0], // tie between 0 and 2^-24 → 0 (even)
    [3 * 2 ** -25, 2 ** -23], // tie between 1 and 2 quanta → 2
    [2 ** -14 - 2 ** -26, 2 ** -14], // rounds up into the normal range
    [0.1, 0.0999755859375],
    [-0.0, -0.0],
  ];
  for (const [x, want] of cases)
    assert.ok(Object.is(roundToFloat16(x), want), `${x} → ${roundToFloat16(x)}, want ${want}`);
  assert.ok(Number.isNaN(roundToFloat16(NaN)));
});

test('halfFromFloat32Op (bit path) equals roundToFloat16(Math.fround(x)) for every kind of float32', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), (bits) => {
      const x = new Float32Array(new Uint32Array([bits]).buffer)[0] as number;
      const want = roundToFloat16(Math.fround(x));
      const got = halfFromFloat32Op(x);
      return Number.isNaN(want) ? Number.isNaN(got) : Object.is(got, want);
    }),
    { numRuns: 20000 },
  );
  // Doubles that are not float32 values go through float32 first, as torch's opmath does.
  const x = 1 + 2 ** -11 + 2 ** -40; // fround → exactly the tie, which goes to even
  assert.equal(halfFromFloat32Op(x), 1);
  assert.equal(roundToFloat16(x), 1 + 2 ** -10);
});
