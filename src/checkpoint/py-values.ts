import { fail } from '../util/errors.js';
import type { NpyData, NpyDtype } from '../io/npy.js';

/**
 * The JS model of decoded Python values. Rules (shared by the unpickler and the pickle writer):
 *
 * - `None` → `null`; `bool` → `boolean`; `str` → `string`; `bytes`/`bytearray` → `Uint8Array`; `list` → JS array.
 * - `int` → `number` when it is a safe integer (|v| ≤ 2^53 − 1), otherwise `bigint`. Every int decoder goes
 *   through {@link pyInt}, so the rule is the same for BININT, LONG1, text INT, numpy int64 scalars, ….
 * - `float` → `number`. Trap: a Python float with an integral value (`2.0`) decodes to the JS number `2`, which
 *   the writer would save back as the int `2`; wrap it in {@link PyFloat} to force a float on save, or decode
 *   with `exactFloats: true`, which returns such floats as PyFloat (for exact decode → save round trips).
 * - `tuple` → {@link PyTuple}; `dict` and `collections.OrderedDict` → {@link PyDict} (insertion ordered, any
 *   hashable key, `ordered` flag, BUILD state such as a state_dict's `_metadata` in `attrs`).
 * - torch tensors → {@link TorchTensor} over a shared {@link TorchStorage}; numpy → {@link NdArray} / {@link NpScalar}.
 * - {@link TensorInput} (plain `{dtype, shape, data}`) is write-only: the writers turn it into a tensor.
 */
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyValue[]
  | PyTuple
  | PyDict
  | PySet
  | PyFloat
  | PyComplex
  | PySlice
  | PyGlobal
  | PyDevice
  | NpDtype
  | NdArray
  | NpScalar
  | TorchStorage
  | TorchTensor
  | TensorInput;

export type TorchDtype =
  'float32' | 'float16' | 'bfloat16' | 'float64' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

/** The "natural" typed array of each dtype. fp16/bf16 are raw bit patterns (Node 20 has no Float16Array). */
export type TorchTypedArray =
  | Float32Array
  | Float64Array
  | Uint16Array
  | BigInt64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array;

/**
 * A tensor given as plain data, accepted by the writers anywhere a value may go. Readers never produce
 * it; it is part of {@link PyValue} so that one recursive type serves both directions.
 */
