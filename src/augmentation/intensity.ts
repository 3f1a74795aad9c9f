/**
 * Intensity augmentations of batchgenerators 0.25 (noise_augmentations.py, color_augmentations.py,
 * resample_augmentations.py) with the arguments nnU-Net v1 get_moreDA_augmentation passes. Each works
 * in place on one sample's data (C, Z, Y, X); the `p_per_sample` check is the caller's (pipeline.ts).
 */
import { resizeImage } from '../preprocessing/resize.js';
import type { Rng } from '../util/random.js';
import { halfBelowOne, uniform } from './rng.js';
import { voxelCount, type Sample } from './sample.js';
import type { Range } from './spatial.js';
import { roundHalfEven } from '../util/rounding.js';
import { map3 } from '../util/vec3.js';

function channel(s: Sample, c: number): Float32Array {
  const n = voxelCount(s.shapeZYX);
  return s.data.subarray(c * n, (c + 1) * n);
}

/**
 * augment_gaussian_noise(noise_variance, per_channel False): ONE draw v ~ U(range) for the sample, then
 * N(0, v) noise added to every channel — trap: batchgenerators passes v as the standard deviation
 * (np.random.normal's scale), despite the name "variance".
 */
export function gaussianNoise(s: Sample, rng: Rng, varianceRange: Range = [0, 0.1]): number {
  const sd =
    varianceRange[0] === varianceRange[1]
      ? varianceRange[0]
      : uniform(rng, varianceRange[0], varianceRange[1]);
  for (let c = 0; c < s.channels; c++) {
    rng.next(); // the p_per_channel (= 1) check, drawn as batchgenerators does
    const x = channel(s, c);
    for (let i = 0; i < x.length; i++) x[i] = (x[i] as number) + sd * rng.normal();
  }
  return sd;
}

/** scipy gaussian_filter1d weights: radius int(4σ + 0.5), normalised exp(−x²/2σ²). */
function gaussianKernel(sigma: number): Float64Array {
  const radius = Math.floor(4 * sigma + 0.5);
  const k = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    const v = Math.exp((-0.5 * i * i) / (sigma * sigma));
    k[i + radius] = v;
    sum += v;
  }
  return k.map((v) => v / sum);
}

/** scipy 'reflect' (d c b a | a b c d | d c b a) index. */
function reflect(i: number, n: number): number {
  const period = 2 * n;
  let j = i % period;
  if (j < 0) j += period;
  return j < n ? j : period - 1 - j;
}

/**
 * correlate1d along the middle axis of an (outer, n, inner) block with reflect borders, in place. For
 * inner > 1 whole rows are combined (contiguous); for inner = 1 line by line.
 */
function convolveAxis(x: Float32Array, outer: number, n: number, inner: number, k: Float64Array): void {
  const r = (k.length - 1) / 2;
  const src = Int32Array.from({ length: n + 2 * r }, (_, i) => reflect(i - r, n));
  if (inner === 1) {
    const line = new Float64Array(n + 2 * r);
    for (let o = 0; o < outer; o++) {
      const base = o * n;
      for (let i = 0; i < line.length; i++) line[i] = x[base + (src[i] as number)] as number;
      for (let i = 0; i < n; i++) {
        let t = 0;
        for (let j = 0; j < k.length; j++) t += (k[j] as number) * (line[i + j] as number);
        x[base + i] = t;
      }
    }
    return;
  }
  const block = new Float32Array(n * inner);
  const acc = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    const base = o * n * inner;
    block.set(x.subarray(base, base + n * inner));
    for (let i = 0; i < n; i++) {
      acc.fill(0);
      for (let j = 0; j < k.length; j++) {
        const w = k[j] as number;
        const row = (src[i + j] as number) * inner;
        for (let c = 0; c < inner; c++) acc[c] = (acc[c] as number) + w * (block[row + c] as number);
      }
      x.set(acc, base + i * inner);
    }
  }
}

/** scipy.ndimage.gaussian_filter(x, sigma, mode='reflect', truncate=4) of one (Z, Y, X) volume, in place. */
export function gaussianFilter3d(
  x: Float32Array,
  shape: readonly [number, number, number],
  sigma: number,
): void {
  const k = gaussianKernel(sigma);
  const [n0, n1, n2] = shape;
  convolveAxis(x, 1, n0, n1 * n2, k);
  convolveAxis(x, n0, n1, n2, k);
  convolveAxis(x, n0 * n1, n2, 1, k);
}

/**
 * augment_gaussian_blur(sigma_range, per_channel True, p_per_channel): each channel with probability
 * p_per_channel, its own σ ~ U(range). Returns the σ used per channel (null = not blurred).
 */
