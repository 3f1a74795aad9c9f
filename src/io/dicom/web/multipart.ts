import { fail } from '../../../util/errors.js';
import { text } from '../parse.js';
import { newUid } from '../write.js';

/**
 * multipart/related (RFC 2387 over RFC 2046's multipart syntax), as DICOMweb uses it: a STOW-RS request
 * body is written here, a WADO-RS response body is split here. Bytes in, bytes out; part bodies are views
 * into the body (no copy).
 *
 *   --B CRLF  Content-Type: application/dicom CRLF CRLF  <bytes> CRLF  --B CRLF … <bytes> CRLF  --B-- CRLF
 */

/** A Content-Type value: the media type and its parameters (names lower-case, values unquoted). */
export interface ContentType {
  readonly mediaType: string;
  readonly params: ReadonlyMap<string, string>;
}

export interface MultipartPart {
  /** The part's headers, names lower-case. */
  readonly headers: ReadonlyMap<string, string>;
  readonly bytes: Uint8Array;
}

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t';

/** Reads a quoted string starting at s[i] === '"': its value (backslash escapes undone) and the index after it. */
function quoted(s: string, i: number, what: string): [string, number] {
  let out = '';
  for (let j = i + 1; j < s.length; j++) {
    const c = s[j] ?? '';
    if (c === '\\') out += s[++j] ?? '';
    else if (c === '"') return [out, j + 1];
    else out += c;
  }
  return fail('BAD_INPUT', `${what}: unterminated quoted string in Content-Type "${s}"`);
}

