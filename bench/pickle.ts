/**
 * Unpickler benchmark: decoding a LONG4 integer (opcode 0x8b: u32 length, then little-endian two's
 * complement bytes) of growing size. The decoder goes through one hex string, so the time should grow
 * about linearly with the byte count (ns per byte roughly flat); a per-byte bigint shift would be
 * quadratic on a hostile pickle. Values: all bytes 0xff (-1) and seeded random bytes. One warm-up, median
 * of --repeats. Prints figures; asserts nothing.
 *
 *   node --import tsx bench/pickle.ts                  human-readable lines
 *   node --import tsx bench/pickle.ts --json           one JSON object per measurement
 *   node --import tsx bench/pickle.ts --sizes 50000,200000,800000 --repeats 5
 */
import { unpickle } from '../src/checkpoint/index.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const json = process.argv.includes('--json');
const sizes = arg('--sizes', '50000,100000,200000,400000,800000').split(',').map(Number);
const repeats = Number(arg('--repeats', '5'));

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** PROTO 2, LONG4 <n> <bytes>, STOP. */
function long4Pickle(body: Uint8Array): Uint8Array {
  const n = body.length;
  const out = new Uint8Array(2 + 5 + n + 1);
  out.set([0x80, 2, 0x8b, n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff]);
  out.set(body, 7);
  out[out.length - 1] = 0x2e;
  return out;
}

/** Seeded pseudo-random bytes (a 32-bit LCG's high byte). */
function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

const bodies: Record<string, (n: number) => Uint8Array> = {
  'minus-one': (n) => new Uint8Array(n).fill(0xff),
  random: (n) => randomBytes(n, 1),
};

for (const [value, make] of Object.entries(bodies)) {
  for (const bytes of sizes) {
    const pickle = long4Pickle(make(bytes));
    unpickle(pickle); // warm-up
    const times: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const t0 = performance.now();
      unpickle(pickle);
      times.push((performance.now() - t0) / 1000);
    }
    const seconds = median(times);
    const nsPerByte = (seconds * 1e9) / bytes;
    if (json) {
      console.log(JSON.stringify({ opcode: 'LONG4', value, bytes, seconds, nsPerByte }));
    } else {
      console.log(
        `LONG4 ${value.padEnd(9)} ${String(bytes).padStart(8)} bytes: ${(seconds * 1000).toFixed(2).padStart(8)} ms ` +
          `${nsPerByte.toFixed(1).padStart(7)} ns/byte (median of ${repeats})`,
      );
    }
  }
}