export interface TensorInput {
  readonly dtype: TorchDtype;
  readonly shape: readonly number[];
  /**
   * C-order values, one per element. float16/bfloat16 take raw bits (Uint16Array) or a Float32Array that is
   * rounded to nearest-even; bool takes 0/1 bytes.
   */
  readonly data: TorchTypedArray;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** The one int rule: safe integers are numbers, everything else stays an exact bigint. */
export function pyInt(v: bigint): number | bigint {
  return v <= MAX_SAFE && v >= -MAX_SAFE ? Number(v) : v;
}

/** A Python tuple. Immutable; `items` is the element list. Generic so the writer can hold tensor inputs. */
export class PyTuple<V = PyValue> implements Iterable<V> {
  readonly items: readonly V[];
  constructor(items: readonly V[]) {
    this.items = items;
  }
  get length(): number {
    return this.items.length;
  }
  at(i: number): V | undefined {
    return this.items.at(i);
  }
  [Symbol.iterator](): Iterator<V> {
    return this.items[Symbol.iterator]();
  }
}

/** Forces a Python float on save for integral values (`new PyFloat(2)` pickles as `2.0`). */
export class PyFloat {
  constructor(readonly value: number) {}
}

export class PyComplex {
  constructor(
    readonly re: number,
    readonly im: number,
  ) {}
}

export class PySlice {
  constructor(
    readonly start: PyValue,
    readonly stop: PyValue,
    readonly step: PyValue,
  ) {}
}

/** `set` / `frozenset`. Items are kept in pickle order; equal items are not merged (we never need lookups). */
export class PySet {
  constructor(
    readonly items: PyValue[],
    readonly frozen: boolean,
  ) {}
}

/**
 * A whitelisted Python name that appears as a value rather than being called: a class (`numpy.ndarray`,
 * `torch.FloatStorage`) or a constant such as the dtype object `torch.float16` or the layout `torch.strided`.
 */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** `torch.device('cuda', 0)` → `{ type: 'cuda', index: 0 }`. */
export class PyDevice {
  constructor(
    readonly type: string,
    readonly index: number | null,
  ) {}
  toString(): string {
    return this.index === null ? this.type : `${this.type}:${this.index}`;
  }
}

/** Hash key of a hashable Python value, following Python equality: `1 == 1.0 == True` share a key. */
export function hashKey(key: unknown): string {
  if (key === null) return 'N';
  if (typeof key === 'string') return `s${key}`;
  if (typeof key === 'boolean') return key ? 'i1' : 'i0';
  if (typeof key === 'bigint') return `i${key}`;
  if (typeof key === 'number') {
    if (Number.isInteger(key)) return `i${BigInt(key)}`;
    return Number.isNaN(key) ? 'fNaN' : `f${key}`;
  }
  if (key instanceof PyFloat) return hashKey(key.value);
  if (key instanceof Uint8Array)
    return `b${Array.from(key, (b) => b.toString(16).padStart(2, '0')).join('')}`;
  if (key instanceof PyTuple) return `t(${(key.items as unknown[]).map(hashKey).join(',')})`;
  if (key instanceof PyGlobal) return `g${key.qualifiedName}`;
  if (key instanceof NpScalar) return hashKey(key.value);
  if (key instanceof PyDevice) return `d${key.toString()}`;
  const what = Array.isArray(key)
    ? 'list'
    : key instanceof PyDict
      ? 'dict'
      : typeof key === 'object'
        ? key.constructor.name
        : typeof key;
  return fail('BAD_INPUT', `pickle: unhashable dict key of type ${what}`);
}

/**
 * `dict` / `collections.OrderedDict`. Python equality semantics for keys (see {@link hashKey}); setting an
 * existing key keeps its position, like Python. `attrs` holds BUILD state: torch state dicts keep their
 * `_metadata` (per-module version numbers) there.
 */
export class PyDict<V = PyValue> implements Iterable<[PyValue, V]> {
  readonly attrs = new Map<string, PyValue>();
  private readonly map = new Map<string, [PyValue, V]>();

  // NoInfer: `new PyDict(false, [['a', 1], ['b', true]])` is a PyDict<PyValue>, not an error about number.
  constructor(
    readonly ordered = false,
    entries?: Iterable<readonly [PyValue, NoInfer<V>]>,
  ) {
    if (entries !== undefined) for (const [k, v] of entries) this.set(k, v);
  }

  /** An OrderedDict from string-keyed entries (what `state_dict()` returns). */
  static ordered<V>(entries: Iterable<readonly [PyValue, V]> | Record<string, V>): PyDict<V> {
    return new PyDict<V>(true, isIterable(entries) ? entries : Object.entries(entries));
  }

