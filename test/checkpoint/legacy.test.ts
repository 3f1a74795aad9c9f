import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  PyDict,
  PyGlobal,
  PyTuple,
  Pickler,
  TorchStorage,
  TorchTensor,
  loadTorch,
  tensorToFloat32,
} from '../../src/checkpoint/index.js';
import { StunetError } from '../../src/util/errors.js';
import { fixturePath } from '../helpers.js';
import { PROTO2, STOP, pk } from './pickle-bytes.js';

/**
 * A legacy (pre-1.6) torch.save file assembled by hand: magic pickle, protocol pickle, sys_info pickle, the
 * data pickle (storages as persistent ids, here one with pre-0.4 view metadata), the storage-key pickle,
 * then each storage as int64 numel + raw bytes.
 */
function legacyFile(): Uint8Array {
  const floatStorage = new PyGlobal('torch', 'FloatStorage');
  const root = new TorchStorage('root', 'float32', 'cuda:0', 6, new Uint8Array(0));
  const view = new TorchStorage('view1', 'float32', 'cuda:0', 3, new Uint8Array(0));
  const tensor = (s: TorchStorage, shape: number[]): TorchTensor =>
    new TorchTensor('float32', shape, [1], 0, s);
  const data = Pickler.dumps(
    new PyDict(false, [
      ['whole', tensor(root, [6])],
      ['view', tensor(view, [3])],
    ]),
    {
      persistentId: (v) =>
        v === root
          ? new PyTuple(['storage', floatStorage, 'root', 'cuda:0', 6, null])
          : v === view
            ? new PyTuple(['storage', floatStorage, 'root', 'cuda:0', 6, new PyTuple(['view1', 2, 3])])
            : undefined,
      reduce: (v) =>
        v instanceof TorchTensor
          ? [
              new PyGlobal('torch._utils', '_rebuild_tensor_v2'),
              new PyTuple([
                v.storage,
                0,
                new PyTuple(v.shape),
                new PyTuple(v.stride),
                false,
                new PyDict(true),
              ]),
            ]
          : undefined,
    },
  );
  const sysInfo = new PyDict(false, [
    ['protocol_version', 1001],
    ['little_endian', true],
    [
      'type_sizes',
      new PyDict(false, [
        ['short', 2],
        ['int', 4],
        ['long', 4],
      ]),
    ],
  ]);
  const raw = new Uint8Array(8 + 24);
  new DataView(raw.buffer).setBigInt64(0, 6n, true);
  new Float32Array(raw.buffer, 8, 6).set([0, 1, 2, 3, 4, 5]);
  const parts = [
    Pickler.dumps(0x1950a86a20f9469cfc6cn),
    Pickler.dumps(1001),
    Pickler.dumps(sysInfo),
    data,
    Pickler.dumps(['root']),
    raw,
  ];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

test('legacy format: storages follow the pickles; pre-0.4 storage views resolve into their root', () => {
  const d = loadTorch(legacyFile());
  assert.ok(d instanceof PyDict);
  const whole = d.require('whole') as TorchTensor;
  const view = d.require('view') as TorchTensor;
  assert.deepEqual(Array.from(tensorToFloat32(whole)), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(Array.from(tensorToFloat32(view)), [2, 3, 4]);
  assert.equal(whole.storage.location, 'cuda:0');
  assert.equal(view.storage.bytes.buffer, whole.storage.bytes.buffer, 'the view shares the root bytes');
});

test('legacy format: truncated storages and wrong counts are clear errors', () => {
  const f = legacyFile();
  assert.throws(() => loadTorch(f.subarray(0, f.length - 4)), /truncated inside storage 'root'/);
  const wrong = f.slice();
  new DataView(wrong.buffer).setBigInt64(f.length - 32, 5n, true);
  assert.throws(() => loadTorch(wrong), /has 5 elements in the file, the pickle says 6/);
});

test('loadTorch on a plain pickle or garbage says what it is', () => {
  assert.throws(
    () => loadTorch(readFileSync(fixturePath('stunet-forward', 'T1.model.pkl'))),
    /no torch magic number .*use loadPickle/,
  );
  assert.throws(() => loadTorch(Uint8Array.of(1, 2, 3, 4, 5)), /not a torch checkpoint/);
  // A hostile first pickle keeps its UNSAFE_PICKLE code.
  assert.throws(
    () => loadTorch(pk(...PROTO2, 'c', 'os\nsystem\n', STOP)),
    (e: unknown) => e instanceof StunetError && e.code === 'UNSAFE_PICKLE',
  );
});
