import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  PyDevice,
  PyDict,
  PyTuple,
  TorchTensor,
  loadPickle,
  loadTorch,
  pyRepr,
  tensorToFloat32,
  type PyValue,
} from '../../src/checkpoint/index.js';
import { fixturePath } from '../helpers.js';
import { checkTree, type ExpectedNode, type TreeStats } from './expected-tree.js';

// Every case of shared/reference/torch-formats (PyTorch 1.13): dtype/shape/stride/offset/storage sharing and
// bit-exact values against the typed expected.json trees.
const CASES: [file: string, kind: 'torch' | 'pickle'][] = [
  ['a_zip_default.pth', 'torch'],
  ['b_legacy.pth', 'torch'],
  ['c_half_bf16.pth', 'torch'],
  ['c_half_bf16_legacy.pth', 'torch'],
  ['d_views.pth', 'torch'],
  ['d_views_legacy.pth', 'torch'],
  ['e_nested.pth', 'torch'],
  ['f_numpy_in_torch.pth', 'torch'],
  ['f_numpy_protocol2.pkl', 'pickle'],
  ['f_numpy_protocol4.pkl', 'pickle'],
];

function load(file: string, kind: 'torch' | 'pickle'): PyValue {
  const bytes = readFileSync(fixturePath('torch-formats', file));
  return kind === 'torch' ? loadTorch(bytes) : loadPickle(bytes);
}

function expected(file: string): ExpectedNode {
  return JSON.parse(
    readFileSync(fixturePath('torch-formats', `${file}.expected.json`), 'utf8'),
  ) as ExpectedNode;
}

test('manifest lists exactly the cases tested here', () => {
  const manifest = JSON.parse(readFileSync(fixturePath('torch-formats', 'manifest.json'), 'utf8')) as {
    files: Record<string, unknown>;
  };
  const cases = Object.keys(manifest.files).filter((f) => /\.(pth|pkl)$/.test(f));
  assert.deepEqual(cases.sort(), CASES.map(([f]) => f).sort());
});

for (const [file, kind] of CASES) {
  test(`torch-formats ${file} decodes to its expected tree, bit-exact`, () => {
    const stats: TreeStats = { tensors: 0, values: 0, groups: new Map() };
    checkTree(load(file, kind), expected(file), 'torch-formats', 'root', stats);
    if (file.endsWith('.pth') && !file.startsWith('f_')) assert.ok(stats.tensors > 0);
  });
}

test('zip and legacy formats decode to the same tensors', () => {
  for (const [zip, legacy] of [
    ['a_zip_default.pth', 'b_legacy.pth'],
    ['c_half_bf16.pth', 'c_half_bf16_legacy.pth'],
    ['d_views.pth', 'd_views_legacy.pth'],
  ] as const) {
    const a = load(zip, 'torch');
    const b = load(legacy, 'torch');
    assert.ok(a instanceof PyDict && b instanceof PyDict);
    assert.deepEqual(a.keys(), b.keys());
    for (const [k, ta] of a) {
      const tb = b.get(k);
      assert.ok(ta instanceof TorchTensor && tb instanceof TorchTensor, pyRepr(k));
      assert.deepEqual(
        Buffer.from(tensorToFloat32(ta).buffer),
        Buffer.from(tensorToFloat32(tb).buffer),
        `${zip} ${pyRepr(k)}`,
      );
    }
  }
});

test('d_views: views of one storage share the storage object; the same tensor twice is one object', () => {
  for (const file of ['d_views.pth', 'd_views_legacy.pth']) {
    const d = load(file, 'torch');
    assert.ok(d instanceof PyDict);
    const t = (k: string): TorchTensor => {
      const v = d.require(k);
      assert.ok(v instanceof TorchTensor);
      return v;
    };
    const base = t('f_full_base');
    for (const k of ['a_view_offset4', 'b_view_offset10', 'c_strided'])
      assert.equal(t(k).storage, base.storage, k);
    assert.equal(t('g_same_as_full_base'), base, 'memo reuse returns the identical tensor');
    assert.equal(t('c_strided').isContiguous, false);
    assert.deepEqual([...t('e_expanded').stride], [1, 0]);
  }
});

test('e_nested: big ints, special floats, unicode, bytes, int/tuple keys, device, memo reuse', () => {
  const d = load('e_nested.pth', 'torch');
  assert.ok(d instanceof PyDict);
  const ints = d.require('ints') as PyValue[];
  assert.equal(ints.at(-1), 2n ** 70n);
  assert.equal(ints.at(-2), -(2n ** 62n));
  assert.equal(ints[9], 2 ** 40, 'safe ints stay numbers');
  const floats = d.require('floats');
  assert.ok(floats instanceof PyTuple);
  assert.ok(Object.is(floats.at(1), -0));
  assert.ok(Number.isNaN(floats.at(4)));
  assert.equal(d.require('str'), 'héllo ✓ 😀');
  const intKeys = d.require('int_keys');
  assert.ok(intKeys instanceof PyDict);
  assert.equal(intKeys.get(-5), 'minus five');
  const tupleKeys = d.require('tuple_keys');
  assert.ok(tupleKeys instanceof PyDict);
  assert.equal(tupleKeys.get(new PyTuple([1, 2])), 'pair');
  const dev = d.require('device');
  assert.ok(dev instanceof PyDevice);
  assert.equal(dev.type, 'cuda');
  assert.equal(dev.index, null);
  const twice = d.require('same_list_twice') as PyValue[];
  assert.equal(twice[0], twice[1], 'memo reuse returns the identical list');
  assert.deepEqual(d.require('bytes'), Uint8Array.from(Buffer.from('00016e6e552d4e6574ff', 'hex')));
  assert.equal((d.require('long_list') as PyValue[]).length, 1200);
});

test('a_zip_default: the state dict keeps its _metadata (OrderedDict BUILD state)', () => {
  const d = load('a_zip_default.pth', 'torch');
  assert.ok(d instanceof PyDict && d.ordered);
  const meta = d.metadata;
  assert.ok(meta instanceof PyDict && meta.ordered);
  const root = meta.get('');
  assert.ok(root instanceof PyDict);
  assert.equal(root.get('version'), 1);
});