  get size(): number {
    return this.map.size;
  }
  get(key: PyValue): V | undefined {
    return this.map.get(hashKey(key))?.[1];
  }
  /** Like `get`, but a missing key is a NOT_FOUND error that lists the keys that do exist. */
  require(key: PyValue): V {
    const hit = this.map.get(hashKey(key));
    if (hit === undefined) {
      const have = this.keys().slice(0, 12).map(keyText).join(', ');
      fail('NOT_FOUND', `key ${keyText(key)} not found; keys are: ${have}${this.size > 12 ? ', …' : ''}`);
    }
    return hit[1];
  }
  has(key: PyValue): boolean {
    return this.map.has(hashKey(key));
  }
  set(key: PyValue, value: V): this {
    const h = hashKey(key);
    const old = this.map.get(h);
    if (old === undefined) this.map.set(h, [key, value]);
    else old[1] = value; // Python keeps the first-inserted key object and position
    return this;
  }
  delete(key: PyValue): boolean {
    return this.map.delete(hashKey(key));
  }
  keys(): PyValue[] {
    return Array.from(this.map.values(), (e) => e[0]);
  }
  values(): V[] {
    return Array.from(this.map.values(), (e) => e[1]);
  }
  entries(): [PyValue, V][] {
    return Array.from(this.map.values(), (e) => [e[0], e[1]]);
  }
  [Symbol.iterator](): Iterator<[PyValue, V]> {
    return this.entries()[Symbol.iterator]();
  }
  /** The `_metadata` attribute torch attaches to state dicts (an OrderedDict of `{version: n}`), if any. */
  get metadata(): PyValue | undefined {
    return this.attrs.get('_metadata');
  }
}

function isIterable<T>(v: unknown): v is Iterable<T> {
  return typeof v === 'object' && v !== null && Symbol.iterator in v;
}

function keyText(key: PyValue): string {
  return pyRepr(key);
}

/** A short Python-like rendering for error messages: `'name'`, `3`, `(1, 2)`, `None`, `<PyDict>`. */
export function pyRepr(v: PyValue | undefined): string {
  if (v === undefined) return '<missing>';
  if (v === null) return 'None';
  if (typeof v === 'string') return `'${v.length > 60 ? `${v.slice(0, 60)}…` : v}'`;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number' || typeof v === 'bigint') return v.toString();
  if (v instanceof PyTuple)
    return `(${v.items.slice(0, 6).map(pyRepr).join(', ')}${v.length > 6 ? ', …' : v.length === 1 ? ',' : ''})`;
  if (v instanceof PyGlobal) return v.qualifiedName;
  return `<${Array.isArray(v) ? 'list' : v.constructor.name}>`;
}

/** `numpy.dtype`: a typecode such as `f8` plus the byte order set by its BUILD state (`<`, `>`, `|`, `=`). */
export class NpDtype {
  byteOrder: string;
  constructor(readonly typecode: string) {
    // numpy's own default until BUILD says otherwise: single-byte types have no order.
    this.byteOrder = /^[biu]1$/.test(typecode) ? '|' : '<';
  }
  /** The npy `descr`, e.g. `<f8`, `|b1`. `=` (native) is written as `<`: we only run on little-endian hosts. */
  get descr(): string {
    return `${this.byteOrder === '=' ? '<' : this.byteOrder}${this.typecode}`;
  }
}

/**
 * A numpy array. `data` is C-order whatever `fortranOrder` says (Fortran arrays are reordered on decode);
 * float16 is widened to float32 and bool is 0/1 bytes, as in `src/io/npy.ts`. Filled in by BUILD: until the
 * pickle's BUILD runs, `shape` is `[0]` and `data` empty.
 */
export class NdArray {
  dtype: NpyDtype = 'float64';
  descr = '<f8';
  shape: number[] = [0];
  fortranOrder = false;
  data: NpyData = new Float64Array(0);
}

/** A numpy scalar (`np.float64(0.5)`, `np.int64(3)`, `np.bool_(True)`). Ints follow {@link pyInt}. */
export class NpScalar {
  constructor(
    readonly dtype: NpyDtype,
    readonly descr: string,
    readonly value: number | bigint | boolean,
  ) {}
}

/**
 * One torch storage: a flat run of `numel` elements of `dtype`. Tensors that are views of the same storage
 * share this object. `bytes` is little-endian raw data (a view into the checkpoint buffer when possible).
 */
export class TorchStorage {
  private data: Uint8Array;

  constructor(
    readonly key: string,
    readonly dtype: TorchDtype,
    readonly location: string,
    readonly numel: number,
    /** Filled later for legacy files, whose storages follow the pickle. */
    bytes: Uint8Array,
    /**
     * Reads the bytes on each access instead (a checkpoint read from a file piece by piece): storages
     * nobody asks for, such as the optimizer's momentum buffers, are never read, and none is kept.
     */
    private readonly load: (() => Uint8Array) | null = null,
  ) {
    this.data = bytes;
  }

  get bytes(): Uint8Array {
    return this.load === null ? this.data : this.load();
  }

  set bytes(b: Uint8Array) {
    this.data = b;
  }
}

/** A strided view into a {@link TorchStorage}: element (i0, i1, …) lives at `storageOffset + Σ ik·stride[k]`. */
export class TorchTensor {
  constructor(
    readonly dtype: TorchDtype,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
    readonly storageOffset: number,
    readonly storage: TorchStorage,
    readonly requiresGrad = false,
    /** True when pickled as an `nn.Parameter` (`torch._utils._rebuild_parameter`). */
    readonly isParameter = false,
  ) {}
  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
  /** C-contiguous (dims of size 1 may carry any stride, as in torch). */
  get isContiguous(): boolean {
    let expected = 1;
    for (const [d, size] of [...this.shape.entries()].reverse()) {
      if (size === 0) return true;
      if (size !== 1 && this.stride[d] !== expected) return false;
      expected *= size;
    }
    return true;
  }
}
