import { fail } from '../util/errors.js';
import { describe } from './numpy.js';
import { buildObject, callGlobal, resolveGlobal } from './pickle-globals.js';
import { PyDict, PyFloat, PySet, PyTuple, pyInt, type PyValue } from './py-values.js';
import {
  decodeUtf8Surrogatepass,
  parseTextFloat,
  parseTextInt,
  unescapeRawUnicode,
  unescapeStringRepr,
} from './pickle-text.js';

/**
 * A whitelist unpickler for protocols 0–5. It is a pure stack machine over the opcodes: no Python is run, no
 * name outside the whitelist in pickle-globals.ts is resolved, and there are no side effects. Unknown opcodes
 * and globals are UNSAFE_PICKLE errors; malformed input is BAD_INPUT.
 */

export interface UnpickleOptions {
  /** Called for PERSID/BINPERSID (torch storages). Without it a persistent id is an error. */
  persistentLoad?: (pid: PyValue) => PyValue;
  /** Where in `bytes` the pickle starts (legacy torch files hold several pickles back to back). */
  offset?: number;
  /**
   * Decode Python floats with an integral value (`2.0`) as {@link PyFloat} instead of a plain number, so a
   * decode → save round trip keeps them floats. Default false (plain numbers; see py-values.ts).
   */
  exactFloats?: boolean;
}

export interface UnpickleResult {
  value: PyValue;
  /** Byte just past the STOP opcode. */
  end: number;
}

/** Decodes one pickle; see {@link unpickleAt} for back-to-back pickles. */
export function unpickle(bytes: Uint8Array, opts: UnpickleOptions = {}): PyValue {
  return unpickleAt(bytes, opts).value;
}

const MARK = 0x28;

