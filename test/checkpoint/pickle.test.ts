import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  NdArray,
  NpScalar,
  PyDict,
  PyFloat,
  PySet,
  PyTuple,
  Pickler,
  loadPickle,
  pyToJson,
  unpickle,
  unpickleAt,
  type PyValue,
} from '../../src/checkpoint/index.js';
import { encodeLong } from '../../src/checkpoint/pickle-writer.js';
import { PROTO2, PROTO4, STOP, binunicode, pk, shortBinunicode, u32le, u64le } from './pickle-bytes.js';
import { assertPyEqual } from './py-equal.js';

// The same dict pickled by CPython 3.11 with protocol 0 (text opcodes: INT, LONG, FLOAT, UNICODE, PUT/GET,
// DICT/LIST/TUPLE, GLOBAL set/frozenset/_codecs.encode/OrderedDict) and protocol 1 (binary, no PROTO):
//   v = {'a': [1, 2.5, 'x', None, True, (1, 2)], 'big': 2**70, 'neg': -5, 'u': 'hé✓😀', 'nl': 'a\nb\\c',
//        'set': {7}, 'fs': frozenset(), 'b': b'\x00\xff', 'inf': inf, 'nan': nan,
//        'od': OrderedDict(k=1), 'twice': [shared, shared]}   with shared = [1, 2]
//   base64.b64encode(pickle.dumps(v, protocol=p))
const PROTOCOL0 =
  'KGRwMApWYQpwMQoobHAyCkkxCmFGMi41CmFWeApwMwphTmFJMDEKYShJMQpJMgp0cDQKYXNWYmlnCnA1CkwxMTgwNTkxNjIwNzE3NDExMzAzNDI0TApzVm5lZwpwNgpJLTUKc1Z1CnA3ClZo6Vx1MjcxM1xVMDAwMWY2MDAKcDgKc1ZubApwOQpWYVx1MDAwYWJcdTAwNWNjCnAxMApzVnNldApwMTEKY19fYnVpbHRpbl9fCnNldApwMTIKKChscDEzCkk3CmF0cDE0ClJwMTUKc1ZmcwpwMTYKY19fYnVpbHRpbl9fCmZyb3plbnNldApwMTcKKChscDE4CnRwMTkKUnAyMApzVmIKcDIxCmNfY29kZWNzCmVuY29kZQpwMjIKKFZcdTAwMDD/CnAyMwpWbGF0aW4xCnAyNAp0cDI1ClJwMjYKc1ZpbmYKcDI3CkZpbmYKc1ZuYW4KcDI4CkZuYW4Kc1ZvZApwMjkKY2NvbGxlY3Rpb25zCk9yZGVyZWREaWN0CnAzMAoodFJwMzEKVmsKcDMyCkkxCnNzVnR3aWNlCnAzMwoobHAzNAoobHAzNQpJMQphSTIKYWFnMzUKYXMu';
const PROTOCOL1 =
  'fXEAKFgBAAAAYXEBXXECKEsBR0AEAAAAAAAAWAEAAAB4cQNOSTAxCihLAUsCdHEEZVgDAAAAYmlncQVMMTE4MDU5MTYyMDcxNzQxMTMwMzQyNEwKWAMAAABuZWdxBkr7////WAEAAAB1cQdYCgAAAGjDqeKck/CfmIBxCFgCAAAAbmxxCVgFAAAAYQpiXGNxClgDAAAAc2V0cQtjX19idWlsdGluX18Kc2V0CnEMKF1xDUsHYXRxDlJxD1gCAAAAZnNxEGNfX2J1aWx0aW5fXwpmcm96ZW5zZXQKcREoXXESdHETUnEUWAEAAABicRVjX2NvZGVjcwplbmNvZGUKcRYoWAMAAAAAw79xF1gGAAAAbGF0aW4xcRh0cRlScRpYAwAAAGluZnEbR3/wAAAAAAAAWAMAAABuYW5xHEd/+AAAAAAAAFgCAAAAb2RxHWNjb2xsZWN0aW9ucwpPcmRlcmVkRGljdApxHilScR9YAQAAAGtxIEsBc1gFAAAAdHdpY2VxIV1xIihdcSMoSwFLAmVoI2V1Lg==';

