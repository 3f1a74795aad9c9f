import { Tensor } from '../../tensor.js';
import type { Vec3 } from '../../../util/vec3.js';

/** torch.nn.InstanceNorm3d(affine=True): per (n, c) over D·H·W, biased variance; stats in float64. */
export function instanceNormRef(x: Tensor, weight: Tensor, bias: Tensor, eps: number): Tensor {
  const [N, C] = x.shape as [number, number];
  const m = x.size / (N * C);
  const out = new Tensor(x.shape);
  for (let nc = 0; nc < N * C; nc++) {
    const c = nc % C;
    const base = nc * m;
    let sum = 0;
    for (let i = 0; i < m; i++) sum += x.data[base + i]!;
    const mean = sum / m;
    let sq = 0;
    for (let i = 0; i < m; i++) {
      const d = x.data[base + i]! - mean;
      sq += d * d;
    }
    const scale = weight.data[c]! / Math.sqrt(sq / m + eps);
    const shift = bias.data[c]!;
    for (let i = 0; i < m; i++) out.data[base + i] = (x.data[base + i]! - mean) * scale + shift;
  }
  return out;
}

export function leakyReluRef(x: Tensor, slope: number): Tensor {
  const out = new Tensor(x.shape);
  for (let i = 0; i < x.size; i++) {
    const v = x.data[i]!;
    out.data[i] = v >= 0 ? v : v * slope;
  }
  return out;
}

export function addRef(a: Tensor, b: Tensor): Tensor {
  const out = new Tensor(a.shape);
  for (let i = 0; i < a.size; i++) out.data[i] = a.data[i]! + b.data[i]!;
  return out;
}

/** Concatenation along `axis`: copy contiguous runs of size (dims after axis) from each input in turn. */
export function concatRef(xs: readonly Tensor[], axis: number, outShape: readonly number[]): Tensor {
  const out = new Tensor(outShape);
  const outer = outShape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = outShape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outRun = (outShape[axis] as number) * inner;
  let offset = 0;
  for (const x of xs) {
    const run = (x.shape[axis] as number) * inner;
    for (let o = 0; o < outer; o++)
      out.data.set(x.data.subarray(o * run, (o + 1) * run), o * outRun + offset);
    offset += run;
  }
  return out;
}

/** Nearest upsampling by integer factors: out[z, y, x] = in[⌊z/sz⌋, ⌊y/sy⌋, ⌊x/sx⌋] (torch 'nearest'). */
export function upsampleNearestRef(x: Tensor, scale: Vec3, outShape: readonly number[]): Tensor {
  const [N, C, D, H, W] = x.shape as [number, number, number, number, number];
  const [, , oD, oH, oW] = outShape as [number, number, number, number, number];
  const [sD, sH, sW] = scale;
  const out = new Tensor(outShape);
  for (let nc = 0; nc < N * C; nc++) {
    const inBase = nc * D * H * W;
    const outBase = nc * oD * oH * oW;
    for (let od = 0; od < oD; od++) {
      for (let oh = 0; oh < oH; oh++) {
        const inRow = inBase + (Math.floor(od / sD) * H + Math.floor(oh / sH)) * W;
        const outRow = outBase + (od * oH + oh) * oW;
        for (let ow = 0; ow < oW; ow++) out.data[outRow + ow] = x.data[inRow + Math.floor(ow / sW)]!;
      }
    }
  }
  return out;
}
