/** Small synthetic volumes for the augmentation and loader tests. */
import type { Sample } from '../../src/augmentation/sample.js';
import type { PreprocessedCase } from '../../src/training/loader.js';
import { Rng } from '../../src/util/random.js';
import type { Vec3 } from '../../src/util/vec3.js';

/** A smooth field sin/cos over (Z, Y, X) per channel. */
export function smoothSample(shape: Vec3, channels = 1, labels: readonly number[] = [0, 1, 2]): Sample {
  const [n0, n1, n2] = shape;
  const n = n0 * n1 * n2;
  const data = new Float32Array(channels * n);
  const seg = new Int16Array(n);
  for (let c = 0; c < channels; c++) {
    let p = 0;
    for (let z = 0; z < n0; z++)
      for (let y = 0; y < n1; y++)
        for (let x = 0; x < n2; x++, p++) {
          data[c * n + p] = Math.sin(0.3 * z + c) + Math.cos(0.25 * y) * 0.5 + 0.1 * x;
          if (c === 0) {
            const r = Math.hypot(z - n0 / 2, y - n1 / 2, x - n2 / 2);
            seg[p] = labels[Math.min(labels.length - 1, Math.floor(r / 3))] ?? 0;
          }
        }
  }
  return { channels, shapeZYX: shape, data, seg };
}

/** Uniformly random data and labels from `labels`. */
export function randomSample(shape: Vec3, channels: number, labels: readonly number[], seed: number): Sample {
  const rng = new Rng(seed);
  const n = shape[0] * shape[1] * shape[2];
  const data = Float32Array.from({ length: channels * n }, () => rng.normal());
  const seg = Int16Array.from({ length: n }, () => labels[Math.floor(rng.next() * labels.length)] ?? 0);
  return { channels, shapeZYX: shape, data, seg };
}

/** A constant image. */
export function constantSample(shape: Vec3, channels: number, value: number): Sample {
  const n = shape[0] * shape[1] * shape[2];
  return {
    channels,
    shapeZYX: shape,
    data: new Float32Array(channels * n).fill(value),
    seg: new Int16Array(n),
  };
}

/**
 * A case with a small cube of class 2 (and a larger one of class 1) far from the centre, −1 in a slab at
 * z = 0 (outside the crop), and class_locations listing every voxel of each class.
 */
export function syntheticCase(key: string, shape: Vec3, channels = 1): PreprocessedCase {
  const [n0, n1, n2] = shape;
  const n = n0 * n1 * n2;
  const data = new Float32Array(channels * n);
  const seg = new Int16Array(n);
  const locs = new Map<number, number[]>([
    [1, []],
    [2, []],
  ]);
  let p = 0;
  for (let z = 0; z < n0; z++)
    for (let y = 0; y < n1; y++)
      for (let x = 0; x < n2; x++, p++) {
        for (let c = 0; c < channels; c++) data[c * n + p] = 1 + z + 0.01 * y + 0.0001 * x + c;
        let l = 0;
        if (z === 0) l = -1;
        else if (z >= n0 - 4 && y >= n1 - 4 && x >= n2 - 4) l = 2;
        else if (z < 6 && y < 6 && x < 6) l = 1;
        seg[p] = l;
        if (l > 0) locs.get(l)?.push(z, y, x);
      }
  return {
    key,
    channels,
    shapeZYX: shape,
    data,
    seg,
    classLocations: new Map([...locs].map(([k, v]) => [k, Int32Array.from(v)])),
  };
}

/** Binomial bound: |count − n·p| ≤ 4·sqrt(n·p·(1 − p)). */
export function withinFourSigma(count: number, n: number, p: number): boolean {
  return Math.abs(count - n * p) <= 4 * Math.sqrt(n * p * (1 - p));
}