for (const [name, b64] of [
  ['protocol 0', PROTOCOL0],
  ['protocol 1', PROTOCOL1],
] as const) {
  test(`CPython ${name} pickle decodes`, () => {
    const d = loadPickle(Buffer.from(b64, 'base64'));
    assert.ok(d instanceof PyDict && !d.ordered);
    assertPyEqual(d.require('a'), [1, 2.5, 'x', null, true, new PyTuple([1, 2])]);
    assert.equal(d.get('big'), 2n ** 70n);
    assert.equal(d.get('neg'), -5);
    assert.equal(d.get('u'), 'hé✓😀');
    assert.equal(d.get('nl'), 'a\nb\\c');
    assertPyEqual(d.require('set'), new PySet([7], false));
    assertPyEqual(d.require('fs'), new PySet([], true));
    assert.deepEqual(d.get('b'), Uint8Array.of(0, 255));
    assert.equal(d.get('inf'), Infinity);
    assert.ok(Number.isNaN(d.get('nan')));
    const od = d.require('od');
    assert.ok(od instanceof PyDict && od.ordered && od.get('k') === 1);
    const twice = d.require('twice') as PyValue[];
    assert.equal(twice[0], twice[1], 'GET / BINGET return the identical memoized list');
  });
}

test('protocol 4/5 opcodes: FRAME, MEMOIZE, STACK_GLOBAL, LONG4, BINBYTES8, BINUNICODE8, BYTEARRAY8, sets', () => {
  const huge = 2n ** 2100n + 1n;
  const hugeBytes = encodeLong(huge);
  const bytes = pk(
    0x80,
    5,
    0x95,
    ...u64le(0), // FRAME (a hint only)
    0x5d,
    0x94, // EMPTY_LIST, MEMOIZE → memo 0
    '(',
    0x8b,
    ...u32le(hugeBytes.length),
    hugeBytes, // LONG4
    0x8e,
    ...u64le(3),
    'abc', // BINBYTES8
    0x8d,
    ...u64le(2),
    'hi', // BINUNICODE8
    0x96,
    ...u64le(2),
    1,
    2, // BYTEARRAY8
    0x8f,
    '(',
    'K',
    1,
    'K',
    2,
    0x90, // EMPTY_SET, MARK, ADDITEMS
    '(',
    'K',
    3,
    0x91, // FROZENSET
    ...shortBinunicode('collections'),
    ...shortBinunicode('OrderedDict'),
    0x93,
    ')',
    'R', // STACK_GLOBAL + REDUCE
    'C',
    1,
    0xff, // SHORT_BINBYTES
    'B',
    ...u32le(1),
    0x00, // BINBYTES
    0x8a,
    0, // LONG1 of zero length = 0
    'h',
    0, // BINGET 0: the list itself
    'e',
    STOP,
  );
  const v = unpickle(bytes) as PyValue[];
  assert.equal(v[0], huge);
  assert.deepEqual(v[1], new TextEncoder().encode('abc'));
  assert.equal(v[2], 'hi');
  assert.deepEqual(v[3], Uint8Array.of(1, 2));
  assertPyEqual(v[4] as PyValue, new PySet([1, 2], false));
  assertPyEqual(v[5] as PyValue, new PySet([3], true));
  assert.ok(v[6] instanceof PyDict && v[6].ordered);
  assert.deepEqual(v[7], Uint8Array.of(0xff));
  assert.deepEqual(v[8], Uint8Array.of(0));
  assert.equal(v[9], 0);
  assert.equal(v[10], v, 'a list may contain itself through the memo');
});

