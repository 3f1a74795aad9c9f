import type { SgdStep } from '../../backend.js';
import { Tensor } from '../../tensor.js';
import type { Vec3 } from '../../../util/vec3.js';

/**
 * Backward kernels of the element-wise / data-movement ops, and the SGD update, for the ref backend.
 * Reductions are accumulated in float64.
 */

/**
 * InstanceNorm3d(affine) backward. Per (n, c) with m = D·H·W voxels, x̂ = (x − μ)/σ, σ = √(var + eps):
 * dβ = Σ dy, dγ = Σ dy·x̂ (both also summed over n), dx = γ/σ · (dy − mean(dy) − x̂·mean(dy·x̂)).
 */
export function instanceNormBackwardRef(
  x: Tensor,
  weight: Tensor,
  dy: Tensor,
  eps: number,
): { dx: Tensor; dWeight: Tensor; dBias: Tensor } {
  const [N, C] = x.shape as [number, number];
  const m = x.size / (N * C);
  const dx = new Tensor(x.shape);
  const dW = new Float64Array(C);
  const dB = new Float64Array(C);
  const xd = x.data;
  const g = dy.data;
  for (let nc = 0; nc < N * C; nc++) {
    const c = nc % C;
    const base = nc * m;
    let sum = 0;
    for (let i = 0; i < m; i++) sum += xd[base + i]!;
    const mean = sum / m;
    let sq = 0;
    for (let i = 0; i < m; i++) {
      const d = xd[base + i]! - mean;
      sq += d * d;
    }
    const inv = 1 / Math.sqrt(sq / m + eps);
    let sdy = 0;
    let sdyx = 0;
    for (let i = 0; i < m; i++) {
      const gi = g[base + i]!;
      sdy += gi;
      sdyx += gi * (xd[base + i]! - mean) * inv;
    }
    dB[c] = dB[c]! + sdy;
    dW[c] = dW[c]! + sdyx;
    const scale = weight.data[c]! * inv;
    const meanDy = sdy / m;
    const meanDyx = sdyx / m;
    for (let i = 0; i < m; i++) {
      const xhat = (xd[base + i]! - mean) * inv;
      dx.data[base + i] = scale * (g[base + i]! - meanDy - xhat * meanDyx);
    }
  }
  return {
    dx,
    dWeight: new Tensor([C], Float32Array.from(dW)),
    dBias: new Tensor([C], Float32Array.from(dB)),
  };
}

/** torch leaky_relu_backward: x > 0 → dy, otherwise slope·dy (x = 0 takes the slope). */
export function leakyReluBackwardRef(x: Tensor, dy: Tensor, slope: number): Tensor {
  const dx = new Tensor(x.shape);
  for (let i = 0; i < x.size; i++) dx.data[i] = x.data[i]! > 0 ? dy.data[i]! : dy.data[i]! * slope;
  return dx;
}

/** Adjoint of nearest upsampling: dx[z, y, x] = Σ of dy over the (sz, sy, sx) block it was copied to. */
export function upsampleNearestBackwardRef(dy: Tensor, scale: Vec3, xShape: readonly number[]): Tensor {
  const [N, C, D, H, W] = xShape as [number, number, number, number, number];
  const [, , oD, oH, oW] = dy.shape as [number, number, number, number, number];
  const [sD, sH, sW] = scale;
  const acc = new Float64Array(D * H * W);
  const dx = new Tensor(xShape);
  for (let nc = 0; nc < N * C; nc++) {
    acc.fill(0);
    const outBase = nc * oD * oH * oW;
    for (let od = 0; od < oD; od++) {
      for (let oh = 0; oh < oH; oh++) {
        const inRow = (Math.floor(od / sD) * H + Math.floor(oh / sH)) * W;
        const outRow = outBase + (od * oH + oh) * oW;
        for (let ow = 0; ow < oW; ow++) {
          const j = inRow + Math.floor(ow / sW);
          acc[j] = acc[j]! + dy.data[outRow + ow]!;
        }
      }
    }
    dx.data.set(acc, nc * D * H * W);
  }
  return dx;
}

/** Elements [start, start + size) along `axis`, as a new contiguous tensor. */
export function sliceRef(x: Tensor, axis: number, start: number, size: number): Tensor {
  const shape = [...x.shape];
  const full = shape[axis] as number;
  shape[axis] = size;
  const outer = x.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const out = new Tensor(shape);
  for (let o = 0; o < outer; o++) {
    const from = (o * full + start) * inner;
    out.data.set(x.data.subarray(from, from + size * inner), o * size * inner);
  }
  return out;
}

/**
 * torch.optim.SGD (dampening 0) for one parameter, in place, rounding to float32 where torch stores:
 * g = grad + wd·p; buf = g (first step) or μ·buf + g; d = nesterov ? g + μ·buf : buf; p −= lr·d.
 */
export function sgdUpdateRef(
  param: Tensor,
  grad: Tensor,
  buf: Tensor,
  step: SgdStep,
  firstStep: boolean,
): void {
  const { lr, momentum: mu, weightDecay: wd, nesterov } = step;
  const p = param.data;
  const b = buf.data;
  for (let i = 0; i < p.length; i++) {
    const g = Math.fround(grad.data[i]! + wd * p[i]!);
    let d = g;
    if (mu !== 0) {
      b[i] = firstStep ? g : mu * b[i]! + g;
      d = nesterov ? Math.fround(g + mu * b[i]!) : b[i]!;
    }
    p[i] = p[i]! - lr * d;
  }
}
