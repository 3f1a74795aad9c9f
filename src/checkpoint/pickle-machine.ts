/**
 * The two halves of the unpickler's state, kept apart from its opcode switch (pickle.ts): a byte cursor that
 * reads the operands, and the value stack with its marks and memo. Every read is bounds-checked and every
 * error names the opcode's byte offset.
 */
import { fail } from '../util/errors.js';
import { describe } from './numpy.js';
import { PyDict, PySet, type PyValue } from './py-values.js';

/** Reads operands from `bytes`, starting at `pos`; `op`/`opAt` are the opcode being decoded, for errors. */
export class PickleCursor {
  op = 0;
  opAt = 0;
  readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    public pos: number,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Starts the next opcode and returns it. */
  opcode(): number {
    this.opAt = this.pos;
    this.op = this.u8();
    return this.op;
  }

  /** Claims `n` bytes and returns where they start. */
  need(n: number): number {
    if (n < 0 || this.pos + n > this.bytes.length)
      fail(
        'BAD_INPUT',
        `pickle: truncated data (opcode 0x${this.op.toString(16)} at byte ${this.opAt} needs ${n} more bytes)`,
      );
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u8(): number {
    return this.view.getUint8(this.need(1));
  }
  u16(): number {
    return this.view.getUint16(this.need(2), true);
  }
  u32(): number {
    return this.view.getUint32(this.need(4), true);
  }
  i32(): number {
    return this.view.getInt32(this.need(4), true);
  }
  /** A 64-bit length, refused when it exceeds the data (so it stays an exact number). */
  u64(): number {
    const v = this.view.getBigUint64(this.need(8), true);
    if (v > BigInt(this.bytes.length))
      fail('BAD_INPUT', `pickle: length ${v} at byte ${this.opAt} exceeds the data`);
    return Number(v);
  }
  /** A big-endian double (BINFLOAT). */
  f64be(): number {
    return this.view.getFloat64(this.need(8), false);
  }
  /** `n` bytes as a view into the input. */
  take(n: number): Uint8Array {
    const at = this.need(n);
    return this.bytes.subarray(at, this.pos);
  }
  /** The text up to the next newline (latin1), the newline consumed. */
  line(): string {
    const nl = this.bytes.indexOf(0x0a, this.pos);
    if (nl < 0)
      fail(
        'BAD_INPUT',
        `pickle: truncated data (opcode 0x${this.op.toString(16)} at byte ${this.opAt} has no newline)`,
      );
    const s = latin1(this.bytes.subarray(this.pos, nl));
    this.pos = nl + 1;
    return s;
  }
}

/** The value stack, the MARK stack and the memo; `at()` gives the current opcode's byte for errors. */
export class PickleStack {
  private stack: PyValue[] = [];
  private readonly marks: PyValue[][] = [];
  private readonly memo = new Map<number, PyValue>();

  constructor(private readonly at: () => number) {}

  // `stack` is read inside each method, after the argument was evaluated: popMark() swaps it, so a caller
  // that captured the array before calling f() in `push(f())` would push onto the discarded one.
  push(v: PyValue): void {
    this.stack.push(v);
  }
  pop(): PyValue {
    const v = this.stack.pop();
    if (v === undefined) fail('BAD_INPUT', `pickle: stack underflow at byte ${this.at()}`);
    return v;
  }
  top(): PyValue {
    const v = this.stack[this.stack.length - 1];
    if (v === undefined) fail('BAD_INPUT', `pickle: stack underflow at byte ${this.at()}`);
    return v;
  }
  mark(): void {
    this.marks.push(this.stack);
    this.stack = [];
  }
  /** The items pushed since the last MARK, which is removed. */
  popMark(): PyValue[] {
    const items = this.stack;
    const prev = this.marks.pop();
    if (prev === undefined) fail('BAD_INPUT', `pickle: MARK expected before byte ${this.at()}`);
    this.stack = prev;
    return items;
  }
  /** POP: the top value, or a bare MARK when no value sits above it. */
  discard(): void {
    if (this.stack.length > 0) this.stack.pop();
    else this.popMark();
  }
  /** STOP: the one value left, with no open MARK. */
  result(): PyValue {
    const [value] = this.stack;
    if (this.stack.length !== 1 || this.marks.length !== 0 || value === undefined)
      fail('BAD_INPUT', `pickle: STOP with ${this.stack.length} values on the stack`);
    return value;
  }

  /** PUT/BINPUT/LONG_BINPUT: memoizes the top value. */
  put(i: number): void {
    this.memo.set(i, this.top());
  }
  /** MEMOIZE: memoizes the top value at the next free index. */
  memoize(): void {
    this.memo.set(this.memo.size, this.top());
  }
  /** GET/BINGET/LONG_BINGET. */
  get(i: number): PyValue {
    const v = this.memo.get(i);
    if (v === undefined) fail('BAD_INPUT', `pickle: memo key ${i} is not defined (byte ${this.at()})`);
    return v;
  }

  /** SETITEM(S)/DICT: key/value pairs into a dict. */
  setItems(d: PyValue, kv: PyValue[]): void {
    if (!(d instanceof PyDict))
      fail('BAD_INPUT', `pickle: SETITEM(S) on a ${describe(d)} at byte ${this.at()}`);
    if (kv.length % 2 !== 0)
      fail('BAD_INPUT', `pickle: odd number of items for SETITEMS at byte ${this.at()}`);
    for (let i = 0; i < kv.length; i += 2) d.set(kv[i] as PyValue, kv[i + 1] as PyValue);
  }
  /** APPEND(S)/ADDITEMS: items into a list or a (mutable) set. */
  appendItems(l: PyValue, items: PyValue[]): void {
    if (Array.isArray(l)) for (const it of items) l.push(it);
    else if (l instanceof PySet && !l.frozen) l.items.push(...items);
    else fail('BAD_INPUT', `pickle: APPEND(S)/ADDITEMS on a ${describe(l)} at byte ${this.at()}`);
  }
}

/** Bytes as latin1 text (py2 str with encoding='latin1'; the text opcodes' lines). */
export function latin1(raw: Uint8Array): string {
  let s = '';
  for (const b of raw) s += String.fromCharCode(b);
  return s;
}

/** Little-endian two's complement, as LONG1/LONG4 store it. */
export function decodeLong(b: Uint8Array): bigint {
  if (b.length === 0) return 0n;
  // Via one hex string: shifting a growing bigint per byte would be quadratic on a hostile LONG4.
  let hex = '';
  // A copy (`new Uint8Array(b)`; a Buffer's slice() would be a view, and reverse() would flip the input).
  for (const byte of new Uint8Array(b).reverse()) hex += byte.toString(16).padStart(2, '0');
  let v = BigInt(`0x${hex}`);
  // The first hex digit is the top nibble of the most significant byte: its high bit is the sign.
  if (/^[89a-f]/.test(hex)) v -= 1n << BigInt(8 * b.length);
  return v;
}

export function parseMemoIndex(s: string): number {
  if (!/^\d+$/.test(s)) fail('BAD_INPUT', `pickle: bad memo index '${s}'`);
  return Number(s);
}
