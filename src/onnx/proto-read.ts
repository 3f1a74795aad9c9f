import { fail, StunetError } from '../util/errors.js';
import type {
  AttributeSpec,
  ExternalDataRef,
  GraphSpec,
  ModelSpec,
  NodeSpec,
  TensorDataType,
  TensorSpec,
  ValueInfoSpec,
} from './proto.js';

/**
 * A minimal protobuf decoder for the onnx.proto subset proto.ts writes: enough to round-trip our own
 * models in tests and to read a cached model's metadata_props without loading its graph. Unknown
 * fields are skipped; repeated numeric fields are accepted packed or unpacked.
 */

export interface RawField {
  readonly field: number;
  readonly wire: number;
  /** Varint value (wire 0) or the fixed32 bit pattern read as float (wire 5). */
  readonly num: number;
  /** Payload of a length-delimited field (wire 2), a view into the input. */
  readonly bytes: Uint8Array;
}

const EMPTY = new Uint8Array(0);
export const utf8 = new TextDecoder('utf-8', { fatal: true });

export function corrupt(what: string): never {
  fail('BAD_INPUT', `ONNX protobuf is malformed (${what}); re-export the model`);
}

/** Reads a varint at `at`; returns [value, next position]. int64 negatives come back negative. */
export function readVarint(buf: Uint8Array, at: number): [number, number] {
  let result = 0n;
  let shift = 0n;
  let pos = at;
  for (;;) {
    const b = buf[pos++];
    if (b === undefined) corrupt('truncated varint');
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) break;
    shift += 7n;
    if (shift > 63n) corrupt('varint longer than 10 bytes');
  }
  return [Number(BigInt.asIntN(64, result)), pos];
}

export function readFields(buf: Uint8Array): RawField[] {
  const out: RawField[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [key, afterKey] = readVarint(buf, pos);
    const field = Math.floor(key / 8);
    const wire = key % 8;
    pos = afterKey;
    if (wire === 0) {
      const [num, next] = readVarint(buf, pos);
      out.push({ field, wire, num, bytes: EMPTY });
      pos = next;
    } else if (wire === 2) {
      const [len, next] = readVarint(buf, pos);
      if (len < 0 || next + len > buf.length) corrupt(`field ${field} runs past the end`);
      out.push({ field, wire, num: 0, bytes: buf.subarray(next, next + len) });
      pos = next + len;
    } else if (wire === 5) {
      if (pos + 4 > buf.length) corrupt('truncated fixed32');
      const num = new DataView(buf.buffer, buf.byteOffset + pos, 4).getFloat32(0, true);
      out.push({ field, wire, num, bytes: EMPTY });
      pos += 4;
    } else if (wire === 1) {
      pos += 8; // fixed64: never written by us, skipped
    } else {
      corrupt(`unsupported wire type ${wire}`);
    }
  }
  return out;
}

const text = (f: RawField): string => utf8.decode(f.bytes);

function varints(fields: readonly RawField[], field: number): number[] {
  const out: number[] = [];
  for (const f of fields) {
    if (f.field !== field) continue;
    if (f.wire === 0) out.push(f.num);
    else {
      for (let pos = 0; pos < f.bytes.length;) {
        const [v, next] = readVarint(f.bytes, pos);
        out.push(v);
        pos = next;
      }
    }
  }
  return out;
}

function floats(fields: readonly RawField[], field: number): number[] {
  const out: number[] = [];
  for (const f of fields) {
    if (f.field !== field) continue;
    if (f.wire === 5) out.push(f.num);
    else {
      const view = new DataView(f.bytes.buffer, f.bytes.byteOffset, f.bytes.length);
      for (let i = 0; i + 4 <= f.bytes.length; i += 4) out.push(view.getFloat32(i, true));
    }
  }
  return out;
}

/** Proto2 semantics: the last occurrence of a singular field wins. */
function last(fields: readonly RawField[], field: number): RawField | undefined {
  for (let i = fields.length - 1; i >= 0; i--) if (fields[i]?.field === field) return fields[i];
  return undefined;
}
const all = (fields: readonly RawField[], field: number): RawField[] =>
  fields.filter((f) => f.field === field);