/** Parses `type/subtype; name=value; name="quoted; value"` (RFC 9110 §8.3). */
export function parseContentType(value: string, what = 'Content-Type'): ContentType {
  const semi = value.indexOf(';');
  const mediaType = (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
  if (!/^[!#$%&'*+.^_`|~0-9a-z-]+\/[!#$%&'*+.^_`|~0-9a-z-]+$/.test(mediaType))
    fail('BAD_INPUT', `${what}: "${value}" is not a media type`);
  const params = new Map<string, string>();
  let i = semi < 0 ? value.length : semi + 1;
  while (i < value.length) {
    while (isSpace(value[i]) || value[i] === ';') i++;
    if (i >= value.length) break;
    const eq = value.indexOf('=', i);
    if (eq < 0) fail('BAD_INPUT', `${what}: parameter without "=" in "${value}"`);
    const name = value.slice(i, eq).trim().toLowerCase();
    let v: string;
    if (value[eq + 1] === '"') [v, i] = quoted(value, eq + 1, what);
    else {
      const end = value.indexOf(';', eq);
      v = value.slice(eq + 1, end < 0 ? value.length : end).trim();
      i = end < 0 ? value.length : end;
    }
    if (name !== '') params.set(name, v);
  }
  return { mediaType, params };
}

const encoder = new TextEncoder();
/** Where `needle` first occurs in `hay` at or after `from` (-1 if nowhere). */
export function indexOfBytes(hay: Uint8Array, needle: Uint8Array, from = 0): number {
  const first = needle[0];
  if (first === undefined) return from;
  for (
    let i = hay.indexOf(first, from);
    i >= 0 && i + needle.length <= hay.length;
    i = hay.indexOf(first, i + 1)
  ) {
    let j = 1;
    while (j < needle.length && hay[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

/** A random boundary: the 38-odd decimal digits of a fresh 2.25 UID (random bytes). */
const randomBoundary = (): string => `stunet-${newUid().slice(5)}`;

export interface EncodeMultipartOptions {
  /** The parts' media type, also the `type` parameter of the whole (default application/dicom). */
  readonly type?: string;
  /** A fixed boundary (1–70 characters of RFC 2046's set); default: random. */
  readonly boundary?: string;
}

/** A multipart/related body of `parts` (each of media type `type`) and the Content-Type that goes with it. */
export function encodeMultipartRelated(
  parts: readonly Uint8Array[],
  options: EncodeMultipartOptions = {},
): { body: Uint8Array; contentType: string } {
  const type = options.type ?? 'application/dicom';
  const clash = (b: string): boolean => parts.some((p) => indexOfBytes(p, encoder.encode(`--${b}`)) >= 0);
  let boundary = options.boundary ?? randomBoundary();
  if (!/^[0-9A-Za-z'()+_,./:=?-]{1,70}$/.test(boundary))
    fail('BAD_INPUT', `multipart: boundary "${boundary}" is not 1–70 characters of RFC 2046's set`);
  if (clash(boundary)) {
    if (options.boundary !== undefined)
      fail('BAD_INPUT', `multipart: a part contains the boundary "${boundary}"`);
    while (clash(boundary)) boundary = randomBoundary();
  }
  const head = encoder.encode(`--${boundary}\r\nContent-Type: ${type}\r\n\r\n`);
  const size = parts.reduce((a, p) => a + head.length + p.length + 2, 0) + boundary.length + 6;
  const body = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    body.set(head, at);
    body.set(p, at + head.length);
    body.set([13, 10], at + head.length + p.length);
    at += head.length + p.length + 2;
  }
  body.set(encoder.encode(`--${boundary}--\r\n`), at);
  return { body, contentType: `multipart/related; type="${type}"; boundary=${boundary}` };
}

/** The headers of one part (lines up to the first empty one; folded lines joined). */
function partHeaders(head: string, what: string): Map<string, string> {
  const headers = new Map<string, string>();
  let last = '';
  for (const line of head.split(/\r?\n/)) {
    if (line === '') continue;
    if (isSpace(line[0]) && last !== '') {
      headers.set(last, `${headers.get(last) ?? ''} ${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0)
      fail('BAD_INPUT', `${what}: malformed multipart: part header line "${line.slice(0, 80)}"`);
    last = line.slice(0, colon).trim().toLowerCase();
    headers.set(last, line.slice(colon + 1).trim());
  }
  return headers;
}

/** Index just past the line break at `i` (CRLF or LF), or -1 when there is none there. */
const afterBreak = (b: Uint8Array, i: number): number =>
  b[i] === 13 && b[i + 1] === 10 ? i + 2 : b[i] === 10 ? i + 1 : -1;

/**
 * Splits a multipart body whose Content-Type is `contentType` (its boundary parameter, quoted or not).
 * Tolerates a preamble, an epilogue, LF instead of CRLF and whitespace after a delimiter; a body without
 * its first or its closing delimiter, or a part without the blank line after its headers, is malformed.
 */
export function decodeMultipart(body: Uint8Array, contentType: string, what = 'multipart'): MultipartPart[] {
  const ct = parseContentType(contentType, what);
  if (!ct.mediaType.startsWith('multipart/'))
    fail('BAD_INPUT', `${what}: expected a multipart body, got Content-Type "${contentType}"`);
  const boundary = ct.params.get('boundary');
  if (boundary === undefined || boundary === '')
    fail('BAD_INPUT', `${what}: malformed multipart: Content-Type "${contentType}" has no boundary`);
  const delim = encoder.encode(`--${boundary}`);
  // a delimiter starts a line: at the very start, or after a line break (which belongs to it)
  const next = (from: number): number => {
    for (let i = indexOfBytes(body, delim, from); i >= 0; i = indexOfBytes(body, delim, i + 1))
      if (i === 0 || body[i - 1] === 10) return i;
    return -1;
  };
  let at = next(0);
  if (at < 0)
    fail('BAD_INPUT', `${what}: malformed multipart: no "--${boundary}" delimiter in ${body.length} bytes`);
  const parts: MultipartPart[] = [];
  for (;;) {
    let p = at + delim.length;
    if (body[p] === 45 && body[p + 1] === 45) return parts; // "--": the closing delimiter
    while (body[p] === 32 || body[p] === 9) p++;
    p = afterBreak(body, p);
    if (p < 0) fail('BAD_INPUT', `${what}: malformed multipart: no line break after a delimiter`);
    const end = next(p);
    if (end < 0) fail('BAD_INPUT', `${what}: malformed multipart: truncated (no closing "--${boundary}--")`);
    const contentEnd = body[end - 2] === 13 ? end - 2 : end - 1;
    const blank = afterBreak(body, p) >= 0 ? p : findBlankLine(body, p, end);
    if (blank < 0)
      fail(
        'BAD_INPUT',
        `${what}: malformed multipart: part ${parts.length + 1} has no blank line after its headers`,
      );
    const start = afterBreak(body, blank);
    const headers = partHeaders(text(body, p, blank - p), what);
    parts.push({ headers, bytes: body.subarray(start, Math.max(start, contentEnd)) });
    at = end;
  }
}

/** Index of the line break that ends the headers (the one that makes an empty line), or -1. */
function findBlankLine(body: Uint8Array, from: number, limit: number): number {
  for (let i = body.indexOf(10, from); i >= 0 && i < limit; i = body.indexOf(10, i + 1)) {
    const q = i + 1;
    if (body[q] === 10 || (body[q] === 13 && body[q + 1] === 10)) return q;
  }
  return -1;
}
