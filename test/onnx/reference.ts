/**
 * Naive loop implementations of the op API for checking ONNX Runtime's numbers. Written independently of
 * src/engine so the ONNX tests do not validate one implementation against itself. Accumulates in float64.
 */
import { Tensor, shapeSize } from '../../src/engine/tensor.js';
import { Rng } from '../../src/util/random.js';

type V3 = readonly [number, number, number];

export function randomTensor(shape: readonly number[], seed: number, scale = 1): Tensor {
  const rng = new Rng(seed);
  const t = new Tensor(shape);
  for (let i = 0; i < t.size; i++) t.data[i] = rng.normal() * scale;
  return t;
}

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = (s[i + 1] as number) * (shape[i + 1] as number);
  return s;
}

const dimsOf = (t: Tensor): number[] => [...t.shape];

export function conv3d(x: Tensor, w: Tensor, b: Tensor | null, stride: V3, pad: V3): Tensor {
  const [n, cin, d, h, wd] = dimsOf(x) as [number, number, number, number, number];
  const [cout, , kd, kh, kw] = dimsOf(w) as [number, number, number, number, number];
  const od = Math.floor((d + 2 * pad[0] - kd) / stride[0]) + 1;
  const oh = Math.floor((h + 2 * pad[1] - kh) / stride[1]) + 1;
  const ow = Math.floor((wd + 2 * pad[2] - kw) / stride[2]) + 1;
  const y = new Tensor([n, cout, od, oh, ow]);
  const [xs0, xs1, xs2, xs3] = strides(x.shape) as [number, number, number, number, number];
  const [ws0, ws1, ws2, ws3] = strides(w.shape) as [number, number, number, number, number];
  let o = 0;
  for (let ni = 0; ni < n; ni++)
    for (let co = 0; co < cout; co++)
      for (let z = 0; z < od; z++)
        for (let r = 0; r < oh; r++)
          for (let c = 0; c < ow; c++) {
            let acc = b === null ? 0 : (b.data[co] as number);
            for (let ci = 0; ci < cin; ci++)
              for (let a = 0; a < kd; a++)
                for (let p = 0; p < kh; p++)
                  for (let q = 0; q < kw; q++) {
                    const iz = z * stride[0] - pad[0] + a;
                    const ir = r * stride[1] - pad[1] + p;
                    const ic = c * stride[2] - pad[2] + q;
                    if (iz < 0 || iz >= d || ir < 0 || ir >= h || ic < 0 || ic >= wd) continue;
                    const xv = x.data[ni * xs0 + ci * xs1 + iz * xs2 + ir * xs3 + ic] as number;
                    const wv = w.data[co * ws0 + ci * ws1 + a * ws2 + p * ws3 + q] as number;
                    acc += xv * wv;
                  }
            y.data[o++] = acc;
          }
  return y;
}

export function instanceNorm(x: Tensor, g: Tensor, b: Tensor, eps: number): Tensor {
  const [n, c] = dimsOf(x) as [number, number];
  const m = shapeSize(x.shape.slice(2));
  const y = new Tensor(x.shape);
  for (let i = 0; i < n * c; i++) {
    const ch = i % c;
    let mean = 0;
    for (let k = 0; k < m; k++) mean += x.data[i * m + k] as number;
    mean /= m;
    let v = 0;
    for (let k = 0; k < m; k++) v += ((x.data[i * m + k] as number) - mean) ** 2;
    v /= m; // biased, as torch
    const inv = 1 / Math.sqrt(v + eps);
    for (let k = 0; k < m; k++)
      y.data[i * m + k] =
        ((x.data[i * m + k] as number) - mean) * inv * (g.data[ch] as number) + (b.data[ch] as number);
  }
  return y;
}

export function leakyRelu(x: Tensor, slope: number): Tensor {
  return new Tensor(
    x.shape,
    x.data.map((v) => (v >= 0 ? v : v * slope)),
  );
}

export function add(a: Tensor, b: Tensor): Tensor {
  return new Tensor(
    a.shape,
    a.data.map((v, i) => v + (b.data[i] as number)),
  );
}

export function concat(xs: readonly Tensor[], axis: number): Tensor {
  const first = xs[0] as Tensor;
  const outer = shapeSize(first.shape.slice(0, axis));
  const inner = shapeSize(first.shape.slice(axis + 1));
  const shape = [...first.shape];
  shape[axis] = xs.reduce((s, t) => s + (t.shape[axis] as number), 0);
  const out: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (const t of xs) {
      const block = (t.shape[axis] as number) * inner;
      for (let k = 0; k < block; k++) out.push(t.data[o * block + k] as number);
    }
  }
  return Tensor.fromArray(shape, out);
}

/** torch.nn.functional.interpolate(mode='nearest'): out[i] = in[floor(i / s)] per spatial axis. */
export function upsampleNearest(x: Tensor, s: V3): Tensor {
  const [n, c, d, h, w] = dimsOf(x) as [number, number, number, number, number];
  const y = new Tensor([n, c, d * s[0], h * s[1], w * s[2]]);
  let o = 0;
  for (let i = 0; i < n * c; i++)
    for (let z = 0; z < d * s[0]; z++)
      for (let r = 0; r < h * s[1]; r++)
        for (let q = 0; q < w * s[2]; q++) {
          const src = ((i * d + Math.floor(z / s[0])) * h + Math.floor(r / s[1])) * w + Math.floor(q / s[2]);
          y.data[o++] = x.data[src] as number;
        }
  return y;
}
