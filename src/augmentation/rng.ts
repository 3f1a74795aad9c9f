/**
 * Random helpers for augmentation and patch sampling, on the project's seeded `Rng`. The draw patterns
 * mirror batchgenerators so the distributions match (not the numbers: numpy's generator is not ours).
 */
import { Rng } from '../util/random.js';

/** Uniform in [lo, hi) (np.random.uniform(lo, hi)). */
export function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.next();
}

/** Integer in [lo, hiExclusive) (np.random.randint(lo, hi)). */
export function randInt(rng: Rng, lo: number, hiExclusive: number): number {
  return lo + Math.floor(rng.next() * (hiExclusive - lo));
}

/**
 * batchgenerators' "half below one" draw, used for scale, contrast and gamma: with probability ½ (and only
 * if range[0] < 1) U(range[0], 1), otherwise U(max(range[0], 1), range[1]). So scale 0.7–1.4 shrinks and
 * enlarges equally often, although 1.4 − 1 > 1 − 0.7.
 */
export function halfBelowOne(rng: Rng, range: readonly [number, number]): number {
  const [lo, hi] = range;
  if (rng.next() < 0.5 && lo < 1) return uniform(rng, lo, 1);
  return uniform(rng, Math.max(lo, 1), hi);
}

/**
 * A 32-bit seed for item `index` of a stream seeded by `seed` (two rounds of a murmur3-style finaliser).
 * Batch b of a run uses Rng(deriveSeed(seed, b)), so a batch is the same whichever worker makes it.
 */
export function deriveSeed(seed: number, index: number): number {
  let h = (seed >>> 0) ^ Math.imul(index >>> 0, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  h = (h + Math.imul(Math.floor(index / 4294967296), 0x27d4eb2f)) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  return (h ^ (h >>> 15)) >>> 0;
}

/** A fresh generator for stream item `index`. */
export function rngFor(seed: number, index: number): Rng {
  return new Rng(deriveSeed(seed, index));
}
