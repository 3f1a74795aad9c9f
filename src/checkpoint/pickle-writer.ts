import { fail } from '../util/errors.js';
import { describe } from './numpy.js';
import { encodeUtf8Surrogatepass } from './pickle-text.js';
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
  type PyValue,
} from './py-values.js';
import type { TensorInput } from './py-values.js';

/**
 * A protocol-2 pickler (the protocol torch.save uses), emitting the same opcode patterns CPython does so
 * that torch.load — including its `weights_only` unpickler — accepts the result:
 * ints as BININT1/BININT2/BININT/LONG1, floats as BINFLOAT, str as BINUNICODE, bytes via `_codecs.encode`,
 * OrderedDict as `collections.OrderedDict()` + SETITEMS (+ BUILD for attributes such as `_metadata`),
 * batches of 1000 for APPENDS/SETITEMS, and a memo so a repeated object is written once.
 *
 * Number rule (mirror of the reader's): a JS number that is a safe integer (and not -0) is a Python int;
 * any other number is a float. Use {@link PyFloat} to force a float, bigint for ints beyond 2^53.
 */

/**
 * What the writers accept: any {@link PyValue}, including plain {@link TensorInput}s anywhere. (One type,
 * not a separate recursive union: typescript-eslint's no-unsafe-class-instance-assignment recurses forever
 * when it compares two different recursive unions.)
 */
export type SaveValue = PyValue;

export interface PicklerHooks {
  /** A persistent id for values stored out of band (torch storages), or undefined to pickle normally. */
  persistentId?: (v: unknown) => SaveValue | undefined;
  /** `__reduce__` override: `[callable, args]` for values the hooks own (tensors), or undefined. */
  reduce?: (v: unknown) => readonly [PyGlobal, PyTuple] | undefined;
}

const BATCH = 1000;

