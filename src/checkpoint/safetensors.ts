import { fail } from '../util/errors.js';
import { bytesSource, type ByteSource } from './zip.js';
import { concatChunks } from './zip-writer.js';
import { TorchStorage, TorchTensor, type TorchDtype } from './py-values.js';
import {
  ELEMENT_SIZE,
  contiguousStride,
  numelOf,
  tensorBytes,
  tensorFromData,
  type TensorInput,
} from './tensor.js';

/**
 * safetensors: `u64 LE header length N`, `N bytes of JSON` (padded with spaces so the data starts 8-byte
 * aligned), then one data section. The header maps each tensor name to `{dtype, shape, data_offsets}`
 * (offsets relative to the data section) and may hold `__metadata__`, a str → str map. Like the reference
 * implementation we require the tensors to tile the data section exactly: no overlap, no gap, no tail.
 */

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

const FROM_ST: Readonly<Record<string, TorchDtype>> = {
  F64: 'float64',
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  I64: 'int64',
  I32: 'int32',
  I16: 'int16',
  I8: 'int8',
  U8: 'uint8',
  BOOL: 'bool',
};

const TO_ST: Readonly<Record<TorchDtype, SafetensorsDtype>> = {
  float64: 'F64',
  float32: 'F32',
  float16: 'F16',
  bfloat16: 'BF16',
  int64: 'I64',
  int32: 'I32',
  int16: 'I16',
  int8: 'I8',
  uint8: 'U8',
  bool: 'BOOL',
};

/** The reference implementation refuses headers above 100 MB; so do we (a corrupt length would be huge). */
const MAX_HEADER = 100_000_000;

export interface SafetensorsFile {
  /**
   * In header order (as written; recovered from the JSON text, since JSON.parse moves integer-like names
   * first). Each tensor has its own storage whose bytes are a view into the input (no copy).
   */
  readonly tensors: Map<string, TorchTensor>;
  readonly metadata: Map<string, string>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function intArray(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || !v.every((x) => Number.isSafeInteger(x) && (x as number) >= 0))
    fail('BAD_INPUT', `safetensors: ${what} must be a list of non-negative ints`);
  return v as number[];
}

/**
 * Reads a safetensors file from bytes, or from a byte source (a file read piece by piece: the header, then
 * each tensor when its values are asked for, so a 5.8 GB H model folder loads tensor by tensor).
 */
export function readSafetensors(file: Uint8Array | ByteSource): SafetensorsFile {
  const src = file instanceof Uint8Array ? bytesSource(file) : file;
  if (src.size < 8) fail('BAD_INPUT', `safetensors: file too short (${src.size} bytes)`);
  const first = src.read(0, 8);
  const n = new DataView(first.buffer, first.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER))
    fail('BAD_INPUT', `safetensors: header length ${n} is implausible (corrupt file, or not safetensors)`);
  const start = 8 + Number(n);
  if (start > src.size)
    fail(
      'BAD_INPUT',
      `safetensors: header length ${n} runs past the end of the ${src.size}-byte file (truncated?)`,
    );
  let header: unknown;
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(src.read(8, start - 8));
    header = JSON.parse(text);
  } catch (e) {
    fail(
      'BAD_INPUT',
      `safetensors: header is not valid JSON (${e instanceof Error ? e.message : String(e)})`,
    );
  }
  if (!isObject(header)) fail('BAD_INPUT', 'safetensors: header must be a JSON object');
  const data = { length: src.size - start };
  const metadata = new Map<string, string>();
  const tensors = new Map<string, TorchTensor>();
  const spans: { name: string; begin: number; end: number }[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (info === null) continue;
      if (!isObject(info)) fail('BAD_INPUT', 'safetensors: __metadata__ must be an object of strings');
      for (const [k, v] of Object.entries(info)) {
        if (typeof v !== 'string') fail('BAD_INPUT', `safetensors: __metadata__['${k}'] is not a string`);
        metadata.set(k, v);
      }
      continue;
    }
    if (!isObject(info)) fail('BAD_INPUT', `safetensors: entry '${name}' must be an object`);
    const st = info.dtype;
    if (typeof st !== 'string') fail('BAD_INPUT', `safetensors: '${name}' has no dtype`);
    const dtype = FROM_ST[st];
    if (dtype === undefined)
      fail(
        'UNSUPPORTED',
        `safetensors: '${name}' has dtype ${st}; supported: ${Object.keys(FROM_ST).join(', ')}`,
      );
    const shape = intArray(info.shape, `'${name}'.shape`);
    const offs = intArray(info.data_offsets, `'${name}'.data_offsets`);
    const [begin, end] = offs;
    if (offs.length !== 2 || begin === undefined || end === undefined || end < begin)
      fail('BAD_INPUT', `safetensors: '${name}' has bad data_offsets [${offs.join(', ')}]`);
    const numel = numelOf(shape);
    const es = ELEMENT_SIZE[dtype];
    if (end - begin !== numel * es) {
      fail(
        'BAD_INPUT',
        `safetensors: '${name}' spans ${end - begin} bytes but shape [${shape.join(', ')}] × ${st} needs ${numel * es}`,
      );
    }
    if (end > data.length)
      fail(
        'BAD_INPUT',
        `safetensors: '${name}' data_offsets [${begin}, ${end}] run past the ${data.length}-byte data section (truncated file?)`,
      );
    spans.push({ name, begin, end });
    const storage = new TorchStorage(name, dtype, 'cpu', numel, new Uint8Array(0), () =>
      src.read(start + begin, end - begin),
    );
    tensors.set(name, new TorchTensor(dtype, shape, contiguousStride(shape), 0, storage));
  }
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let prev = '';
  for (const s of spans) {
    if (s.begin < at) fail('BAD_INPUT', `safetensors: tensors '${prev}' and '${s.name}' overlap`);
    if (s.begin > at)
      fail(
        'BAD_INPUT',
        `safetensors: ${s.begin - at} unused bytes before '${s.name}' (offsets must tile the data section)`,
      );
    at = s.end;
    prev = s.name;
  }
  if (at !== data.length)
    fail('BAD_INPUT', `safetensors: the data section has ${data.length - at} bytes after the last tensor`);
  const ordered = new Map<string, TorchTensor>();
  for (const k of topLevelKeys(text)) {
    const t = tensors.get(k);
    if (t !== undefined) ordered.set(k, t);
  }
  return { tensors: ordered, metadata };
}

