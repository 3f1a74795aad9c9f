import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  TorchStorage,
  TorchTensor,
  bfloat16BitsToFloat32,
  float16BitsToFloat32,
  float32ToBfloat16Bits,
  float32ToFloat16Bits,
  tensorFromData,
  tensorToFloat32,
  tensorToTypedArray,
} from '../../src/checkpoint/index.js';

function storage(values: number[]): TorchStorage {
  const f = Float32Array.from(values);
  return new TorchStorage('0', 'float32', 'cpu', f.length, new Uint8Array(f.buffer));
}

/** Reference gather: element i (C order) at offset + Σ idx·stride. */
function gather(values: number[], shape: number[], stride: number[], offset: number): number[] {
  const n = shape.reduce((a, b) => a * b, 1);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let rem = i;
    let p = offset;
    for (let d = shape.length - 1; d >= 0; d--) {
      const s = shape[d] as number;
      p += (rem % s) * (stride[d] as number);
      rem = Math.floor(rem / s);
    }
    out.push(values[p] as number);
  }
  return out;
}

test('tensorToFloat32 gathers permuted, sliced and expanded views in C order', () => {
  const values = Array.from({ length: 60 }, (_, i) => i * 1.5 - 7);
  const s = storage(values);
  const views: [number[], number[], number][] = [
    [[5, 3], [1, 5], 0], // transpose
    [[20], [3], 1], // step slice
    [[1, 2, 3, 2, 4], [48, 1, 8, 24, 2], 0], // 5-D permute
    [[3, 4], [1, 0], 0], // expand (stride 0)
    [[3, 4], [4, 1], 4], // offset view
    [[], [], 7], // 0-d
    [[0, 3], [3, 1], 0], // empty
  ];
  for (const [shape, stride, offset] of views) {
    const t = new TorchTensor('float32', shape, stride, offset, s);
    assert.deepEqual(
      Array.from(tensorToFloat32(t)),
      gather(values, shape, stride, offset),
      `shape ${shape.join('x')} stride ${stride.join(',')}`,
    );
  }
});

test('random strided views gather like the reference', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }),
      fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 4, maxLength: 4 }),
      fc.integer({ min: 0, max: 5 }),
      (shape, strides, offset) => {
        const stride = strides.slice(0, shape.length);
        const span = offset + shape.reduce((a, d, i) => a + (d - 1) * (stride[i] as number), 0) + 1;
        const values = Array.from({ length: span }, (_, i) => i + 0.25);
        const t = new TorchTensor('float32', shape, stride, offset, storage(values));
        assert.deepEqual(Array.from(tensorToFloat32(t)), gather(values, shape, stride, offset));
      },
    ),
  );
});

test('tensorToTypedArray returns the natural array for each dtype', () => {
  assert.ok(
    tensorToTypedArray(
      tensorFromData({ dtype: 'float64', shape: [2], data: Float64Array.of(1, 2) }),
    ) instanceof Float64Array,
  );
  const l = tensorToTypedArray(
    tensorFromData({ dtype: 'int64', shape: [2], data: BigInt64Array.of(-1n, 2n ** 62n) }),
  );
  assert.ok(l instanceof BigInt64Array);
  assert.deepEqual(Array.from(l), [-1n, 2n ** 62n]);
  assert.ok(
    tensorToTypedArray(tensorFromData({ dtype: 'int32', shape: [1], data: Int32Array.of(3) })) instanceof
      Int32Array,
  );
  assert.ok(
    tensorToTypedArray(tensorFromData({ dtype: 'int16', shape: [1], data: Int16Array.of(3) })) instanceof
      Int16Array,
  );
  assert.ok(
    tensorToTypedArray(tensorFromData({ dtype: 'int8', shape: [1], data: Int8Array.of(-3) })) instanceof
      Int8Array,
  );
  assert.ok(
    tensorToTypedArray(tensorFromData({ dtype: 'bool', shape: [1], data: Uint8Array.of(1) })) instanceof
      Uint8Array,
  );
  const h = tensorToTypedArray(
    tensorFromData({ dtype: 'float16', shape: [1], data: Uint16Array.of(0x3c00) }),
  );
  assert.ok(h instanceof Uint16Array && h[0] === 0x3c00);
  assert.deepEqual(
    Array.from(
      tensorToFloat32(tensorFromData({ dtype: 'int64', shape: [2], data: BigInt64Array.of(-5n, 7n) })),
    ),
    [-5, 7],
  );
});

