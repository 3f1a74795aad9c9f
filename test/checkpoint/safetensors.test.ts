import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  TorchTensor,
  asStateDict,
  loadTorch,
  readSafetensors,
  tensorBytes,
  tensorFromData,
  writeSafetensors,
  type TensorInput,
  type TorchDtype,
} from '../../src/checkpoint/index.js';
import { fixturePath } from '../helpers.js';

const enc = new TextEncoder();

/** A safetensors file from a raw header object and data bytes, for malformed-input tests. */
function craft(header: unknown, data: Uint8Array, pad = true): Uint8Array {
  let json = JSON.stringify(header);
  if (pad) json += ' '.repeat((8 - (enc.encode(json).length % 8)) % 8);
  const h = enc.encode(json);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

const DTYPES: TorchDtype[] = [
  'float32',
  'float16',
  'bfloat16',
  'float64',
  'int64',
  'int32',
  'int16',
  'int8',
  'uint8',
  'bool',
];

const input: fc.Arbitrary<TensorInput> = fc
  .tuple(fc.constantFrom(...DTYPES), fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }))
  .chain(([dtype, shape]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const bytesPer = {
      float32: 4,
      float16: 2,
      bfloat16: 2,
      float64: 8,
      int64: 8,
      int32: 4,
      int16: 2,
      int8: 1,
      uint8: 1,
      bool: 1,
    }[dtype];
    return fc.uint8Array({ minLength: n * bytesPer, maxLength: n * bytesPer }).map((raw): TensorInput => {
      const b = raw.buffer;
      const data =
        dtype === 'float32'
          ? new Float32Array(b)
          : dtype === 'float64'
            ? new Float64Array(b)
            : dtype === 'int64'
              ? new BigInt64Array(b)
              : dtype === 'int32'
                ? new Int32Array(b)
                : dtype === 'int16'
                  ? new Int16Array(b)
                  : dtype === 'int8'
                    ? new Int8Array(b)
                    : dtype === 'float16' || dtype === 'bfloat16'
                      ? new Uint16Array(b)
                      : dtype === 'bool'
                        ? raw.map((x) => x & 1)
                        : raw;
      return { dtype, shape, data };
    });
  });

test('safetensors write → read round-trips random tensors and metadata', () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(
        fc.tuple(
          fc.string({ minLength: 1 }).filter((s) => s !== '__metadata__'),
          input,
        ),
        { selector: ([k]) => k, maxLength: 6 },
      ),
      fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
      (entries, metadata) => {
        const bytes = writeSafetensors(entries, metadata);
        const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
        assert.equal((8 + headerLen) % 8, 0, 'data section is 8-byte aligned');
        const back = readSafetensors(bytes);
        assert.deepEqual(
          [...back.tensors.keys()],
          entries.map(([k]) => k),
        );
        assert.deepEqual([...back.metadata], Object.entries(metadata));
        for (const [k, t] of entries) {
          const got = back.tensors.get(k);
          assert.ok(got instanceof TorchTensor);
          assert.equal(got.dtype, t.dtype);
          assert.deepEqual([...got.shape], t.shape);
          assert.ok(Buffer.from(tensorBytes(got)).equals(Buffer.from(tensorBytes(tensorFromData(t)))), k);
        }
      },
    ),
    { numRuns: 200 },
  );
});

test('a torch state dict converts to safetensors with identical bytes (strided views written in C order)', () => {
  const sd = asStateDict(loadTorch(readFileSync(fixturePath('torch-formats', 'd_views.pth'))));
  const back = readSafetensors(writeSafetensors(sd, { format: 'pt' }));
  assert.equal(back.metadata.get('format'), 'pt');
  for (const [k, t] of sd)
    assert.ok(
      Buffer.from(tensorBytes(back.tensors.get(k) as TorchTensor)).equals(Buffer.from(tensorBytes(t))),
      k,
    );
});

test('tensor order is the header order, integer-like names included', () => {
  const t = { dtype: 'uint8', shape: [1], data: Uint8Array.of(1) } as const;
  const names = ['10', 'b', '2', 'a', '0'];
  const back = readSafetensors(writeSafetensors(names.map((n) => [n, t] as const)));
  assert.deepEqual([...back.tensors.keys()], names);
});

test('the header layout follows the reference: u64 length, JSON padded with spaces, __metadata__ first', () => {
  const bytes = writeSafetensors(
    { a: { dtype: 'float32', shape: [1], data: Float32Array.of(1) } },
    { k: 'v' },
  );
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  assert.match(
    text,
    /^\{"__metadata__":\{"k":"v"\},"a":\{"dtype":"F32","shape":\[1\],"data_offsets":\[0,4\]\}\} *$/,
  );
  assert.equal(n % 8, 0);
});

test('corrupt or inconsistent headers are clear errors', () => {
  const four = new Uint8Array(4);
  const ok = { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } };
  assert.doesNotThrow(() => readSafetensors(craft(ok, four)));
  assert.throws(() => readSafetensors(new Uint8Array(5)), /too short/);
  const garbage = craft(ok, four);
  garbage[9] = 0x7b; // '{{' breaks the JSON
  assert.throws(() => readSafetensors(garbage), /header is not valid JSON/);
  const huge = craft(ok, four);
  new DataView(huge.buffer).setBigUint64(0, 2n ** 40n, true);
  assert.throws(() => readSafetensors(huge), /header length .* implausible/);
  const long = craft(ok, four);
  new DataView(long.buffer).setBigUint64(0, 4096n, true);
  assert.throws(() => readSafetensors(long), /runs past the end/);
  assert.throws(() => readSafetensors(craft([1, 2], four)), /must be a JSON object/);
  assert.throws(
    () => readSafetensors(craft({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 8] } }, four)),
    /spans 8 bytes but shape \[1\] × F32 needs 4/,
  );
  assert.throws(
    () => readSafetensors(craft({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, four)),
    /run past the 4-byte data section/,
  );
  assert.throws(
    () =>
      readSafetensors(
        craft(
          {
            a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
            b: { dtype: 'U8', shape: [2], data_offsets: [2, 4] },
          },
          four,
        ),
      ),
    /overlap/,
  );
  assert.throws(
    () => readSafetensors(craft({ a: { dtype: 'U8', shape: [2], data_offsets: [2, 4] } }, four)),
    /unused bytes before 'a'/,
  );
  assert.throws(
    () => readSafetensors(craft({ a: { dtype: 'U8', shape: [2], data_offsets: [0, 2] } }, four)),
    /2 bytes after the last tensor/,
  );
  assert.throws(
    () => readSafetensors(craft({ a: { dtype: 'F8_E4M3', shape: [4], data_offsets: [0, 4] } }, four)),
    /dtype F8_E4M3/,
  );
  assert.throws(
    () => readSafetensors(craft({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, four)),
    /non-negative ints/,
  );
  assert.throws(
    () => readSafetensors(craft({ __metadata__: { k: 1 } }, new Uint8Array(0))),
    /__metadata__\['k'\] is not a string/,
  );
  assert.throws(
    () => writeSafetensors({ __metadata__: { dtype: 'uint8', shape: [0], data: new Uint8Array(0) } }),
    /cannot be named/,
  );
});