/** The keys of a (valid) JSON object text in written order: depth-1 strings that follow '{' or ','. */
function topLevelKeys(json: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      let j = i + 1;
      while (json[j] !== '"') j += json[j] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) keys.push(JSON.parse(json.slice(i, j + 1)) as string);
      expectKey = false;
      i = j;
    } else if (c === '{' || c === '[') {
      depth++;
      expectKey = c === '{' && depth === 1;
    } else if (c === '}' || c === ']') depth--;
    else if (c === ',' && depth === 1) expectKey = true;
  }
  return keys;
}

export type SafetensorsInput =
  | Map<string, TorchTensor | TensorInput>
  | Iterable<readonly [string, TorchTensor | TensorInput]>
  | Record<string, TorchTensor | TensorInput>;

/** Writes tensors (C-order, whatever their strides) in the given order, with an optional `__metadata__`. */
/** The file as chunks (the header, then each tensor's bytes uncopied where possible): any size. */
export function writeSafetensorsChunks(
  input: SafetensorsInput,
  metadata?: Map<string, string> | Record<string, string>,
): Uint8Array[] {
  const entries: [string, TorchTensor | TensorInput][] =
    Symbol.iterator in input
      ? Array.from(input as Iterable<[string, TorchTensor | TensorInput]>)
      : Object.entries(input);
  // The JSON is assembled by hand: a JS object would move integer-like names ("0", "1") to the front.
  const obj = (pairs: readonly (readonly [string, string])[]): string =>
    `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
  const parts: [string, string][] = [];
  const meta =
    metadata === undefined ? [] : metadata instanceof Map ? [...metadata] : Object.entries(metadata);
  if (meta.length > 0)
    parts.push(['__metadata__', obj(meta.map(([k, v]) => [k, JSON.stringify(v)] as const))]);
  const names = new Set<string>();
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const [name, v] of entries) {
    if (name === '__metadata__') fail('BAD_INPUT', "safetensors: a tensor cannot be named '__metadata__'");
    if (names.has(name)) fail('BAD_INPUT', `safetensors: duplicate tensor name '${name}'`);
    names.add(name);
    const t = v instanceof TorchTensor ? v : tensorFromData(v);
    // A whole contiguous tensor is written from its own bytes (no copy: H's 5.8 GB are not doubled).
    const whole = t.isContiguous && t.storageOffset === 0 && t.numel === t.storage.numel;
    const b = whole ? t.storage.bytes.subarray(0, t.numel * ELEMENT_SIZE[t.dtype]) : tensorBytes(t);
    const info = { dtype: TO_ST[t.dtype], shape: [...t.shape], data_offsets: [offset, offset + b.length] };
    parts.push([name, JSON.stringify(info)]);
    blobs.push(b);
    offset += b.length;
  }
  let json = obj(parts);
  let hb = new TextEncoder().encode(json);
  json += ' '.repeat((8 - (hb.length % 8)) % 8);
  hb = new TextEncoder().encode(json);
  const head = new Uint8Array(8 + hb.length);
  new DataView(head.buffer).setBigUint64(0, BigInt(hb.length), true);
  head.set(hb, 8);
  return [head, ...blobs];
}

export function writeSafetensors(
  input: SafetensorsInput,
  metadata?: Map<string, string> | Record<string, string>,
): Uint8Array {
  return concatChunks(writeSafetensorsChunks(input, metadata));
}
