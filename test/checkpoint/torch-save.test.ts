import { loadTorchFile, saveTorchFile } from '../../src/node/checkpoint-file.js';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  PyDevice,
  PyDict,
  PyFloat,
  PyTuple,
  TorchTensor,
  ZipReader,
  asStateDict,
  bytesSource,
  loadTorch,
  saveTorch,
  tensorBytes,
  tensorToTypedArray,
  type PyValue,
  type TensorInput,
  type TorchDtype,
} from '../../src/checkpoint/index.js';
import { fixturePath } from '../helpers.js';
import { assertPyEqual } from './py-equal.js';

// Random typed-array data per dtype, with the float specials (NaN, ±inf, -0) that must survive bit-exactly.
const f64 = fc.double();
const f32 = fc.float();
const DATA: Record<TorchDtype, (n: number) => fc.Arbitrary<TensorInput['data']>> = {
  float32: (n) => fc.array(f32, { minLength: n, maxLength: n }).map((a) => Float32Array.from(a)),
  float64: (n) => fc.array(f64, { minLength: n, maxLength: n }).map((a) => Float64Array.from(a)),
  float16: (n) =>
    fc
      .array(fc.integer({ min: 0, max: 0xffff }), { minLength: n, maxLength: n })
      .map((a) => Uint16Array.from(a)),
  bfloat16: (n) =>
    fc
      .array(fc.integer({ min: 0, max: 0xffff }), { minLength: n, maxLength: n })
      .map((a) => Uint16Array.from(a)),
  int64: (n) =>
    fc
      .array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { minLength: n, maxLength: n })
      .map((a) => BigInt64Array.from(a)),
  int32: (n) => fc.array(fc.integer(), { minLength: n, maxLength: n }).map((a) => Int32Array.from(a)),
  int16: (n) =>
    fc
      .array(fc.integer({ min: -32768, max: 32767 }), { minLength: n, maxLength: n })
      .map((a) => Int16Array.from(a)),
  int8: (n) =>
    fc
      .array(fc.integer({ min: -128, max: 127 }), { minLength: n, maxLength: n })
      .map((a) => Int8Array.from(a)),
  uint8: (n) => fc.uint8Array({ minLength: n, maxLength: n }),
  bool: (n) => fc.array(fc.boolean(), { minLength: n, maxLength: n }).map((a) => Uint8Array.from(a, Number)),
};

const tensorInput: fc.Arbitrary<TensorInput> = fc
  .tuple(
    fc.constantFrom(...(Object.keys(DATA) as TorchDtype[])),
    fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 4 }),
  )
  .chain(([dtype, shape]) =>
    DATA[dtype](shape.reduce((a, b) => a * b, 1)).map((data) => ({ dtype, shape, data })),
  );

const extra: fc.Arbitrary<PyValue> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.bigInt({ min: -(2n ** 100n), max: 2n ** 100n }).filter((b) => b > 2n ** 53n || b < -(2n ** 53n)),
  fc.double().map((x) => new PyFloat(x)),
  fc.string(),
  fc.array(fc.integer(), { maxLength: 3 }).map((a) => new PyTuple(a)),
);

test('loadTorch(saveTorch(x)) reproduces random state dicts bit-exactly', () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), tensorInput), {
        selector: ([k]) => k,
        maxLength: 8,
      }),
      fc.array(fc.tuple(fc.string(), extra), { maxLength: 3 }),
      (entries, extras) => {
        const sd = PyDict.ordered(entries);
        const value = new PyDict(false, [
          ['state_dict', sd],
          ['extras', new PyDict(false, extras)],
          ['again', sd], // memo: the same dict twice
        ]);
        const back = loadTorch(saveTorch(value));
        assertPyEqual(back, value);
        assert.ok(back instanceof PyDict);
        assert.equal(back.get('state_dict'), back.get('again'), 'memo reuse survives the round trip');
        for (const [k, t] of asStateDict(back.require('state_dict'))) {
          const input = sd.require(k);
          assert.ok(
            Buffer.from(tensorBytes(t)).equals(
              Buffer.from(input.data.buffer, input.data.byteOffset, input.data.byteLength),
            ),
            `${k}: bytes`,
          );
          assert.equal(t.isContiguous, true);
        }
      },
    ),
    { numRuns: 150 },
  );
});

