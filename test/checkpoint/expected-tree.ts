import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readNpy } from '../../src/io/npy.js';
import {
  NdArray,
  NpScalar,
  PyDevice,
  PyDict,
  PyTuple,
  TorchStorage,
  TorchTensor,
  tensorToFloat32,
  tensorToTypedArray,
  type PyValue,
} from '../../src/checkpoint/index.js';
import { fixturePath } from '../helpers.js';

/**
 * Compares a decoded value with a torch-formats `*.expected.json` typed tree (see the fixture manifest's
 * notes): every node has a `type`; dict-likes list `items` as [key, value] pairs in order; ints ≥ 2^53 and
 * special floats are strings; tensors name their values file and a `storage_group` (equal groups = the same
 * storage). Values are compared bit-exactly (NaN matches any NaN; -0 must stay -0).
 */

export interface ExpectedNode {
  type: string;
  value?: unknown;
  items?: unknown[];
  hex?: string;
  dtype?: string;
  shape?: number[];
  stride?: number[];
  storage_offset?: number;
  storage_numel?: number;
  storage_group?: number;
  requires_grad?: boolean;
  fortran_order?: boolean;
  values_npy?: string;
  bits_npy?: string;
  attr__metadata?: ExpectedNode | null;
}

export interface TreeStats {
  tensors: number;
  values: number;
  groups: Map<number, TorchStorage>;
}

function expectFloat(actual: unknown, expected: unknown, at: string): void {
  assert.equal(typeof actual, 'number', `${at}: expected a float, got ${typeof actual}`);
  const a = actual as number;
  const e =
    expected === 'NaN'
      ? NaN
      : expected === 'Infinity'
        ? Infinity
        : expected === '-Infinity'
          ? -Infinity
          : expected === '-0.0'
            ? -0
            : (expected as number);
  if (Number.isNaN(e)) assert.ok(Number.isNaN(a), `${at}: ${a} is not NaN`);
  else assert.ok(Object.is(a, e), `${at}: ${a} !== ${e}`);
}

