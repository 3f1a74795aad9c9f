import { fail } from '../util/errors.js';

/**
 * A hand-written protobuf encoder for the subset of onnx.proto (proto2 syntax) that the exporter emits.
 * Field numbers are from onnx/onnx.proto; the decoder in proto-read.ts mirrors them.
 *
 * Output is a list of chunks: small fields accumulate in a scratch buffer, big byte fields (tensor
 * raw_data, nested messages) are kept by reference, so a 1.5 GB inline model is copied exactly once,
 * by `finish()`. Repeated numeric fields are written packed: parsers must accept packed and unpacked
 * alike, even for proto2 fields not declared `[packed = true]` (protobuf encoding spec).
 */

/** TensorProto.DataType values we emit. */
export const DataType = { FLOAT: 1, INT64: 7 } as const;
export type TensorDataType = (typeof DataType)[keyof typeof DataType];

/** AttributeProto.AttributeType values. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

export type AttributeSpec =
  | { readonly name: string; readonly type: 'FLOAT'; readonly f: number }
  | { readonly name: string; readonly type: 'INT'; readonly i: number }
  | { readonly name: string; readonly type: 'STRING'; readonly s: string }
  | { readonly name: string; readonly type: 'FLOATS'; readonly floats: readonly number[] }
  | { readonly name: string; readonly type: 'INTS'; readonly ints: readonly number[] };

export interface NodeSpec {
  readonly name: string;
  readonly opType: string;
  /** '' marks an omitted optional input (e.g. Resize's roi). */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: readonly AttributeSpec[];
}

/** Where an initializer's bytes live in the side file; location is relative to the model file's folder. */
export interface ExternalDataRef {
  readonly location: string;
  readonly offset: number;
  readonly length: number;
}

/** Exactly one of rawData / externalData is set. rawData is little-endian, as ONNX requires. */
export interface TensorSpec {
  readonly name: string;
  readonly dataType: TensorDataType;
  readonly dims: readonly number[];
  readonly rawData?: Uint8Array;
  readonly externalData?: ExternalDataRef;
}

/** A dimension is a fixed size (dim_value) or a symbolic name (dim_param). */
export interface ValueInfoSpec {
  readonly name: string;
  readonly elemType: TensorDataType;
  readonly dims: readonly (number | string)[];
}

export interface GraphSpec {
  readonly name: string;
  readonly nodes: readonly NodeSpec[];
  readonly initializers: readonly TensorSpec[];
  readonly inputs: readonly ValueInfoSpec[];
  readonly outputs: readonly ValueInfoSpec[];
  readonly valueInfo: readonly ValueInfoSpec[];
}

export interface ModelSpec {
  readonly irVersion: number;
  readonly opsetImports: readonly { readonly domain: string; readonly version: number }[];
  readonly producerName: string;
  readonly producerVersion: string;
  readonly graph: GraphSpec;
  readonly metadata: readonly (readonly [string, string])[];
}

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;
/** Nested messages smaller than this are copied into the parent's scratch instead of referenced. */
const INLINE_COPY_LIMIT = 1024;
const utf8 = new TextEncoder();

export class ProtoWriter {
  private readonly parts: Uint8Array[] = [];
  private scratch = new Uint8Array(256);
  private used = 0;
  private flushedBytes = 0;

  get length(): number {
    return this.flushedBytes + this.used;
  }

