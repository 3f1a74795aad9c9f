/**
 * JSON as Python's `json.dump(obj, f, sort_keys=True, indent=4)` writes it (batchgenerators save_json,
 * which nnU-Net uses for summary.json), and a reader for it.
 *
 * Python writes NaN and ±Infinity as the bare literals `NaN`, `Infinity`, `-Infinity` (allow_nan=True).
 * Python's json.load reads them back; JSON.parse does not, so use `parsePythonJson` for such files.
 * Ints and floats differ in Python's output (`3` vs `3.0`): here a bigint is written as an int and a
 * number as a float (float.__repr__).
 */
import { fail } from '../util/errors.js';

export type PyJsonValue =
  | null
  | boolean
  | string
  | number
  | bigint
  | readonly PyJsonValue[]
  | ReadonlyMap<string, PyJsonValue>
  | { readonly [key: string]: PyJsonValue };

/** Python's repr(float) for finite values; json's NaN / Infinity / -Infinity otherwise. */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  // toExponential() gives the shortest digits that round-trip, as Python's repr does.
  const [mantissa = '', expText = '0'] = Math.abs(x).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exp = Number(expText);
  const decpt = exp + 1; // value = 0.<digits> × 10^decpt
  // Python switches to exponent form when decpt <= -4 or decpt > 16 (format_float_short, mode 'r').
  if (decpt <= -4 || decpt > 16) {
    const frac = digits.length > 1 ? `.${digits.slice(1)}` : '';
    const e = Math.abs(exp);
    return `${sign}${digits[0] ?? ''}${frac}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`;
  }
  if (decpt <= 0) return `${sign}0.${'0'.repeat(-decpt)}${digits}`;
  if (decpt >= digits.length) return `${sign}${digits}${'0'.repeat(decpt - digits.length)}.0`;
  return `${sign}${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
}

/** json.dumps's string encoding with ensure_ascii=True. */
function pyString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i] ?? '';
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20 || c > 0x7e) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return out + '"';
}

/** Python's `json.dumps(value, indent=indent, sort_keys=true)`. */
export function writePythonJson(value: PyJsonValue, indent = 4): string {
  return write(value, indent, 0);
}

function isMap(v: object): v is ReadonlyMap<string, PyJsonValue> {
  return v instanceof Map;
}

function entriesOf(
  v: ReadonlyMap<string, PyJsonValue> | { readonly [key: string]: PyJsonValue },
): [string, PyJsonValue][] {
  const list: [string, PyJsonValue][] = isMap(v) ? [...v.entries()] : Object.entries(v);
  // sort_keys=True: Python compares str keys by code point; for the ASCII keys we write this is UTF-16 order.
  return list.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function write(v: PyJsonValue, indent: number, depth: number): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'string') return pyString(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return pythonFloatRepr(v);
  const pad = '\n' + ' '.repeat(indent * (depth + 1));
  const close = '\n' + ' '.repeat(indent * depth);
  if (Array.isArray(v)) {
    const items = v as readonly PyJsonValue[];
    if (items.length === 0) return '[]';
    return '[' + items.map((x) => pad + write(x, indent, depth + 1)).join(',') + close + ']';
  }
  const entries = entriesOf(v as ReadonlyMap<string, PyJsonValue> | { readonly [key: string]: PyJsonValue });
  if (entries.length === 0) return '{}';
  return (
    '{' +
    entries.map(([k, x]) => `${pad}${pyString(k)}: ${write(x, indent, depth + 1)}`).join(',') +
    close +
    '}'
  );
}

export type JsonParsed = null | boolean | number | string | JsonParsed[] | { [key: string]: JsonParsed };

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// eslint-disable-next-line no-control-regex -- JSON forbids raw control characters in strings
const STRING = /"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/y;

/** JSON.parse that also accepts Python's NaN, Infinity and -Infinity literals (what json.dump writes). */
export function parsePythonJson(text: string): JsonParsed {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i] ?? '')) i++;
  };
  const bad = (what: string): never => fail('BAD_INPUT', `json: ${what} at offset ${i}`);
  const value = (): JsonParsed => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: { [key: string]: JsonParsed } = {};
      ws();
      if (text[i] === '}') return (i++, obj);
      for (;;) {
        ws();
        if (text[i] !== '"') bad('expected a key');
        const k = str();
        ws();
        if (text[i++] !== ':') bad("expected ':'");
        obj[k] = value();
        ws();
        const d = text[i++];
        if (d === '}') return obj;
        if (d !== ',') bad("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const arr: JsonParsed[] = [];
      ws();
      if (text[i] === ']') return (i++, arr);
      for (;;) {
        arr.push(value());
        ws();
        const d = text[i++];
        if (d === ']') return arr;
        if (d !== ',') bad("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    for (const [lit, v] of [
      ['NaN', NaN],
      ['Infinity', Infinity],
      ['-Infinity', -Infinity],
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(lit, i)) return ((i += lit.length), v);
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m === null) return bad('unexpected character');
    i += m[0].length;
    return Number(m[0]);
  };
  const str = (): string => {
    STRING.lastIndex = i;
    const m = STRING.exec(text);
    if (m === null) return bad('bad string');
    i += m[0].length;
    return JSON.parse(m[0]) as string;
  };
  const out = value();
  ws();
  if (i !== text.length) bad('trailing characters');
  return out;
}