test('the zip is what torch expects: one root folder, data.pkl, byteorder, data/<key> 64-byte aligned, version', () => {
  const sd = PyDict.ordered([
    ['w', { dtype: 'float32', shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) }],
    ['b', { dtype: 'int64', shape: [2], data: BigInt64Array.of(1n, 2n) }],
  ] as [string, TensorInput][]);
  const zip = new ZipReader(bytesSource(saveTorch(sd, { archiveName: 'model' })));
  const names = zip.entries.map((e) => e.name);
  assert.deepEqual(names, [
    'model/data.pkl',
    'model/byteorder',
    'model/data/0',
    'model/data/1',
    'model/version',
  ]);
  for (const e of zip.entries) {
    assert.equal(e.method, 0, `${e.name} stored`);
    assert.equal(zip.dataOffset(e) % 64, 0, `${e.name} aligned`);
    zip.read(e.name, { verifyCrc: true });
  }
  assert.equal(new TextDecoder().decode(zip.read('model/version')), '3\n');
  assert.equal(new TextDecoder().decode(zip.read('model/byteorder')), 'little');
  assert.equal(zip.read('model/data/0').length, 24);
});

test('data.pkl is byte-identical to what torch.save wrote for the fixtures', () => {
  // CPython's pickler memoizes str by object identity, we by value: only a_zip_default (which repeats the
  // str '0') differs, and only by a BINGET instead of a second BINUNICODE.
  for (const name of ['c_half_bf16', 'd_views', 'e_nested']) {
    const original = readFileSync(fixturePath('torch-formats', `${name}.pth`));
    const ours = saveTorch(loadTorch(original, { exactFloats: true }), { archiveName: name });
    const a = new ZipReader(bytesSource(ours)).read(`${name}/data.pkl`);
    const b = new ZipReader(bytesSource(original)).read(`${name}/data.pkl`);
    assert.ok(Buffer.from(a).equals(Buffer.from(b)), `${name}/data.pkl differs`);
  }
});

test('views keep sharing one storage by default; compact writes each tensor on its own', () => {
  const original = loadTorch(readFileSync(fixturePath('torch-formats', 'd_views.pth')));
  const shared = loadTorch(saveTorch(original));
  const compact = loadTorch(saveTorch(original, { compact: true }));
  assertPyEqual(shared, original);
  assertPyEqual(compact, original);
  assert.ok(shared instanceof PyDict && compact instanceof PyDict);
  const t = (d: PyDict, k: string): TorchTensor => d.require(k) as TorchTensor;
  assert.equal(t(shared, 'c_strided').storage, t(shared, 'f_full_base').storage);
  assert.deepEqual([...t(shared, 'c_strided').stride], [3]);
  assert.notEqual(t(compact, 'c_strided').storage, t(compact, 'f_full_base').storage);
  assert.deepEqual([...t(compact, 'c_strided').stride], [1]);
  assert.equal(t(compact, 'c_strided').storage.numel, 20);
});

test('parameters, requires_grad, devices, bytes and big ints round-trip', () => {
  const base = loadTorch(
    saveTorch(PyDict.ordered([['w', { dtype: 'float32', shape: [2], data: Float32Array.of(1, 2) }]])),
  );
  assert.ok(base instanceof PyDict);
  const w = base.require('w') as TorchTensor;
  const param = new TorchTensor(w.dtype, w.shape, w.stride, w.storageOffset, w.storage, true, true);
  const value = new PyDict(false, [
    ['param', param],
    ['device', new PyDevice('cuda', 0)],
    ['bytes', Uint8Array.of(0, 1, 255)],
    ['empty_bytes', new Uint8Array(0)],
    ['big', -(2n ** 90n)],
    ['float', new PyFloat(3)],
    ['lone_surrogate', 'a\ud800b'],
  ] as [string, PyValue][]);
  const back = loadTorch(saveTorch(value), { exactFloats: true });
  assertPyEqual(back, value);
  assert.ok(back instanceof PyDict);
  const p = back.require('param') as TorchTensor;
  assert.ok(p.isParameter && p.requiresGrad);
  assert.ok(back.require('float') instanceof PyFloat);
});

test('saveTorchFile streams to disk and names the root folder after the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stunet-ckpt-'));
  try {
    const path = join(dir, 'my_model.pth');
    const x: TensorInput = { dtype: 'float16', shape: [2], data: Float32Array.of(0.5, -1) };
    const value = PyDict.ordered([['x', x]]);
    saveTorchFile(path, value);
    const zip = new ZipReader(bytesSource(readFileSync(path)));
    assert.equal(zip.entries[0]?.name, 'my_model/data.pkl');
    const back = loadTorchFile(path);
    assert.ok(back instanceof PyDict);
    assert.deepEqual(
      Array.from(tensorToTypedArray(back.require('x') as TorchTensor) as Uint16Array),
      [0x3800, 0xbc00],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writer errors are clear', () => {
  assert.throws(
    () => saveTorch({ dtype: 'float32', shape: [3], data: Float32Array.of(1) }),
    /needs 3 values, got 1/,
  );
  assert.throws(() => saveTorch(null, { archiveName: 'a/b' }), /plain folder name/);
  assert.throws(
    () =>
      saveTorch(
        new PyDict(false, [
          ['k', loadTorch(readFileSync(fixturePath('torch-formats', 'f_numpy_in_torch.pth')))],
        ]),
      ),
    /numpy arrays/,
  );
});