export function unpickleAt(bytes: Uint8Array, opts: UnpickleOptions = {}): UnpickleResult {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = opts.offset ?? 0;
  let stack: PyValue[] = [];
  const marks: PyValue[][] = [];
  const memo = new Map<number, PyValue>();
  let op = 0;
  let opAt = 0;

  const need = (n: number): number => {
    if (n < 0 || pos + n > bytes.length)
      fail(
        'BAD_INPUT',
        `pickle: truncated data (opcode 0x${op.toString(16)} at byte ${opAt} needs ${n} more bytes)`,
      );
    const at = pos;
    pos += n;
    return at;
  };
  const u8 = (): number => bytes[need(1)] as number;
  const u16 = (): number => view.getUint16(need(2), true);
  const u32 = (): number => view.getUint32(need(4), true);
  const u64 = (): number => {
    const v = view.getBigUint64(need(8), true);
    if (v > BigInt(bytes.length)) fail('BAD_INPUT', `pickle: length ${v} at byte ${opAt} exceeds the data`);
    return Number(v);
  };
  const take = (n: number): Uint8Array => bytes.subarray(need(n), pos);
  const line = (): string => {
    const nl = bytes.indexOf(0x0a, pos);
    if (nl < 0)
      fail(
        'BAD_INPUT',
        `pickle: truncated data (opcode 0x${op.toString(16)} at byte ${opAt} has no newline)`,
      );
    let s = '';
    for (let i = pos; i < nl; i++) s += String.fromCharCode(bytes[i] as number);
    pos = nl + 1;
    return s;
  };
  // Always push through this helper: in `stack.push(f())` the old array is captured before f() runs, and
  // popMark() swaps `stack`, so TUPLE/LIST/… would push onto the discarded array.
  const push = (v: PyValue): void => {
    stack.push(v);
  };
  const pop = (): PyValue => {
    if (stack.length === 0) fail('BAD_INPUT', `pickle: stack underflow at byte ${opAt}`);
    return stack.pop() as PyValue;
  };
  const top = (): PyValue => {
    if (stack.length === 0) fail('BAD_INPUT', `pickle: stack underflow at byte ${opAt}`);
    return stack[stack.length - 1] as PyValue;
  };
  const popMark = (): PyValue[] => {
    const items = stack;
    const prev = marks.pop();
    if (prev === undefined) fail('BAD_INPUT', `pickle: MARK expected before byte ${opAt}`);
    stack = prev;
    return items;
  };
  const getMemo = (i: number): PyValue => {
    if (!memo.has(i)) fail('BAD_INPUT', `pickle: memo key ${i} is not defined (byte ${opAt})`);
    return memo.get(i) as PyValue;
  };
  const setItems = (d: PyValue, kv: PyValue[]): void => {
    if (!(d instanceof PyDict)) fail('BAD_INPUT', `pickle: SETITEM(S) on a ${describe(d)} at byte ${opAt}`);
    if (kv.length % 2 !== 0) fail('BAD_INPUT', `pickle: odd number of items for SETITEMS at byte ${opAt}`);
    for (let i = 0; i < kv.length; i += 2) d.set(kv[i] as PyValue, kv[i + 1] as PyValue);
  };
  const appendItems = (l: PyValue, items: PyValue[]): void => {
    if (Array.isArray(l)) for (const it of items) l.push(it);
    else if (l instanceof PySet && !l.frozen) l.items.push(...items);
    else fail('BAD_INPUT', `pickle: APPEND(S)/ADDITEMS on a ${describe(l)} at byte ${opAt}`);
  };
  const str = (raw: Uint8Array): string => decodeUtf8Surrogatepass(raw);
  const latin1 = (raw: Uint8Array): string => {
    let s = '';
    for (const b of raw) s += String.fromCharCode(b);
    return s;
  };
  const float = (x: number): PyValue =>
    opts.exactFloats === true && Number.isInteger(x) && !Object.is(x, -0) ? new PyFloat(x) : x;
  const persistent = (pid: PyValue): PyValue => {
    if (opts.persistentLoad === undefined)
      fail(
        'BAD_INPUT',
        `pickle: persistent id at byte ${opAt} but this is not a torch checkpoint (use loadTorch)`,
      );
    return opts.persistentLoad(pid);
  };

  for (;;) {
    opAt = pos;
    op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('UNSUPPORTED', `pickle: protocol ${bytes[pos - 1]} is newer than 5`);
        break;
      case 0x95: // FRAME: only a read-ahead hint
        u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || marks.length !== 0)
          fail('BAD_INPUT', `pickle: STOP with ${stack.length} values on the stack`);
        return { value: stack[0] as PyValue, end: pos };
      case MARK:
        marks.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        if (stack.length > 0) stack.pop();
        else popMark(); // popping a bare MARK
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        push(top());
        break;

      // --- scalars
      case 0x4e: // NONE
        push(null);
        break;
      case 0x88: // NEWTRUE
        push(true);
        break;
      case 0x89: // NEWFALSE
        push(false);
        break;
      case 0x4a: // BININT (signed 32)
        push(view.getInt32(need(4), true));
        break;
      case 0x4b: // BININT1
        push(u8());
        break;
      case 0x4d: // BININT2
        push(u16());
        break;
      case 0x8a: // LONG1
        push(pyInt(decodeLong(take(u8()))));
        break;
      case 0x8b: // LONG4
        push(pyInt(decodeLong(take(u32()))));
        break;
      case 0x49: // INT (text; I01/I00 are the protocol-0 bools)
        push(parseTextInt(line(), true));
        break;
      case 0x4c: // LONG (text, trailing L)
        push(parseTextInt(line(), false));
        break;
      case 0x47: // BINFLOAT (big-endian double)
        push(float(view.getFloat64(need(8), false)));
        break;
      case 0x46: // FLOAT (text)
        push(float(parseTextFloat(line())));
        break;

      // --- strings and bytes
      case 0x8c: // SHORT_BINUNICODE
        push(str(take(u8())));
        break;
      case 0x58: // BINUNICODE
        push(str(take(u32())));
        break;
      case 0x8d: // BINUNICODE8
        push(str(take(u64())));
        break;
      case 0x56: // UNICODE (raw-unicode-escape text)
        push(unescapeRawUnicode(line()));
        break;
      case 0x43: // SHORT_BINBYTES
        push(take(u8()).slice());
        break;
      case 0x42: // BINBYTES
        push(take(u32()).slice());
        break;
      case 0x8e: // BINBYTES8
        push(take(u64()).slice());
        break;
      case 0x96: // BYTEARRAY8
        push(take(u64()).slice());
        break;
      case 0x55: // SHORT_BINSTRING (py2 str, decoded as latin1 like Python's encoding='latin1')
        push(latin1(take(u8())));
        break;
      case 0x54: // BINSTRING
        push(latin1(take(view.getInt32(need(4), true))));
        break;
      case 0x53: // STRING (py2 repr text)
        push(unescapeStringRepr(line()));
        break;
      case 0x98: // READONLY_BUFFER: no-op on our immutable-enough bytes
        break;
      case 0x97: // NEXT_BUFFER
        fail('UNSUPPORTED', 'pickle: out-of-band buffers (protocol 5 NEXT_BUFFER) are not supported');
        break;

      // --- containers
      case 0x29: // EMPTY_TUPLE
        push(new PyTuple([]));
        break;
      case 0x85: // TUPLE1
        push(new PyTuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        push(new PyTuple([pop(), b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        push(new PyTuple([pop(), b, c]));
        break;
      }
      case 0x74: // TUPLE
        push(new PyTuple(popMark()));
        break;
      case 0x5d: // EMPTY_LIST
        push([]);
        break;
      case 0x6c: // LIST
        push(popMark());
        break;
      case 0x61: {
        // APPEND
        const v = pop();
        appendItems(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        push(new PyDict());
        break;
      case 0x64: {
        // DICT
        const d = new PyDict();
        setItems(d, popMark());
        push(d);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const kv = popMark();
        setItems(top(), kv);
        break;
      }
      case 0x8f: // EMPTY_SET
        push(new PySet([], false));
        break;
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x91: // FROZENSET
        push(new PySet(popMark(), true));
        break;

      // --- memo
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x70: // PUT
        memo.set(parseMemoIndex(line()), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
        push(getMemo(u8()));
        break;
      case 0x6a: // LONG_BINGET
        push(getMemo(u32()));
        break;
      case 0x67: // GET
        push(getMemo(parseMemoIndex(line())));
        break;

      // --- objects: every path goes through the whitelist
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        push(resolveGlobal(module, line(), opAt));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string')
          fail('BAD_INPUT', `pickle: STACK_GLOBAL needs two str at byte ${opAt}`);
        push(resolveGlobal(module, name, opAt));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        if (!(args instanceof PyTuple))
          fail('BAD_INPUT', `pickle: REDUCE arguments at byte ${opAt} are not a tuple`);
        push(callGlobal(fn, args.items, opAt));
        break;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args); our whitelisted classes build the same way as a call
        const args = pop();
        const cls = pop();
        if (!(args instanceof PyTuple))
          fail('BAD_INPUT', `pickle: NEWOBJ arguments at byte ${opAt} are not a tuple`);
        push(callGlobal(cls, args.items, opAt));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX: kwargs are not meaningful for any whitelisted class
        const kwargs = pop();
        const args = pop();
        const cls = pop();
        if (!(args instanceof PyTuple) || !(kwargs instanceof PyDict))
          fail('BAD_INPUT', `pickle: bad NEWOBJ_EX at byte ${opAt}`);
        if (kwargs.size > 0) fail('UNSUPPORTED', `pickle: NEWOBJ_EX with keyword arguments at byte ${opAt}`);
        push(callGlobal(cls, args.items, opAt));
        break;
      }
      case 0x6f: {
        // OBJ: MARK cls args… OBJ
        const items = popMark();
        const [cls, ...args] = items;
        push(callGlobal(cls ?? null, args, opAt));
        break;
      }
      case 0x69: {
        // INST "module\nname\n" with MARK args…
        const module = line();
        const cls = resolveGlobal(module, line(), opAt);
        push(callGlobal(cls, popMark(), opAt));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        buildObject(top(), state, opAt);
        break;
      }
      case 0x51: // BINPERSID
        push(persistent(pop()));
        break;
      case 0x50: // PERSID (text id)
        push(persistent(line()));
        break;
      case 0x82:
      case 0x83:
      case 0x84: // EXT1/2/4: names from the copyreg extension registry, which we cannot vet
        fail(
          'UNSAFE_PICKLE',
          `pickle: refused extension-registry opcode 0x${op.toString(16)} at byte ${opAt}`,
        );
        break;
      default:
        fail(
          'UNSAFE_PICKLE',
          `pickle: refused unknown opcode 0x${op.toString(16).padStart(2, '0')} at byte ${opAt} (not a pickle, or a protocol this reader does not know)`,
        );
    }
  }
}

/** Little-endian two's complement, as LONG1/LONG4 store it. */
export function decodeLong(b: Uint8Array): bigint {
  if (b.length === 0) return 0n;
  // Via one hex string: shifting a growing bigint per byte would be quadratic on a hostile LONG4.
  let hex = '';
  for (let i = b.length - 1; i >= 0; i--) hex += (b[i] as number).toString(16).padStart(2, '0');
  let v = BigInt(`0x${hex}`);
  if (((b[b.length - 1] as number) & 0x80) !== 0) v -= 1n << BigInt(8 * b.length);
  return v;
}

function parseMemoIndex(s: string): number {
  if (!/^\d+$/.test(s)) fail('BAD_INPUT', `pickle: bad memo index '${s}'`);
  return Number(s);
}
