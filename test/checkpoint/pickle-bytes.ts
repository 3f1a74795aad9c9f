/**
 * Builds pickles by hand for tests: numbers are single bytes, strings are latin1 bytes (opcode letters,
 * GLOBAL lines), arrays/Uint8Arrays are spliced in.
 */
export type Part = number | string | Uint8Array | readonly number[];

export function pk(...parts: Part[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') out.push(p);
    else if (typeof p === 'string') for (let i = 0; i < p.length; i++) out.push(p.charCodeAt(i) & 0xff);
    else for (const b of p) out.push(b);
  }
  return Uint8Array.from(out);
}

export function u32le(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

export function u64le(n: number): number[] {
  return [...u32le(n), ...u32le(Math.floor(n / 2 ** 32))];
}

const enc = new TextEncoder();

/** BINUNICODE 'X' + u32 length + utf-8. */
export function binunicode(s: string): number[] {
  const b = enc.encode(s);
  return [0x58, ...u32le(b.length), ...b];
}

/** SHORT_BINUNICODE (protocol 4). */
export function shortBinunicode(s: string): number[] {
  const b = enc.encode(s);
  return [0x8c, b.length, ...b];
}

export const PROTO2 = [0x80, 2];
export const PROTO4 = [0x80, 4];
export const STOP = 0x2e;