test('float32 → float16 rounds to nearest even, with subnormals, overflow and NaN', () => {
  const cases: [number, number][] = [
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [65504, 0x7bff], // max half
    [65520, 0x7c00], // halfway to the next binade → rounds (to even) up to inf
    [65519, 0x7bff],
    [1e6, 0x7c00],
    [-Infinity, 0xfc00],
    [2 ** -24, 0x0001], // smallest subnormal
    [2 ** -25, 0x0000], // exactly half of it → ties to even (0)
    [2 ** -25 * 1.5, 0x0001],
    [2 ** -14, 0x0400], // smallest normal
    [1 + 2 ** -11, 0x3c00], // tie → even
    [1 + 3 * 2 ** -11, 0x3c02], // tie → even (up)
  ];
  for (const [x, bits] of cases) assert.equal(float32ToFloat16Bits(x), bits, `${x}`);
  assert.ok(Number.isNaN(float16BitsToFloat32(Uint16Array.of(float32ToFloat16Bits(NaN)))[0]));
});

test('every half value survives float16 → float32 → float16', () => {
  const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
  const f = float16BitsToFloat32(all);
  for (let h = 0; h < 65536; h++) {
    const back = float32ToFloat16Bits(f[h] as number);
    if (Number.isNaN(f[h])) assert.ok((back & 0x7c00) === 0x7c00 && (back & 0x3ff) !== 0);
    else if (back !== h) assert.fail(`half 0x${h.toString(16)} → ${f[h]} → 0x${back.toString(16)}`);
  }
});

test('float32 → bfloat16 rounds to nearest even and round-trips bf16 values', () => {
  assert.equal(float32ToBfloat16Bits(1), 0x3f80);
  assert.equal(float32ToBfloat16Bits(1 + 2 ** -8), 0x3f80); // tie → even
  assert.equal(float32ToBfloat16Bits(1 + 3 * 2 ** -8), 0x3f82); // tie → even (up)
  assert.equal(float32ToBfloat16Bits(-Infinity), 0xff80);
  assert.ok(Number.isNaN(bfloat16BitsToFloat32(Uint16Array.of(float32ToBfloat16Bits(NaN)))[0]));
  const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
  const f = bfloat16BitsToFloat32(all);
  for (let h = 0; h < 65536; h++)
    if (!Number.isNaN(f[h])) assert.equal(float32ToBfloat16Bits(f[h] as number), h);
});

test('tensorFromData checks the data type and length', () => {
  assert.throws(
    () => tensorFromData({ dtype: 'float32', shape: [2], data: Float64Array.of(1, 2) }),
    /needs data as Float32Array/,
  );
  assert.throws(
    () => tensorFromData({ dtype: 'float32', shape: [3], data: Float32Array.of(1, 2) }),
    /needs 3 values, got 2/,
  );
  const t = tensorFromData({ dtype: 'bfloat16', shape: [2], data: Float32Array.of(1, -2) });
  assert.deepEqual(Array.from(tensorToTypedArray(t) as Uint16Array), [0x3f80, 0xc000]);
});

test('views reaching outside their storage are rejected', () => {
  const t = new TorchTensor('float32', [3], [2], 1, storage([1, 2, 3, 4, 5]));
  assert.throws(() => tensorToFloat32(t), /reaches element 5 of a 5-element storage/);
});