class ByteWriter {
  private buf = new Uint8Array(1024);
  private len = 0;
  private readonly view = (): DataView => new DataView(this.buf.buffer);
  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  byte(...b: number[]): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  u32(v: number): void {
    this.ensure(4);
    this.view().setUint32(this.len, v, true);
    this.len += 4;
  }
  i32(v: number): void {
    this.ensure(4);
    this.view().setInt32(this.len, v, true);
    this.len += 4;
  }
  f64be(v: number): void {
    this.ensure(8);
    this.view().setFloat64(this.len, v, false);
    this.len += 8;
  }
  ascii(s: string): void {
    for (let i = 0; i < s.length; i++) this.byte(s.charCodeAt(i));
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** Python's `encode_long`: minimal little-endian two's complement (0 → empty). */
export function encodeLong(x: bigint): Uint8Array {
  if (x === 0n) return new Uint8Array(0);
  const bits = (x < 0n ? -x - 1n : x).toString(2).length;
  const n = (bits >> 3) + 1;
  const out = new Uint8Array(n);
  let v = BigInt.asUintN(8 * n, x);
  for (let i = 0; i < n; i++, v >>= 8n) out[i] = Number(v & 0xffn);
  const below = out[n - 2]; // the byte under the top one (none when n is 1)
  if (x < 0n && below !== undefined && out[n - 1] === 0xff && (below & 0x80) !== 0)
    return out.subarray(0, n - 1);
  return out;
}

function isPlainTensorInput(v: unknown): v is TensorInput {
  return (
    typeof v === 'object' &&
    v !== null &&
    Object.getPrototypeOf(v) === Object.prototype &&
    'dtype' in v &&
    'data' in v
  );
}

export class Pickler {
  private readonly w = new ByteWriter();
  private readonly memo = new Map<unknown, number>();
  private readonly active = new Set<unknown>();

  constructor(private readonly hooks: PicklerHooks = {}) {}

  /** One complete pickle: PROTO 2, the value, STOP. */
  static dumps(value: SaveValue, hooks: PicklerHooks = {}): Uint8Array {
    const p = new Pickler(hooks);
    p.w.byte(0x80, 2);
    p.save(value);
    p.w.byte(0x2e);
    return p.w.result();
  }

  private memoize(key: unknown): void {
    const i = this.memo.size;
    this.memo.set(key, i);
    if (i < 256) this.w.byte(0x71, i);
    else {
      this.w.byte(0x72);
      this.w.u32(i);
    }
  }

  /** BINGET if already written; returns whether it did. */
  private fromMemo(key: unknown): boolean {
    const i = this.memo.get(key);
    if (i === undefined) return false;
    if (i < 256) this.w.byte(0x68, i);
    else {
      this.w.byte(0x6a);
      this.w.u32(i);
    }
    return true;
  }

  save(v: SaveValue): void {
    this.saveAny(v);
  }

  // Internals take `unknown` and narrow with instanceof (hooks may build tuples of any element type).
  private saveAny(v: unknown): void {
    const pid = this.hooks.persistentId?.(v);
    if (pid !== undefined) {
      this.saveAny(pid);
      this.w.byte(0x51); // BINPERSID
      return;
    }
    if (this.saveAtom(v) || this.fromMemo(v)) return;
    const red = this.hooks.reduce?.(v);
    if (red !== undefined) this.saveReduce(red[0], red[1], v);
    else this.saveObject(v);
  }

  /** None, bool, int, float, str; false for anything else. */
  private saveAtom(v: unknown): boolean {
    if (v === null) this.w.byte(0x4e);
    else if (typeof v === 'boolean') this.w.byte(v ? 0x88 : 0x89);
    else if (typeof v === 'bigint') this.saveInt(v);
    else if (typeof v === 'number') {
      if (Number.isSafeInteger(v) && !Object.is(v, -0)) this.saveInt(BigInt(v));
      else this.saveFloat(v);
    } else if (v instanceof PyFloat) this.saveFloat(v.value);
    else if (typeof v === 'string') this.saveStr(v);
    else return false;
    return true;
  }

  private saveObject(v: unknown): void {
    const builtin = (name: string): PyGlobal => new PyGlobal('__builtin__', name);
    if (v instanceof Uint8Array) this.saveBytes(v);
    else if (Array.isArray(v)) this.saveList(v);
    else if (v instanceof PyTuple) this.saveTuple(v);
    else if (v instanceof PyDict) this.saveDict(v);
    else if (v instanceof PyGlobal) this.saveGlobal(v.module, v.name);
    else if (v instanceof PySet)
      this.saveReduce(builtin(v.frozen ? 'frozenset' : 'set'), new PyTuple<unknown>([[...v.items]]), v);
    else if (v instanceof PyDevice) {
      this.saveReduce(
        new PyGlobal('torch', 'device'),
        new PyTuple<unknown>(v.index === null ? [v.type] : [v.type, v.index]),
        v,
      );
    } else if (v instanceof PyComplex)
      this.saveReduce(builtin('complex'), new PyTuple<unknown>([new PyFloat(v.re), new PyFloat(v.im)]), v);
    else if (v instanceof PySlice)
      this.saveReduce(builtin('slice'), new PyTuple<unknown>([v.start, v.stop, v.step]), v);
    else if (v instanceof NpScalar) {
      // Written as the plain Python value: torch's weights_only loader refuses numpy globals.
      const x = v.value;
      this.saveAny(typeof x === 'number' && v.dtype.startsWith('float') ? new PyFloat(x) : x);
    } else if (v instanceof NdArray || v instanceof NpDtype)
      fail(
        'UNSUPPORTED',
        'pickle writer: numpy arrays/dtypes cannot be written; convert the array to a tensor',
      );
    else if (isPlainTensorInput(v))
      fail('BAD_INPUT', 'pickle writer: tensor inputs are only accepted by saveTorch / writeSafetensors');
    else
      fail(
        'UNSUPPORTED',
        `pickle writer: cannot write a ${typeof v === 'object' ? describe(v as PyValue) : typeof v}`,
      );
  }

  private saveInt(x: bigint): void {
    if (x >= 0n && x < 256n) this.w.byte(0x4b, Number(x));
    else if (x >= 0n && x < 65536n) this.w.byte(0x4d, Number(x) & 0xff, Number(x) >> 8);
    else if (x >= -(2n ** 31n) && x < 2n ** 31n) {
      this.w.byte(0x4a);
      this.w.i32(Number(x));
    } else {
      const b = encodeLong(x);
      if (b.length < 256) this.w.byte(0x8a, b.length);
      else {
        this.w.byte(0x8b);
        this.w.u32(b.length);
      }
      this.w.bytes(b);
    }
  }

  private saveFloat(x: number): void {
    this.w.byte(0x47);
    this.w.f64be(x);
  }

  private saveStr(s: string): void {
    // Equal strings are interchangeable, so the memo is keyed by value (prefixed to stay apart from objects).
    const key = `str:${s}`;
    if (this.fromMemo(key)) return;
    const b = encodeUtf8Surrogatepass(s);
    this.w.byte(0x58);
    this.w.u32(b.length);
    this.w.bytes(b);
    this.memoize(key);
  }

  private saveBytes(b: Uint8Array): void {
    // Protocol 2 has no bytes opcode for Python 3: CPython writes bytes() or _codecs.encode(latin1 str, 'latin1').
    if (b.length === 0) {
      this.saveReduce(new PyGlobal('__builtin__', 'bytes'), new PyTuple<unknown>([]), b);
      return;
    }
    let s = '';
    for (const c of b) s += String.fromCharCode(c);
    this.saveReduce(new PyGlobal('_codecs', 'encode'), new PyTuple<unknown>([s, 'latin1']), b);
  }

  private saveGlobal(module: string, name: string): void {
    const key = `global:${module}.${name}`; // memoized by name, like CPython's memo of the class object
    if (this.fromMemo(key)) return;
    this.w.byte(0x63);
    this.w.ascii(`${module}\n${name}\n`);
    this.memoize(key);
  }

  private saveReduce(fn: PyGlobal, args: PyTuple<unknown>, obj: unknown): void {
    this.saveGlobal(fn.module, fn.name);
    this.saveTuple(args);
    this.w.byte(0x52); // REDUCE
    this.memoize(obj);
  }

  private saveTuple(t: PyTuple<unknown>): void {
    if (t.items.length === 0) {
      this.w.byte(0x29);
      return;
    }
    if (this.fromMemo(t)) return;
    if (this.active.has(t)) fail('BAD_INPUT', 'pickle writer: a tuple contains itself');
    this.active.add(t);
    const n = t.items.length;
    if (n > 3) this.w.byte(0x28);
    for (const it of t.items) this.saveAny(it);
    this.w.byte(n === 1 ? 0x85 : n === 2 ? 0x86 : n === 3 ? 0x87 : 0x74);
    this.active.delete(t);
    this.memoize(t);
  }

  private saveList(l: readonly unknown[]): void {
    this.w.byte(0x5d); // EMPTY_LIST
    this.memoize(l); // before the items, so a list may contain itself
    for (let i = 0; i < l.length; i += BATCH) {
      const batch = l.slice(i, i + BATCH);
      if (batch.length === 1) {
        this.saveAny(batch[0]);
        this.w.byte(0x61); // APPEND
      } else {
        this.w.byte(0x28);
        for (const it of batch) this.saveAny(it);
        this.w.byte(0x65); // APPENDS
      }
    }
  }

  private saveDict(d: PyDict<unknown>): void {
    if (d.ordered) {
      this.saveGlobal('collections', 'OrderedDict');
      this.w.byte(0x29, 0x52); // EMPTY_TUPLE, REDUCE
    } else this.w.byte(0x7d); // EMPTY_DICT
    this.memoize(d);
    const entries = d.entries();
    for (let i = 0; i < entries.length; i += BATCH) {
      const batch = entries.slice(i, i + BATCH);
      if (batch.length === 1) {
        const [k, v] = batch[0] as [PyValue, unknown];
        this.saveAny(k);
        this.saveAny(v);
        this.w.byte(0x73); // SETITEM
      } else {
        this.w.byte(0x28);
        for (const [k, v] of batch) {
          this.saveAny(k);
          this.saveAny(v);
        }
        this.w.byte(0x75); // SETITEMS
      }
    }
    if (d.attrs.size > 0) {
      // OrderedDict.__reduce__ state is vars(self): written after the items, then BUILD.
      this.saveAny(new PyDict(false, d.attrs));
      this.w.byte(0x62);
    }
  }
}