const str = (fields: readonly RawField[], field: number): string => {
  const f = last(fields, field);
  return f === undefined ? '' : text(f);
};
const num = (fields: readonly RawField[], field: number): number => last(fields, field)?.num ?? 0;

export function metadataEntry(bytes: Uint8Array): [string, string] {
  const f = readFields(bytes);
  return [str(f, 1), str(f, 2)];
}

function decodeAttribute(bytes: Uint8Array): AttributeSpec {
  const f = readFields(bytes);
  const name = str(f, 1);
  switch (num(f, 20)) {
    case 1:
      return { name, type: 'FLOAT', f: num(f, 2) };
    case 2:
      return { name, type: 'INT', i: num(f, 3) };
    case 3:
      return { name, type: 'STRING', s: str(f, 4) };
    case 6:
      return { name, type: 'FLOATS', floats: floats(f, 7) };
    case 7:
      return { name, type: 'INTS', ints: varints(f, 8) };
    default:
      throw new StunetError(
        'UNSUPPORTED',
        `attribute '${name}' has type ${num(f, 20)}, which this reader does not decode`,
      );
  }
}

function decodeNode(bytes: Uint8Array): NodeSpec {
  const f = readFields(bytes);
  return {
    name: str(f, 3),
    opType: str(f, 4),
    inputs: all(f, 1).map(text),
    outputs: all(f, 2).map(text),
    attributes: all(f, 5).map((a) => decodeAttribute(a.bytes)),
  };
}

function decodeTensor(bytes: Uint8Array): TensorSpec {
  const f = readFields(bytes);
  const base = { name: str(f, 8), dataType: num(f, 2) as TensorDataType, dims: varints(f, 1) };
  if (num(f, 14) === 1) {
    const kv = new Map(all(f, 13).map((e) => metadataEntry(e.bytes)));
    const externalData: ExternalDataRef = {
      location: kv.get('location') ?? '',
      offset: Number(kv.get('offset') ?? '0'),
      length: Number(kv.get('length') ?? '-1'),
    };
    return { ...base, externalData };
  }
  return { ...base, rawData: last(f, 9)?.bytes ?? EMPTY };
}

function decodeValueInfo(bytes: Uint8Array): ValueInfoSpec {
  const f = readFields(bytes);
  const type = readFields(last(f, 2)?.bytes ?? EMPTY);
  const tensorType = readFields(last(type, 1)?.bytes ?? EMPTY);
  const shape = readFields(last(tensorType, 2)?.bytes ?? EMPTY);
  const dims = all(shape, 1).map((d): number | string => {
    const df = readFields(d.bytes);
    const param = last(df, 2);
    return param === undefined ? num(df, 1) : text(param);
  });
  return { name: str(f, 1), elemType: num(tensorType, 1) as TensorDataType, dims };
}

function decodeGraph(bytes: Uint8Array): GraphSpec {
  const f = readFields(bytes);
  return {
    name: str(f, 2),
    nodes: all(f, 1).map((n) => decodeNode(n.bytes)),
    initializers: all(f, 5).map((t) => decodeTensor(t.bytes)),
    inputs: all(f, 11).map((v) => decodeValueInfo(v.bytes)),
    outputs: all(f, 12).map((v) => decodeValueInfo(v.bytes)),
    valueInfo: all(f, 13).map((v) => decodeValueInfo(v.bytes)),
  };
}

/** Decodes a whole ModelProto. rawData fields are views into `bytes`. */
export function decodeModel(bytes: Uint8Array): ModelSpec {
  const f = readFields(bytes);
  const graph = last(f, 7);
  if (graph === undefined) fail('BAD_INPUT', 'ONNX model has no graph');
  return {
    irVersion: num(f, 1),
    producerName: str(f, 2),
    producerVersion: str(f, 3),
    opsetImports: all(f, 8).map((o) => {
      const of = readFields(o.bytes);
      return { domain: str(of, 1), version: num(of, 2) };
    }),
    graph: decodeGraph(graph.bytes),
    metadata: all(f, 14).map((e) => metadataEntry(e.bytes)),
  };
}
