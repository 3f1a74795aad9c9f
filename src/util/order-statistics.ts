/**
 * Exact order statistics of a float32 array without sorting it: the value at sorted position r, for a few
 * ranks r, in two passes over the data (a radix select on the float's bits: a histogram of the upper 16
 * bits of an order-preserving key, then of the lower 16 bits inside the buckets the ranks fall in). The
 * result equals `Float32Array.from(values).sort()[r]` (−0 before +0, NaN last) in O(n) time and O(2^16)
 * memory, where the sort takes O(n log n) time and a copy: 16 s → < 1 s for nnU-Net's 10e7 fingerprint
 * samples.
 */
import { fail } from './errors.js';

const BINS = 1 << 16;
/** More ranks than this are read from a sorted copy. */
export const MAX_SELECT_RANKS = 16;

/** Unsigned key whose order is the numeric order of the float32 with these bits. */
function keyOf(bits: number): number {
  return (bits & 0x80000000) !== 0 ? ~bits >>> 0 : (bits | 0x80000000) >>> 0;
}

function valueOfKey(key: number): number {
  const bits = (key & 0x80000000) !== 0 ? (key & 0x7fffffff) >>> 0 : ~key >>> 0;
  const v = new DataView(new ArrayBuffer(4));
  v.setUint32(0, bits);
  return v.getFloat32(0);
}

/** Canonical quiet NaN for every NaN, so all NaNs sort last, as TypedArray.prototype.sort puts them. */
const NAN_KEY = 0xffffffff;

/** The (bucket, offset) of each rank given counts per bucket. */
function locate(
  counts: Uint32Array | Float64Array,
  ranks: readonly number[],
): { bin: number; within: number }[] {
  const order = ranks.map((r, i) => [r, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<{ bin: number; within: number }>(ranks.length);
  let bin = 0;
  let before = 0;
  for (const [r, i] of order) {
    while (before + (counts[bin] as number) <= r) {
      before += counts[bin] as number;
      bin++;
    }
    out[i] = { bin, within: r - before };
  }
  return out;
}

/** Values at sorted positions `ranks` (0 ≤ r < n) of `values`, as numbers. */
export function selectRanks(values: Float32Array, ranks: readonly number[]): number[] {
  const n = values.length;
  for (const r of ranks)
    if (!Number.isInteger(r) || r < 0 || r >= n) fail('BAD_INPUT', `rank ${r} is not within 0…${n - 1}`);
  if (ranks.length === 0) return [];
  // Each distinct upper bucket costs a 2^16 histogram: beyond a few ranks a sorted copy is cheaper.
  if (ranks.length > MAX_SELECT_RANKS) {
    const sorted = Float32Array.from(values).sort();
    return ranks.map((r) => sorted[r] ?? fail('BAD_INPUT', `rank ${r} is not within 0…${n - 1}`));
  }
  const bits = new Uint32Array(values.buffer, values.byteOffset, n);
  const key = (i: number): number => {
    const v = values[i] as number;
    return v !== v ? NAN_KEY : keyOf(bits[i] as number);
  };
  const high = new Float64Array(BINS);
  for (let i = 0; i < n; i++) {
    const h = key(i) >>> 16;
    high[h] = (high[h] as number) + 1;
  }
  const first = locate(high, ranks);
  const bins = [...new Set(first.map((f) => f.bin))];
  const slot = new Int32Array(BINS).fill(-1);
  bins.forEach((b, j) => {
    slot[b] = j;
  });
  const low = bins.map(() => new Float64Array(BINS));
  for (let i = 0; i < n; i++) {
    const k = key(i);
    const j = slot[k >>> 16] as number;
    if (j >= 0) {
      const h = low[j] as Float64Array;
      h[k & 0xffff] = (h[k & 0xffff] as number) + 1;
    }
  }
  return first.map(({ bin, within }) => {
    const hist = low[slot[bin] ?? -1] ?? fail('RUNTIME', `order statistics: bucket ${bin} has no histogram`);
    const lowBin =
      locate(hist, [within])[0]?.bin ?? fail('RUNTIME', `order statistics: rank ${within} not located`);
    const k = ((bin << 16) | lowBin) >>> 0;
    return k === NAN_KEY ? NaN : valueOfKey(k);
  });
}