test('py2 strings (BINSTRING, SHORT_BINSTRING, STRING) decode as latin1, also as numpy data', () => {
  const v = unpickle(
    pk(...PROTO2, '(', 'U', 2, 0xe9, 0x41, 'T', ...u32le(1), 0xff, 'S', "'a\\x00\\n\\'b'\n", 'l', STOP),
  ) as PyValue[];
  assert.deepEqual(v, ['éA', 'ÿ', "a\x00\n'b"]);
  // numpy array whose raw data is a py2 str (a pickle written by Python 2, read with encoding='latin1').
  const arr = unpickle(
    pk(
      ...PROTO2,
      'c',
      'numpy.core.multiarray\n_reconstruct\n',
      'c',
      'numpy\nndarray\n',
      'K',
      0,
      0x85,
      'U',
      1,
      'b',
      0x87,
      'R',
      '(',
      'K',
      1,
      'K',
      2,
      0x85,
      'c',
      'numpy\ndtype\n',
      'U',
      2,
      'i2',
      0x89,
      0x88,
      0x87,
      'R',
      '(',
      'K',
      3,
      'U',
      1,
      '<',
      'N',
      'N',
      'N',
      'J',
      ...u32le(0xffffffff),
      'J',
      ...u32le(0xffffffff),
      'K',
      0,
      't',
      'b',
      0x89,
      'U',
      4,
      1,
      0,
      0xfe,
      0xff,
      't',
      'b',
      STOP,
    ),
  );
  assert.ok(arr instanceof NdArray);
  assert.equal(arr.descr, '<i2');
  assert.deepEqual(Array.from(arr.data as Int16Array), [1, -2]);
});

test('numpy scalars: float64, int64 beyond 2^53 stays bigint, bool', () => {
  const scalar = (code: string, raw: number[]): PyValue =>
    unpickle(
      pk(
        ...PROTO2,
        'c',
        'numpy.core.multiarray\nscalar\n',
        'c',
        'numpy\ndtype\n',
        ...binunicode(code),
        0x89,
        0x88,
        0x87,
        'R',
        'C',
        raw.length,
        raw,
        0x86,
        'R',
        STOP,
      ),
    );
  const f = scalar('f8', [0, 0, 0, 0, 0, 0, 0xe0, 0x3f]);
  assert.ok(f instanceof NpScalar && f.value === 0.5 && f.descr === '<f8');
  const big = scalar('i8', [1, 0, 0, 0, 0, 0, 0x20, 0]);
  assert.ok(big instanceof NpScalar && big.value === 2n ** 53n + 1n);
  const b = scalar('b1', [1]);
  assert.ok(b instanceof NpScalar && b.value === true && b.descr === '|b1');
});

test('stack opcodes: POP, POP_MARK, DUP, NEWOBJ, DICT, LIST, INT/LONG text, text FLOAT', () => {
  const v = unpickle(
    pk(
      ...PROTO2,
      '(',
      'K',
      9,
      'K',
      8,
      '1', // MARK … POP_MARK: discarded
      'K',
      7,
      '0', // POP
      '(',
      'I',
      '01\n',
      'I',
      '-12\n',
      'L',
      '123456789012345678901234L\n',
      'F',
      '-inf\n',
      'F',
      '1.5e3\n',
      'N',
      '2', // DUP
      'c',
      'collections\nOrderedDict\n',
      ')',
      0x81, // NEWOBJ
      '(',
      ...binunicode('k'),
      'K',
      1,
      'd', // DICT
      'l',
      STOP,
    ),
  ) as PyValue[];
  assert.equal(v.length, 9);
  assert.deepEqual(v.slice(0, 5), [true, -12, 123456789012345678901234n, -Infinity, 1500]);
  assert.deepEqual(v.slice(5, 7), [null, null]);
  assert.ok(v[7] instanceof PyDict && v[7].ordered);
  assert.ok(v[8] instanceof PyDict && v[8].get('k') === 1);
});

test('malformed pickles are clear BAD_INPUT errors', () => {
  assert.throws(() => unpickle(pk(...PROTO2, 'X', ...u32le(100), 'ab')), /truncated/);
  assert.throws(() => unpickle(pk(...PROTO2, 't', STOP)), /MARK expected/);
  assert.throws(() => unpickle(pk(...PROTO2, 'h', 3, STOP)), /memo key 3/);
  assert.throws(() => unpickle(pk(...PROTO2, 'a', STOP)), /stack underflow/);
  assert.throws(() => unpickle(pk(...PROTO2, 'K', 1, 'K', 2, STOP)), /STOP with 2 values/);
  assert.throws(() => unpickle(pk(...PROTO2, ']', 'K', 1, 'K', 2, 's', STOP)), /SETITEM\(S\) on a list/);
  assert.throws(
    () => unpickle(pk(...PROTO2, '}', ']', 'K', 1, 's', STOP)),
    /unhashable dict key of type list/,
  );
  assert.throws(() => unpickle(pk(...PROTO2, 'Q', STOP)), /stack underflow|persistent id/);
  assert.throws(() => unpickle(pk(...PROTO2, 'N', 'Q', STOP)), /persistent id .* not a torch checkpoint/);
});

