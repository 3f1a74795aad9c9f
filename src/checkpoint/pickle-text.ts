import { fail } from '../util/errors.js';
import { pyInt } from './py-values.js';

/**
 * Text decoding for pickles: UTF-8 with Python's 'surrogatepass' (lone surrogates survive a round trip) and
 * the protocol-0 text opcodes (INT, LONG, FLOAT, UNICODE, STRING), whose arguments are newline-terminated.
 */

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** `str(raw, 'utf-8', 'surrogatepass')`: what BINUNICODE holds. */
export function decodeUtf8Surrogatepass(raw: Uint8Array): string {
  try {
    return utf8.decode(raw);
  } catch {
    return decodeSlow(raw); // only lone surrogates (or garbage) get here
  }
}

function decodeSlow(b: Uint8Array): string {
  let out = '';
  for (let i = 0, c = b[0]; c !== undefined; c = b[i]) {
    const cont = (k: number): number => {
      const x = b[i + k];
      if (x === undefined || (x & 0xc0) !== 0x80)
        fail('BAD_INPUT', `pickle: invalid UTF-8 in a str at byte ${i}`);
      return x & 0x3f;
    };
    let cp: number;
    if (c < 0x80) {
      cp = c;
      i += 1;
    } else if (c >= 0xc2 && c < 0xe0) {
      cp = ((c & 0x1f) << 6) | cont(1);
      i += 2;
    } else if (c >= 0xe0 && c < 0xf0) {
      cp = ((c & 0x0f) << 12) | (cont(1) << 6) | cont(2);
      if (cp < 0x800) fail('BAD_INPUT', `pickle: overlong UTF-8 in a str at byte ${i}`);
      i += 3; // 0xD800–0xDFFF allowed here: that is the surrogatepass part
    } else if (c >= 0xf0 && c < 0xf5) {
      cp = ((c & 0x07) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3);
      if (cp < 0x10000 || cp > 0x10ffff) fail('BAD_INPUT', `pickle: invalid UTF-8 in a str at byte ${i}`);
      i += 4;
    } else {
      return fail('BAD_INPUT', `pickle: invalid UTF-8 in a str at byte ${i}`);
    }
    out += String.fromCodePoint(cp);
  }
  return out;
}

/** UTF-8 with surrogatepass: lone surrogates are written as their 3-byte forms instead of U+FFFD. */
export function encodeUtf8Surrogatepass(s: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    let cp = s.charCodeAt(i);
    if (cp >= 0xd800 && cp < 0xdc00 && i + 1 < s.length) {
      const lo = s.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo < 0xe000) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        i++;
      }
    }
    if (cp < 0x80) out.push(cp);
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
    else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
    else
      out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  }
  return Uint8Array.from(out);
}

/** INT / LONG text arguments. `I01`/`I00` are protocol 0's True/False. */
export function parseTextInt(s: string, isIntOpcode: boolean): number | bigint | boolean {
  if (isIntOpcode && s === '01') return true;
  if (isIntOpcode && s === '00') return false;
  const t = s.endsWith('L') ? s.slice(0, -1) : s;
  if (!/^[-+]?\d+$/.test(t)) fail('BAD_INPUT', `pickle: bad int literal '${s}'`);
  return pyInt(BigInt(t.replace(/^\+/, '')));
}

export function parseTextFloat(s: string): number {
  const t = s.trim().toLowerCase();
  if (t === 'nan' || t === '+nan' || t === '-nan') return NaN;
  if (t === 'inf' || t === '+inf' || t === 'infinity') return Infinity;
  if (t === '-inf' || t === '-infinity') return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/.test(t)) fail('BAD_INPUT', `pickle: bad float literal '${s}'`);
  return Number(t);
}

/** raw-unicode-escape: only `\uXXXX` and `\UXXXXXXXX` are escapes; every other char is a latin1 byte. */
export function unescapeRawUnicode(s: string): string {
  return s.replace(
    /\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g,
    (_m, u4: string | undefined, u8: string | undefined) => {
      const cp = parseInt(u4 ?? u8 ?? '', 16);
      if (cp > 0x10ffff) fail('BAD_INPUT', `pickle: bad \\U escape ${u8 ?? ''}`);
      return String.fromCodePoint(cp);
    },
  );
}

const SIMPLE: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
  '\\': '\\',
  "'": "'",
  '"': '"',
};

/** STRING: a quoted py2 `repr` (`'abc\x00'`), decoded as latin1 (Python's `encoding='latin1'`). */
export function unescapeStringRepr(s: string): string {
  const q = s[0];
  if (s.length < 2 || (q !== "'" && q !== '"') || s[s.length - 1] !== q)
    fail('BAD_INPUT', 'pickle: STRING argument must be quoted');
  const body = s.slice(1, -1);
  return body.replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|\n|.)/g, (_m, e: string) => {
    if (e.startsWith('x')) return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]+$/.test(e)) return String.fromCharCode(parseInt(e, 8) & 0xff);
    if (e === '\n') return '';
    return SIMPLE[e] ?? `\\${e}`;
  });
}