  /** Varint field (int64/int32/enum). Negative values take ten bytes, as int64 two's complement. */
  varint(field: number, value: number): this {
    this.tag(field, WIRE_VARINT);
    this.rawVarint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    this.ensure(4);
    new DataView(this.scratch.buffer).setFloat32(this.used, value, true);
    this.used += 4;
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  /** Length-delimited bytes; large arrays are referenced, not copied, so keep them unchanged until finish(). */
  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LEN);
    this.rawVarint(value.length);
    this.append(value);
    return this;
  }

  message(field: number, sub: ProtoWriter): this {
    this.tag(field, WIRE_LEN);
    this.rawVarint(sub.length);
    for (const chunk of sub.chunks()) this.append(chunk);
    return this;
  }

  packedVarints(field: number, values: readonly number[]): this {
    if (values.length === 0) return this;
    const body = new ProtoWriter();
    for (const v of values) body.rawVarint(v);
    return this.message(field, body);
  }

  packedFloats(field: number, values: readonly number[]): this {
    if (values.length === 0) return this;
    const body = new Uint8Array(values.length * 4);
    const view = new DataView(body.buffer);
    values.forEach((v, i) => {
      view.setFloat32(i * 4, v, true);
    });
    return this.bytes(field, body);
  }

  /** The encoded message as chunks, for streaming to a file without one big copy. */
  chunks(): readonly Uint8Array[] {
    this.flush();
    return this.parts;
  }

  finish(): Uint8Array {
    const chunks = this.chunks();
    if (chunks.length === 1 && chunks[0] !== undefined) return chunks[0];
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  private tag(field: number, wire: number): void {
    this.rawVarint(field * 8 + wire);
  }

  private rawVarint(value: number): void {
    if (!Number.isSafeInteger(value)) fail('BAD_INPUT', `protobuf: ${value} is not a safe integer`);
    this.ensure(10);
    if (value < 0) {
      let b = BigInt.asUintN(64, BigInt(value));
      while (b >= 0x80n) {
        this.scratch[this.used++] = Number(b & 0x7fn) | 0x80;
        b >>= 7n;
      }
      this.scratch[this.used++] = Number(b);
      return;
    }
    // Division, not bit shifts: values may exceed 2^31 (byte offsets, lengths).
    let v = value;
    while (v >= 0x80) {
      this.scratch[this.used++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.scratch[this.used++] = v;
  }

  private append(bytes: Uint8Array): void {
    if (bytes.length <= INLINE_COPY_LIMIT) {
      this.ensure(bytes.length);
      this.scratch.set(bytes, this.used);
      this.used += bytes.length;
      return;
    }
    this.flush();
    this.parts.push(bytes);
    this.flushedBytes += bytes.length;
  }

  private ensure(extra: number): void {
    if (this.used + extra <= this.scratch.length) return;
    const grown = new Uint8Array(Math.max(this.scratch.length * 2, this.used + extra));
    grown.set(this.scratch.subarray(0, this.used));
    this.scratch = grown;
  }

  private flush(): void {
    if (this.used === 0) return;
    this.parts.push(this.scratch.slice(0, this.used));
    this.flushedBytes += this.used;
    this.used = 0;
  }
}

// --- onnx.proto messages -----------------------------------------------------------------------------

function encodeAttribute(a: AttributeSpec): ProtoWriter {
  const w = new ProtoWriter().string(1, a.name).varint(20, AttributeType[a.type]);
  switch (a.type) {
    case 'FLOAT':
      return w.float(2, a.f);
    case 'INT':
      return w.varint(3, a.i);
    case 'STRING':
      return w.string(4, a.s);
    case 'FLOATS':
      return w.packedFloats(7, a.floats);
    case 'INTS':
      return w.packedVarints(8, a.ints);
  }
}

function encodeNode(n: NodeSpec): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name).string(4, n.opType);
  for (const a of n.attributes) w.message(5, encodeAttribute(a));
  return w;
}

function encodeEntry(key: string, value: string): ProtoWriter {
  return new ProtoWriter().string(1, key).string(2, value);
}

function encodeTensor(t: TensorSpec): ProtoWriter {
  const w = new ProtoWriter().packedVarints(1, t.dims).varint(2, t.dataType).string(8, t.name);
  if ((t.rawData === undefined) === (t.externalData === undefined)) {
    fail('BAD_INPUT', `initializer '${t.name}': set exactly one of rawData and externalData`);
  }
  if (t.rawData !== undefined) w.bytes(9, t.rawData);
  if (t.externalData !== undefined) {
    const e = t.externalData;
    w.message(13, encodeEntry('location', e.location));
    w.message(13, encodeEntry('offset', String(e.offset)));
    w.message(13, encodeEntry('length', String(e.length)));
    w.varint(14, 1); // data_location = EXTERNAL
  }
  return w;
}

function encodeValueInfo(v: ValueInfoSpec): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.dims) {
    const dim = typeof d === 'number' ? new ProtoWriter().varint(1, d) : new ProtoWriter().string(2, d);
    shape.message(1, dim);
  }
  const tensorType = new ProtoWriter().varint(1, v.elemType).message(2, shape);
  return new ProtoWriter().string(1, v.name).message(2, new ProtoWriter().message(1, tensorType));
}

function encodeGraph(g: GraphSpec): ProtoWriter {
  const w = new ProtoWriter();
  for (const n of g.nodes) w.message(1, encodeNode(n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, encodeTensor(t));
  for (const v of g.inputs) w.message(11, encodeValueInfo(v));
  for (const v of g.outputs) w.message(12, encodeValueInfo(v));
  for (const v of g.valueInfo) w.message(13, encodeValueInfo(v));
  return w;
}

/**
 * Encodes a ModelProto. metadata_props are written before the graph so a reader looking only for
 * metadata finds it near the start of the file (proto-read.ts still handles any order).
 */
export function encodeModel(m: ModelSpec): ProtoWriter {
  const w = new ProtoWriter().varint(1, m.irVersion).string(2, m.producerName).string(3, m.producerVersion);
  for (const o of m.opsetImports) w.message(8, new ProtoWriter().string(1, o.domain).varint(2, o.version));
  for (const [k, v] of m.metadata) w.message(14, encodeEntry(k, v));
  w.message(7, encodeGraph(m.graph));
  return w;
}