test('unpickleAt reads back-to-back pickles', () => {
  const two = pk(...PROTO2, 'K', 1, STOP, ...PROTO4, ...shortBinunicode('x'), STOP);
  const first = unpickleAt(two);
  assert.equal(first.value, 1);
  const second = unpickleAt(two, { offset: first.end });
  assert.equal(second.value, 'x');
  assert.equal(second.end, two.length);
});

test('exactFloats keeps integral floats as PyFloat', () => {
  const bytes = pk(...PROTO2, 'G', 0x40, 0, 0, 0, 0, 0, 0, 0, STOP); // 2.0
  assert.equal(unpickle(bytes), 2);
  const exact = unpickle(bytes, { exactFloats: true });
  assert.ok(exact instanceof PyFloat && exact.value === 2);
});

test('encodeLong matches CPython encode_long', () => {
  // pickle.encode_long(x).hex() for each x
  const cases: [bigint, string][] = [
    [0n, ''],
    [255n, 'ff00'],
    [-256n, '00ff'],
    [-128n, '80'],
    [127n, '7f'],
    [2n ** 63n, '000000000000008000'],
    [-(2n ** 62n), '00000000000000c0'],
  ];
  for (const [x, hex] of cases) assert.equal(Buffer.from(encodeLong(x)).toString('hex'), hex, String(x));
});

// Arbitrary picklable values (no tensors): the writer and the reader must agree exactly.
const pyValue: fc.Arbitrary<PyValue> = fc.letrec<{ v: PyValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc
      .bigInt({ min: -(2n ** 200n), max: 2n ** 200n })
      .map((b) => (Number.isSafeInteger(Number(b)) && BigInt(Number(b)) === b ? Number(b) : b)),
    fc.double(),
    fc.string({ unit: 'binary' }),
    fc.uint8Array({ maxLength: 8 }),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.array(tie('v'), { maxLength: 4 }).map((a) => new PyTuple(a)),
    fc
      .tuple(
        fc.boolean(),
        fc.array(fc.tuple(fc.oneof(fc.string(), fc.integer()), tie('v')), { maxLength: 4 }),
      )
      .map(([ordered, kv]) => new PyDict(ordered, kv)),
  ),
})).v;

test('Pickler.dumps → unpickle is the identity on random values', () => {
  fc.assert(
    fc.property(pyValue, (v) => {
      const back = unpickle(Pickler.dumps(v));
      // -0 and non-integral numbers are floats; safe integers are ints: both come back as the same number.
      assertPyEqual(back, v);
    }),
    { numRuns: 300 },
  );
});

// Decoding time of large LONG4s is measured by bench/pickle.ts, not asserted here.
test('hostile shapes decode right or fail clearly: a 200 kB LONG4, a self-containing list in pyToJson', () => {
  const n = 200_000;
  const big = new Uint8Array(n).fill(0xff); // -1 in two's complement
  assert.equal(unpickle(pk(...PROTO2, 0x8b, ...u32le(n), big, STOP)), -1);
  big[n - 1] = 0; // 0xff…ff00 little-endian: 2^(8(n-1)) - 1
  assert.equal(unpickle(pk(...PROTO2, 0x8b, ...u32le(n), big, STOP)), (1n << BigInt(8 * (n - 1))) - 1n);
  const cyclic = unpickle(pk(...PROTO2, ']', 'q', 0, 'h', 0, 'a', STOP));
  assert.throws(() => pyToJson(cyclic), /contains itself/);
  const shared = unpickle(pk(...PROTO2, ']', 'q', 0, 'K', 1, 'a', 'h', 0, 0x86, STOP));
  assert.deepEqual(pyToJson(shared), [[1], [1]], 'a value reached twice is not a cycle');
});
