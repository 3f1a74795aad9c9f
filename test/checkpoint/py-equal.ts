import assert from 'node:assert/strict';
import {
  NdArray,
  NpScalar,
  PyDevice,
  PyDict,
  PyFloat,
  PyGlobal,
  PySet,
  PyTuple,
  TorchTensor,
  tensorBytes,
  pyRepr,
  tensorFromData,
  type PyValue,
} from '../../src/checkpoint/index.js';

/**
 * Structural equality of decoded values for round-trip tests. Tensors compare dtype, shape and C-order bytes
 * (bit-exact, NaN payloads included); PyFloat compares as its number; with `plainScalars` a numpy scalar
 * equals its plain value (the writer saves numpy scalars as plain Python values).
 */
export function assertPyEqual(actual: PyValue, expected: PyValue, at = 'root', plainScalars = false): void {
  const norm = (v: PyValue): PyValue => {
    if (v instanceof PyFloat) return v.value;
    if (plainScalars && v instanceof NpScalar) return v.value;
    if (
      v !== null &&
      typeof v === 'object' &&
      !(v instanceof TorchTensor) &&
      Object.getPrototypeOf(v) === Object.prototype
    ) {
      return tensorFromData(v as Parameters<typeof tensorFromData>[0]); // a TensorInput
    }
    return v;
  };
  const a = norm(actual);
  const e = norm(expected);
  if (e === null || typeof e !== 'object') {
    if (typeof e === 'number' && Number.isNaN(e))
      assert.ok(typeof a === 'number' && Number.isNaN(a), `${at}: expected NaN`);
    else assert.ok(Object.is(a, e), `${at}: ${pyRepr(a)} !== ${pyRepr(e)}`);
    return;
  }
  if (e instanceof Uint8Array && !(e instanceof TorchTensor)) {
    assert.ok(a instanceof Uint8Array, `${at}: expected bytes`);
    assert.deepEqual(Buffer.from(a), Buffer.from(e), at);
  } else if (Array.isArray(e)) {
    assert.ok(Array.isArray(a), `${at}: expected a list`);
    assert.equal(a.length, e.length, `${at}: length`);
    e.forEach((x, i) => {
      assertPyEqual(a[i] as PyValue, x, `${at}[${i}]`, plainScalars);
    });
  } else if (e instanceof PyTuple) {
    assert.ok(a instanceof PyTuple, `${at}: expected a tuple`);
    assert.equal(a.length, e.length, `${at}: length`);
    e.items.forEach((x, i) => {
      assertPyEqual(a.items[i] as PyValue, x, `${at}[${i}]`, plainScalars);
    });
  } else if (e instanceof PyDict) {
    assert.ok(a instanceof PyDict, `${at}: expected a dict`);
    assert.equal(a.ordered, e.ordered, `${at}: ordered`);
    const ae = a.entries();
    const ee = e.entries();
    assert.equal(ae.length, ee.length, `${at}: size`);
    ee.forEach(([k, v], i) => {
      const [ak, av] = ae[i] as [PyValue, PyValue];
      assertPyEqual(ak, k, `${at}.key#${i}`, plainScalars);
      assertPyEqual(av, v, `${at}[${pyRepr(k)}]`, plainScalars);
    });
    assert.equal(a.attrs.size, e.attrs.size, `${at}: attribute count`);
    for (const [k, v] of e.attrs) assertPyEqual(a.attrs.get(k) ?? null, v, `${at}.${k}`, plainScalars);
  } else if (e instanceof TorchTensor) {
    assert.ok(a instanceof TorchTensor, `${at}: expected a tensor`);
    assert.equal(a.dtype, e.dtype, `${at}: dtype`);
    assert.deepEqual([...a.shape], [...e.shape], `${at}: shape`);
    assert.equal(a.requiresGrad, e.requiresGrad, `${at}: requires_grad`);
    assert.equal(a.isParameter, e.isParameter, `${at}: parameter`);
    assert.ok(Buffer.from(tensorBytes(a)).equals(Buffer.from(tensorBytes(e))), `${at}: tensor bytes differ`);
  } else if (e instanceof PyDevice) {
    assert.ok(a instanceof PyDevice, `${at}: expected a device`);
    assert.equal(a.toString(), e.toString(), at);
  } else if (e instanceof PyGlobal) {
    assert.ok(a instanceof PyGlobal, `${at}: expected a global`);
    assert.equal(a.qualifiedName, e.qualifiedName, at);
  } else if (e instanceof PySet) {
    assert.ok(a instanceof PySet, `${at}: expected a set`);
    assert.equal(a.frozen, e.frozen, `${at}: frozen`);
    e.items.forEach((x, i) => {
      assertPyEqual(a.items[i] as PyValue, x, `${at}{${i}}`, plainScalars);
    });
  } else if (e instanceof NpScalar) {
    assert.ok(a instanceof NpScalar, `${at}: expected a numpy scalar`);
    assert.equal(a.descr, e.descr, at);
    assertPyEqual(a.value, e.value, at);
  } else if (e instanceof NdArray) {
    assert.ok(a instanceof NdArray, `${at}: expected a numpy array`);
    assert.equal(a.descr, e.descr, at);
    assert.deepEqual(a.shape, e.shape, at);
    assert.deepEqual(a.data, e.data, at);
  } else assert.deepEqual(a, e, at);
}
