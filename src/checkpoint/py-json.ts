import { fail } from '../util/errors.js';
import type { JsonValue } from '../util/json.js';
import type { NpyData } from '../io/npy.js';
import {
  NdArray,
  NpDtype,
  NpScalar,
  PyComplex,
  PyDevice,
  PyDict,
  PyFloat,
  PyGlobal,
  PySet,
  PySlice,
  PyTuple,
  TorchStorage,
  TorchTensor,
  type PyValue,
} from './py-values.js';

/**
 * A plain-JSON rendering of decoded values, for configs (nnU-Net plans) and debugging — lossy by design:
 * dicts become objects with `String(key)` keys, tuples/sets become arrays, numpy arrays nested arrays,
 * numpy scalars plain numbers, bigints decimal strings, bytes hex strings, tensors a `{tensor, shape}` stub.
 */

function nest(data: NpyData, shape: readonly number[], bool: boolean): JsonValue {
  const scalar = (i: number): JsonValue => {
    const v = data[i];
    if (v === undefined) fail('BAD_INPUT', `array data holds ${data.length} values, fewer than its shape`);
    if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
    return bool ? v !== 0 : v;
  };
  // n values along this axis, each of the `inner` shape, from flat index `base`
  const rec = (n: number, inner: readonly number[], base: number): JsonValue[] => {
    const step = inner.reduce((a, b) => a * b, 1);
    const [next, ...rest] = inner;
    const out: JsonValue[] = [];
    for (let i = 0; i < n; i++)
      out.push(next === undefined ? scalar(base + i) : rec(next, rest, base + i * step));
    return out;
  };
  const [n0, ...rest] = shape;
  return n0 === undefined ? scalar(0) : rec(n0, rest, 0);
}

function keyString(k: PyValue): string {
  if (typeof k === 'string') return k;
  const j = pyToJson(k);
  return typeof j === 'string' ? j : JSON.stringify(j);
}

export function pyToJson(v: PyValue): JsonValue {
  return toJson(v, new Set());
}

function toJson(v: PyValue, active: Set<object>): JsonValue {
  if (v !== null && typeof v === 'object') {
    // A hostile pickle can build a list that contains itself; JSON cannot hold that.
    if (active.has(v)) fail('BAD_INPUT', 'pyToJson: the value contains itself (a cycle)');
    active.add(v);
    try {
      return toJsonInner(v, active);
    } finally {
      active.delete(v);
    }
  }
  return toJsonInner(v, active);
}

function toJsonInner(v: PyValue, active: Set<object>): JsonValue {
  const rec = (x: PyValue): JsonValue => toJson(x, active);
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v;
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return Array.from(v, (b) => b.toString(16).padStart(2, '0')).join('');
  if (Array.isArray(v)) return v.map(rec);
  if (v instanceof PyTuple) return v.items.map(rec);
  if (v instanceof PySet) return v.items.map(rec);
  if (v instanceof PyDict) {
    const o: { [key: string]: JsonValue } = {};
    for (const [k, x] of v) o[keyString(k)] = rec(x);
    return o;
  }
  if (v instanceof PyFloat) return v.value;
  if (v instanceof NpScalar) return typeof v.value === 'bigint' ? v.value.toString() : v.value;
  if (v instanceof NdArray) return nest(v.data, v.shape, v.dtype === 'bool');
  if (v instanceof TorchTensor) return { tensor: v.dtype, shape: [...v.shape] };
  if (v instanceof TorchStorage) return { storage: v.dtype, numel: v.numel };
  if (v instanceof PyDevice) return v.toString();
  if (v instanceof PyGlobal) return v.qualifiedName;
  if (v instanceof NpDtype) return v.descr;
  if (v instanceof PyComplex) return [v.re, v.im];
  if (v instanceof PySlice) return [rec(v.start), rec(v.stop), rec(v.step)];
  return { tensor: v.dtype, shape: [...v.shape] }; // a TensorInput
}
