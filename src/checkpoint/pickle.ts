import { fail } from '../util/errors.js';
import { buildObject, callGlobal, resolveGlobal } from './pickle-globals.js';
import { PickleCursor, PickleStack, decodeLong, latin1, parseMemoIndex } from './pickle-machine.js';
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
  const r = new PickleCursor(bytes, opts.offset ?? 0);
  const s = new PickleStack(() => r.opAt);
  const str = (raw: Uint8Array): string => decodeUtf8Surrogatepass(raw);
  const float = (x: number): PyValue =>
    opts.exactFloats === true && Number.isInteger(x) && !Object.is(x, -0) ? new PyFloat(x) : x;
  const persistent = (pid: PyValue): PyValue => {
    if (opts.persistentLoad === undefined)
      fail(
        'BAD_INPUT',
        `pickle: persistent id at byte ${r.opAt} but this is not a torch checkpoint (use loadTorch)`,
      );
    return opts.persistentLoad(pid);
  };

  for (;;) {
    const op = r.opcode();
    const opAt = r.opAt;
    switch (op) {
      case 0x80: {
        // PROTO
        const protocol = r.u8();
        if (protocol > 5) fail('UNSUPPORTED', `pickle: protocol ${protocol} is newer than 5`);
        break;
      }
      case 0x95: // FRAME: only a read-ahead hint
        r.u64();
        break;
      case 0x2e: // STOP
        return { value: s.result(), end: r.pos };
      case MARK:
        s.mark();
        break;
      case 0x30: // POP
        s.discard();
        break;
      case 0x31: // POP_MARK
        s.popMark();
        break;
      case 0x32: // DUP
        s.push(s.top());
        break;

      // --- scalars
      case 0x4e: // NONE
        s.push(null);
        break;
      case 0x88: // NEWTRUE
        s.push(true);
        break;
      case 0x89: // NEWFALSE
        s.push(false);
        break;
      case 0x4a: // BININT (signed 32)
        s.push(r.i32());
        break;
      case 0x4b: // BININT1
        s.push(r.u8());
        break;
      case 0x4d: // BININT2
        s.push(r.u16());
        break;
      case 0x8a: // LONG1
        s.push(pyInt(decodeLong(r.take(r.u8()))));
        break;
      case 0x8b: // LONG4
        s.push(pyInt(decodeLong(r.take(r.u32()))));
        break;
      case 0x49: // INT (text; I01/I00 are the protocol-0 bools)
        s.push(parseTextInt(r.line(), true));
        break;
      case 0x4c: // LONG (text, trailing L)
        s.push(parseTextInt(r.line(), false));
        break;
      case 0x47: // BINFLOAT (big-endian double)
        s.push(float(r.f64be()));
        break;
      case 0x46: // FLOAT (text)
        s.push(float(parseTextFloat(r.line())));
        break;

      // --- strings and bytes
      case 0x8c: // SHORT_BINUNICODE
        s.push(str(r.take(r.u8())));
        break;
      case 0x58: // BINUNICODE
        s.push(str(r.take(r.u32())));
        break;
      case 0x8d: // BINUNICODE8
        s.push(str(r.take(r.u64())));
        break;
      case 0x56: // UNICODE (raw-unicode-escape text)
        s.push(unescapeRawUnicode(r.line()));
        break;
      case 0x43: // SHORT_BINBYTES
        s.push(r.take(r.u8()).slice());
        break;
      case 0x42: // BINBYTES
        s.push(r.take(r.u32()).slice());
        break;
      case 0x8e: // BINBYTES8
        s.push(r.take(r.u64()).slice());
        break;
      case 0x96: // BYTEARRAY8
        s.push(r.take(r.u64()).slice());
        break;
      case 0x55: // SHORT_BINSTRING (py2 str, decoded as latin1 like Python's encoding='latin1')
        s.push(latin1(r.take(r.u8())));
        break;
      case 0x54: // BINSTRING
        s.push(latin1(r.take(r.i32())));
        break;
      case 0x53: // STRING (py2 repr text)
        s.push(unescapeStringRepr(r.line()));
        break;
      case 0x98: // READONLY_BUFFER: no-op on our immutable-enough bytes
        break;
      case 0x97: // NEXT_BUFFER
        fail('UNSUPPORTED', 'pickle: out-of-band buffers (protocol 5 NEXT_BUFFER) are not supported');
        break;

      // --- containers
      case 0x29: // EMPTY_TUPLE
        s.push(new PyTuple([]));
        break;
      case 0x85: // TUPLE1
        s.push(new PyTuple([s.pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = s.pop();
        s.push(new PyTuple([s.pop(), b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = s.pop();
        const b = s.pop();
        s.push(new PyTuple([s.pop(), b, c]));
        break;
      }
      case 0x74: // TUPLE
        s.push(new PyTuple(s.popMark()));
        break;
      case 0x5d: // EMPTY_LIST
        s.push([]);
        break;
      case 0x6c: // LIST
        s.push(s.popMark());
        break;
      case 0x61: {
        // APPEND
        const v = s.pop();
        s.appendItems(s.top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = s.popMark();
        s.appendItems(s.top(), items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        s.push(new PyDict());
        break;
      case 0x64: {
        // DICT
        const d = new PyDict();
        s.setItems(d, s.popMark());
        s.push(d);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = s.pop();
        const k = s.pop();
        s.setItems(s.top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const kv = s.popMark();
        s.setItems(s.top(), kv);
        break;
      }
      case 0x8f: // EMPTY_SET
        s.push(new PySet([], false));
        break;
      case 0x90: {
        // ADDITEMS
        const items = s.popMark();
        s.appendItems(s.top(), items);
        break;
      }
      case 0x91: // FROZENSET
        s.push(new PySet(s.popMark(), true));
        break;

      // --- memo
      case 0x71: // BINPUT
        s.put(r.u8());
        break;
      case 0x72: // LONG_BINPUT
        s.put(r.u32());
        break;
      case 0x70: // PUT
        s.put(parseMemoIndex(r.line()));
        break;
      case 0x94: // MEMOIZE
        s.memoize();
        break;
      case 0x68: // BINGET
        s.push(s.get(r.u8()));
        break;
      case 0x6a: // LONG_BINGET
        s.push(s.get(r.u32()));
        break;
      case 0x67: // GET
        s.push(s.get(parseMemoIndex(r.line())));
        break;

      // --- objects: every path goes through the whitelist
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = r.line();
        s.push(resolveGlobal(module, r.line(), opAt));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = s.pop();
        const module = s.pop();
        if (typeof module !== 'string' || typeof name !== 'string')
          fail('BAD_INPUT', `pickle: STACK_GLOBAL needs two str at byte ${opAt}`);
        s.push(resolveGlobal(module, name, opAt));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = s.pop();
        const fn = s.pop();
        if (!(args instanceof PyTuple))
          fail('BAD_INPUT', `pickle: REDUCE arguments at byte ${opAt} are not a tuple`);
        s.push(callGlobal(fn, args.items, opAt));
        break;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args); our whitelisted classes build the same way as a call
        const args = s.pop();
        const cls = s.pop();
        if (!(args instanceof PyTuple))
          fail('BAD_INPUT', `pickle: NEWOBJ arguments at byte ${opAt} are not a tuple`);
        s.push(callGlobal(cls, args.items, opAt));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX: kwargs are not meaningful for any whitelisted class
        const kwargs = s.pop();
        const args = s.pop();
        const cls = s.pop();
        if (!(args instanceof PyTuple) || !(kwargs instanceof PyDict))
          fail('BAD_INPUT', `pickle: bad NEWOBJ_EX at byte ${opAt}`);
        if (kwargs.size > 0) fail('UNSUPPORTED', `pickle: NEWOBJ_EX with keyword arguments at byte ${opAt}`);
        s.push(callGlobal(cls, args.items, opAt));
        break;
      }
      case 0x6f: {
        // OBJ: MARK cls args… OBJ
        const items = s.popMark();
        const [cls, ...args] = items;
        s.push(callGlobal(cls ?? null, args, opAt));
        break;
      }
      case 0x69: {
        // INST "module\nname\n" with MARK args…
        const module = r.line();
        const cls = resolveGlobal(module, r.line(), opAt);
        s.push(callGlobal(cls, s.popMark(), opAt));
        break;
      }
      case 0x62: {
        // BUILD
        const state = s.pop();
        buildObject(s.top(), state, opAt);
        break;
      }
      case 0x51: // BINPERSID
        s.push(persistent(s.pop()));
        break;
      case 0x50: // PERSID (text id)
        s.push(persistent(r.line()));
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