/** Element-wise equality that treats all NaNs as equal but keeps -0 ≠ +0. */
export function assertSameValues(
  actual: ArrayLike<number | bigint>,
  expected: ArrayLike<number | bigint>,
  at: string,
): void {
  assert.equal(actual.length, expected.length, `${at}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (typeof e === 'number' && Number.isNaN(e) && typeof a === 'number' && Number.isNaN(a)) continue;
    if (!Object.is(a, e)) assert.fail(`${at}[${i}]: ${String(a)} !== ${String(e)}`);
  }
}

function npyRawTail(file: string, nbytes: number): Uint8Array {
  const b = readFileSync(file);
  return new Uint8Array(b.buffer, b.byteOffset + b.length - nbytes, nbytes);
}

function checkTensor(a: PyValue, e: ExpectedNode, dir: string, at: string, stats: TreeStats): void {
  assert.ok(a instanceof TorchTensor, `${at}: expected a tensor`);
  assert.equal(a.dtype, e.dtype, `${at}: dtype`);
  assert.deepEqual([...a.shape], e.shape, `${at}: shape`);
  assert.deepEqual([...a.stride], e.stride, `${at}: stride`);
  assert.equal(a.storageOffset, e.storage_offset, `${at}: storage offset`);
  assert.equal(a.storage.numel, e.storage_numel, `${at}: storage numel`);
  assert.equal(a.requiresGrad, e.requires_grad ?? false, `${at}: requires_grad`);
  assert.equal(a.isParameter, e.type === 'parameter', `${at}: parameter`);
  const group = e.storage_group as number;
  const seen = stats.groups.get(group);
  if (seen === undefined) {
    for (const [g, s] of stats.groups)
      assert.notEqual(s, a.storage, `${at}: shares a storage with group ${g}`);
    stats.groups.set(group, a.storage);
  } else assert.equal(a.storage, seen, `${at}: storage group ${group} must be one shared storage object`);
  stats.tensors++;
  const npyFile = fixturePath(dir, e.values_npy as string);
  const npy = readNpy(readFileSync(npyFile));
  assert.equal(npy.data.length, a.numel, `${at}: numel`);
  if (a.dtype === 'float16') {
    // The npy is float16 too: compare raw bits, then the widened values.
    assertSameValues(
      tensorToTypedArray(a),
      new Uint16Array(npyRawTail(npyFile, a.numel * 2).slice().buffer),
      `${at} bits`,
    );
    assertSameValues(tensorToFloat32(a), npy.data, `${at} values`);
  } else if (a.dtype === 'bfloat16') {
    const bits = readNpy(readFileSync(fixturePath(dir, e.bits_npy as string)));
    assertSameValues(tensorToTypedArray(a), bits.data, `${at} bits`);
    assertSameValues(tensorToFloat32(a), npy.data, `${at} values`);
  } else {
    assertSameValues(tensorToTypedArray(a), npy.data, `${at} values`);
  }
  stats.values += a.numel;
}

export function checkTree(actual: PyValue, e: ExpectedNode, dir: string, at: string, stats: TreeStats): void {
  switch (e.type) {
    case 'none':
      assert.equal(actual, null, at);
      return;
    case 'bool':
      assert.equal(actual, e.value, at);
      return;
    case 'str':
      assert.equal(actual, e.value, at);
      return;
    case 'int':
      assert.ok(typeof actual === 'number' || typeof actual === 'bigint', `${at}: expected an int`);
      if (typeof e.value === 'string') {
        assert.equal(typeof actual, 'bigint', `${at}: ints beyond 2^53 must stay exact bigints`);
        assert.equal(actual, BigInt(e.value), at);
      } else assert.equal(actual, e.value, at);
      return;
    case 'float':
      expectFloat(actual, e.value, at);
      return;
    case 'bytes':
      assert.ok(actual instanceof Uint8Array, `${at}: expected bytes`);
      assert.equal(Buffer.from(actual).toString('hex'), e.hex, at);
      return;
    case 'torch.device':
      assert.ok(actual instanceof PyDevice, `${at}: expected a torch.device`);
      assert.equal(actual.toString(), e.value, at);
      return;
    case 'list':
    case 'tuple': {
      const items = e.items as ExpectedNode[];
      const got =
        e.type === 'list'
          ? Array.isArray(actual)
            ? actual
            : assert.fail(`${at}: expected a list`)
          : actual instanceof PyTuple
            ? actual.items
            : assert.fail(`${at}: expected a tuple`);
      assert.equal(got.length, items.length, `${at}: length`);
      items.forEach((x, i) => {
        checkTree(got[i] as PyValue, x, dir, `${at}[${i}]`, stats);
      });
      return;
    }
    case 'dict':
    case 'OrderedDict': {
      assert.ok(actual instanceof PyDict, `${at}: expected a dict`);
      // The fixture generator renders the _metadata OrderedDict as a plain 'dict' (the pickle has
      // collections.OrderedDict), so the kind is not checked inside _metadata.
      if (!at.includes('._metadata'))
        assert.equal(actual.ordered, e.type === 'OrderedDict', `${at}: OrderedDict flag`);
      const items = e.items as [ExpectedNode, ExpectedNode][];
      const got = actual.entries();
      assert.equal(got.length, items.length, `${at}: size`);
      items.forEach(([k, v], i) => {
        const [gk, gv] = got[i] as [PyValue, PyValue];
        checkTree(gk, k, dir, `${at}.key#${i}`, stats);
        checkTree(gv, v, dir, `${at}[${JSON.stringify(k.value ?? k.type)}]`, stats);
      });
      if (e.type === 'OrderedDict') {
        if (e.attr__metadata === null || e.attr__metadata === undefined)
          assert.equal(actual.metadata, undefined, `${at}: _metadata`);
        else checkTree(actual.metadata ?? null, e.attr__metadata, dir, `${at}._metadata`, stats);
      }
      return;
    }
    case 'tensor':
    case 'parameter':
      checkTensor(actual, e, dir, at, stats);
      return;
    case 'ndarray': {
      assert.ok(actual instanceof NdArray, `${at}: expected a numpy array`);
      assert.equal(actual.descr, e.dtype, `${at}: dtype`);
      assert.deepEqual(actual.shape, e.shape, `${at}: shape`);
      assert.equal(actual.fortranOrder, e.fortran_order, `${at}: fortran_order`);
      const npy = readNpy(readFileSync(fixturePath(dir, e.values_npy as string)));
      assertSameValues(actual.data, npy.data, `${at} values`);
      stats.values += actual.data.length;
      return;
    }
    case 'numpy_scalar': {
      assert.ok(actual instanceof NpScalar, `${at}: expected a numpy scalar`);
      assert.equal(actual.descr, e.dtype, `${at}: dtype`);
      if (typeof actual.value === 'number' && actual.dtype.startsWith('float'))
        expectFloat(actual.value, e.value, at);
      else assert.equal(actual.value, e.value, at);
      return;
    }
    default:
      assert.fail(`${at}: unknown expected node type ${e.type}`);
  }
}
