import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DataType, encodeModel, ProtoWriter, type ModelSpec } from '../../src/onnx/proto.js';
import { decodeModel, readFields, readVarint } from '../../src/onnx/proto-read.js';
import { readOnnxFileInfo } from '../../src/node/onnx-file-info.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

void test('varints follow the protobuf wire format', () => {
  assert.equal(hex(new ProtoWriter().varint(1, 0).finish()), '0800');
  assert.equal(hex(new ProtoWriter().varint(1, 1).finish()), '0801');
  assert.equal(hex(new ProtoWriter().varint(1, 300).finish()), '08ac02');
  // int64 -1: ten bytes of two's complement.
  assert.equal(hex(new ProtoWriter().varint(1, -1).finish()), '08ffffffffffffffffff01');
  // field 20 (AttributeProto.type) needs a two-byte key: (20 << 3) | 0 = 160.
  assert.equal(hex(new ProtoWriter().varint(20, 7).finish()), 'a00107');
  for (const v of [0, 127, 128, 2 ** 31, 2 ** 32 + 5, 6_000_000_000, Number.MAX_SAFE_INTEGER, -5]) {
    const bytes = new ProtoWriter().varint(3, v).finish();
    assert.deepEqual(readVarint(bytes, 1), [v, bytes.length], `varint ${v}`);
  }
  assert.throws(() => new ProtoWriter().varint(1, 1.5), /not a safe integer/);
});

void test('floats, strings and packed fields are encoded as protobuf expects', () => {
  assert.equal(hex(new ProtoWriter().float(2, 1).finish()), '150000803f'); // key (2<<3)|5, 1.0f LE
  assert.equal(hex(new ProtoWriter().string(4, 'Conv').finish()), '2204436f6e76');
  assert.equal(hex(new ProtoWriter().packedVarints(8, [1, 300]).finish()), '4203' + '01ac02');
  assert.equal(hex(new ProtoWriter().packedFloats(7, [1, -2]).finish()), '3a08' + '0000803f' + '000000c0');
  assert.equal(new ProtoWriter().packedVarints(8, []).length, 0, 'empty repeated fields are omitted');
});

void test('large byte fields are referenced, nested lengths are right', () => {
  const big = new Uint8Array(5000).map((_, i) => i % 251);
  const inner = new ProtoWriter().varint(1, 7).bytes(9, big);
  const outer = new ProtoWriter().string(2, 'x').message(5, inner);
  assert.ok(inner.chunks().includes(big), 'raw data is kept by reference');
  const bytes = outer.finish();
  assert.equal(bytes.length, outer.length);
  const [name, msg] = readFields(bytes);
  assert.equal(name?.field, 2);
  assert.equal(msg?.field, 5);
  const innerFields = readFields(msg.bytes);
  assert.equal(innerFields[0]?.num, 7);
  assert.deepEqual(innerFields[1]?.bytes, big);
});

const spec: ModelSpec = {
  irVersion: 8,
  opsetImports: [{ domain: '', version: 17 }],
  producerName: 'stunet',
  producerVersion: '0.1.0',
  metadata: [
    ['stunet.scale', 'B'],
    ['note', 'ünïcode ✓'],
  ],
  graph: {
    name: 'g',
    nodes: [
      {
        name: 'n0',
        opType: 'Conv',
        inputs: ['x', 'w', 'b'],
        outputs: ['y'],
        attributes: [
          { name: 'pads', type: 'INTS', ints: [1, 1, 1, 1, 1, 1] },
          { name: 'group', type: 'INT', i: 1 },
        ],
      },
      {
        name: 'n1',
        opType: 'Resize',
        inputs: ['y', '', 's'],
        outputs: ['z'],
        attributes: [
          { name: 'mode', type: 'STRING', s: 'nearest' },
          { name: 'epsilon', type: 'FLOAT', f: 0.5 },
          { name: 'fs', type: 'FLOATS', floats: [1.5, -2] },
          { name: 'neg', type: 'INT', i: -3 },
        ],
      },
    ],
    initializers: [
      {
        name: 'w',
        dataType: DataType.FLOAT,
        dims: [2, 1, 1, 1, 1],
        rawData: new Uint8Array(new Float32Array([1, 2]).buffer),
      },
      {
        name: 'b',
        dataType: DataType.FLOAT,
        dims: [2],
        externalData: { location: 'm.onnx.data', offset: 4096, length: 8 },
      },
      { name: 's', dataType: DataType.INT64, dims: [0], rawData: new Uint8Array(0) },
    ],
    inputs: [{ name: 'x', elemType: DataType.FLOAT, dims: ['N', 1, 'D', 'H', 'W'] }],
    outputs: [{ name: 'z', elemType: DataType.FLOAT, dims: ['N', 2, 'D', 'H', 7] }],
    valueInfo: [{ name: 'y', elemType: DataType.FLOAT, dims: [] }],
  },
};

void test('a ModelProto round-trips through encoder and decoder', () => {
  const decoded = decodeModel(encodeModel(spec).finish());
  assert.deepEqual(decoded, spec);
});

void test('the decoder accepts unpacked repeated ints (as other writers emit them)', () => {
  const attr = new ProtoWriter().string(1, 'ints').varint(20, 7).varint(8, 4).varint(8, 5);
  const node = new ProtoWriter().string(4, 'X').message(5, attr);
  const model = new ProtoWriter().varint(1, 8).message(7, new ProtoWriter().message(1, node));
  assert.deepEqual(decodeModel(model.finish()).graph.nodes[0]?.attributes, [
    { name: 'ints', type: 'INTS', ints: [4, 5] },
  ]);
});

void test('readOnnxFileInfo reads producer and metadata from a file, wherever the fields are', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stunet-proto-'));
  try {
    const path = join(dir, 'm.onnx');
    writeFileSync(path, encodeModel(spec).finish());
    assert.deepEqual(readOnnxFileInfo(path), {
      irVersion: 8,
      producerName: 'stunet',
      producerVersion: '0.1.0',
      metadata: { 'stunet.scale': 'B', note: 'ünïcode ✓' },
    });
    // metadata after a large graph field: still found, by seeking over the graph.
    const late = new ProtoWriter()
      .message(7, new ProtoWriter().bytes(99, new Uint8Array(100_000)))
      .message(14, new ProtoWriter().string(1, 'k').string(2, 'v'));
    writeFileSync(path, late.finish());
    assert.deepEqual(readOnnxFileInfo(path).metadata, { k: 'v' });
    writeFileSync(path, late.finish().subarray(0, 50_000));
    assert.throws(() => readOnnxFileInfo(path), /malformed/);
    assert.throws(() => readOnnxFileInfo(join(dir, 'missing.onnx')), /cannot open ONNX model/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('malformed protobuf fails with a clear error', () => {
  assert.throws(() => decodeModel(new Uint8Array([0x3a, 0x05, 0x01])), /malformed.*runs past the end/);
  assert.throws(() => readFields(new Uint8Array([0x08, 0x80])), /truncated varint/);
});
