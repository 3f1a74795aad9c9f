import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { readNpy, writeNpy } from '../../src/io/npy.js';

test('npy write→read is identity for float32 and int64', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 4 }), (shape) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const f = Float32Array.from({ length: n }, (_, i) => i * 0.5 - 3);
      const back = readNpy(writeNpy({ dtype: 'float32', shape, data: f }));
      assert.deepEqual(back.shape, shape);
      assert.deepEqual(Array.from(back.data as Float32Array), Array.from(f));
      const l = BigInt64Array.from({ length: n }, (_, i) => BigInt(i) * 10n ** 15n);
      const back64 = readNpy(writeNpy({ dtype: 'int64', shape, data: l }));
      assert.deepEqual(back64.data, l);
    }),
  );
});

test('npy header is 64-byte aligned and rejects garbage', () => {
  const bytes = writeNpy({ dtype: 'uint8', shape: [3], data: Uint8Array.of(1, 2, 3) });
  assert.equal((bytes.length - 3) % 64, 0);
  assert.throws(() => readNpy(Uint8Array.of(1, 2, 3)), /not a \.npy/);
  assert.throws(() => readNpy(bytes.subarray(0, bytes.length - 1)), /truncated/);
});