export function gaussianBlur(
  s: Sample,
  rng: Rng,
  sigmaRange: Range = [0.5, 1],
  pPerChannel = 0.5,
): (number | null)[] {
  const used: (number | null)[] = [];
  for (let c = 0; c < s.channels; c++) {
    if (rng.next() <= pPerChannel) {
      const sigma = uniform(rng, sigmaRange[0], sigmaRange[1]);
      gaussianFilter3d(channel(s, c), s.shapeZYX, sigma);
      used.push(sigma);
    } else used.push(null);
  }
  return used;
}

/**
 * augment_brightness_multiplicative(per_channel True): one draw that is discarded (batchgenerators draws
 * it before the per-channel branch), then x ·= U(range) per channel.
 */
export function brightnessMultiplicative(s: Sample, rng: Rng, range: Range = [0.75, 1.25]): number[] {
  uniform(rng, range[0], range[1]);
  const factors: number[] = [];
  for (let c = 0; c < s.channels; c++) {
    const f = uniform(rng, range[0], range[1]);
    const x = channel(s, c);
    for (let i = 0; i < x.length; i++) x[i] = (x[i] as number) * f;
    factors.push(f);
  }
  return factors;
}

function meanStd(x: Float32Array): { mean: number; std: number; min: number; max: number } {
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) {
    const v = x[i] as number;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / x.length;
  let ss = 0;
  for (let i = 0; i < x.length; i++) ss += ((x[i] as number) - mean) ** 2;
  return { mean, std: Math.sqrt(ss / x.length), min, max };
}

/**
 * augment_contrast(per_channel True, preserve_range True): per channel factor by the half-below-one
 * rule, x ← (x − mean)·f + mean, clipped to the channel's previous [min, max].
 */
export function contrast(s: Sample, rng: Rng, range: Range = [0.75, 1.25]): number[] {
  const factors: number[] = [];
  for (let c = 0; c < s.channels; c++) {
    rng.next(); // p_per_channel (= 1) check
    const f = halfBelowOne(rng, range);
    const x = channel(s, c);
    const { mean, min, max } = meanStd(x);
    for (let i = 0; i < x.length; i++) {
      const v = ((x[i] as number) - mean) * f + mean;
      x[i] = v < min ? min : v > max ? max : v;
    }
    factors.push(f);
  }
  return factors;
}

/**
 * augment_linear_downsampling_scipy(zoom_range, per_channel True, p_per_channel, order_downsample 0,
 * order_upsample 3): each channel with probability p_per_channel, its own zoom ~ U(range); skimage
 * resize (mode 'edge', no anti-aliasing) down to round(shape·zoom), then back up with order 3.
 */
export function simulateLowResolution(
  s: Sample,
  rng: Rng,
  zoomRange: Range = [0.5, 1],
  pPerChannel = 0.5,
): (number | null)[] {
  const used: (number | null)[] = [];
  const shp = s.shapeZYX;
  for (let c = 0; c < s.channels; c++) {
    if (rng.next() < pPerChannel) {
      const zoom = uniform(rng, zoomRange[0], zoomRange[1]);
      const target = map3(shp, (n) => roundHalfEven(n * zoom));
      const x = channel(s, c);
      const down = resizeImage(x, shp, target, 0);
      x.set(resizeImage(down, target, shp, 3));
      used.push(zoom);
    } else used.push(null);
  }
  return used;
}

/**
 * augment_gamma(gamma_range, invert_image, per_channel True, retain_stats True, epsilon 1e-7): per channel
 * (on −x when inverted) γ by the half-below-one rule, x ← ((x − min)/(range + ε))^γ·range + min, then the
 * channel's mean and std restored.
 */
export function gamma(s: Sample, rng: Rng, invert: boolean, range: Range = [0.7, 1.5]): number[] {
  const gammas: number[] = [];
  const sign = invert ? -1 : 1;
  for (let c = 0; c < s.channels; c++) {
    const x = channel(s, c);
    if (invert) for (let i = 0; i < x.length; i++) x[i] = -(x[i] as number);
    const before = meanStd(x);
    const g = halfBelowOne(rng, range);
    const rnge = before.max - before.min;
    const inv = 1 / (rnge + 1e-7);
    let sum = 0;
    for (let i = 0; i < x.length; i++) {
      const y = Math.pow(((x[i] as number) - before.min) * inv, g) * rnge + before.min;
      x[i] = y;
      sum += y;
    }
    const { std } = meanStd(x);
    const mean = sum / x.length;
    const scale = before.std / (std + 1e-8);
    for (let i = 0; i < x.length; i++) x[i] = sign * (((x[i] as number) - mean) * scale + before.mean);
    gammas.push(g);
  }
  return gammas;
}
