import type { SgdStep } from '../../backend.js';
import { Tensor } from '../../tensor.js';
import type { Vec3 } from '../../../util/vec3.js';

// The memory-bound kernels. Each touches every element once or twice, so copying into wasm memory and
// back would cost more than the arithmetic: they run as tight loops on the JS arrays directly
// (V8 compiles these to scalar code at memory speed). Statistics are accumulated in float64.

type Dims5 = readonly [number, number, number, number, number];

function meanInvStd(x: Float32Array, base: number, m: number, eps: number): [number, number] {
  let sum = 0;
  for (let i = base; i < base + m; i++) sum += x[i]!;
  const mean = sum / m;
  let sq = 0;
  for (let i = base; i < base + m; i++) {
    const d = x[i]! - mean;
    sq += d * d;
  }
  return [mean, 1 / Math.sqrt(sq / m + eps)];
}

export function instanceNorm(x: Tensor, weight: Tensor, bias: Tensor, eps: number): Tensor {
  const [N, C] = x.shape as Dims5;
  const m = x.size / (N * C);
  const out = new Tensor(x.shape);
  const xd = x.data;
  const od = out.data;
  for (let nc = 0; nc < N * C; nc++) {
    const c = nc % C;
    const base = nc * m;
    const [mean, inv] = meanInvStd(xd, base, m, eps);
    const scale = weight.data[c]! * inv;
    const shift = bias.data[c]! - mean * scale;
    for (let i = base; i < base + m; i++) od[i] = xd[i]! * scale + shift;
  }
  return out;
}

/** dx = γ·σ⁻¹·(dy − mean(dy) − x̂·mean(dy·x̂)); dγ = Σ dy·x̂, dβ = Σ dy (over N and space). */
export function instanceNormBackward(
  x: Tensor,
  weight: Tensor,
  dy: Tensor,
  eps: number,
): { dx: Tensor; dWeight: Tensor; dBias: Tensor } {
  const [N, C] = x.shape as Dims5;
  const m = x.size / (N * C);
  const dx = new Tensor(x.shape);
  const dWeight = new Tensor([C]);
  const dBias = new Tensor([C]);
  const dW = new Float64Array(C);
  const dB = new Float64Array(C);
  const xd = x.data;
  const g = dy.data;
  for (let nc = 0; nc < N * C; nc++) {
    const c = nc % C;
    const base = nc * m;
    const [mean, inv] = meanInvStd(xd, base, m, eps);
    let sumDy = 0;
    let sumDyXhat = 0;
    for (let i = base; i < base + m; i++) {
      sumDy += g[i]!;
      sumDyXhat += g[i]! * (xd[i]! - mean) * inv;
    }
    dW[c] = dW[c]! + sumDyXhat;
    dB[c] = dB[c]! + sumDy;
    const k = weight.data[c]! * inv;
    const a = sumDy / m;
    const b = sumDyXhat / m;
    for (let i = base; i < base + m; i++) dx.data[i] = k * (g[i]! - a - (xd[i]! - mean) * inv * b);
  }
  dWeight.data.set(dW);
  dBias.data.set(dB);
  return { dx, dWeight, dBias };
}

export function leakyRelu(x: Tensor, slope: number): Tensor {
  const out = new Tensor(x.shape);
  const xd = x.data;
  const od = out.data;
  for (let i = 0; i < xd.length; i++) {
    const v = xd[i]!;
    od[i] = v >= 0 ? v : v * slope;
  }
  return out;
}

/** torch: grad where x > 0, slope·grad elsewhere (x = 0 takes the slope). */
export function leakyReluBackward(x: Tensor, dy: Tensor, slope: number): Tensor {
  const out = new Tensor(x.shape);
  const xd = x.data;
  const g = dy.data;
  const od = out.data;
  for (let i = 0; i < xd.length; i++) od[i] = xd[i]! > 0 ? g[i]! : g[i]! * slope;
  return out;
}

/** Nearest upsampling: build each output row once, then copy it for the sH·sD repeated rows. */
export function upsampleNearest(x: Tensor, scale: Vec3, outShape: readonly number[]): Tensor {
  const [N, C, D, H, W] = x.shape as Dims5;
  const [sD, sH, sW] = scale;
  const oH = H * sH;
  const oW = W * sW;
  const out = new Tensor(outShape);
  const od = out.data;
  const xd = x.data;
  for (let nc = 0; nc < N * C; nc++) {
    for (let z = 0; z < D; z++) {
      for (let y = 0; y < H; y++) {
        const src = ((nc * D + z) * H + y) * W;
        const first = ((nc * D * sD + z * sD) * oH + y * sH) * oW;
        for (let w = 0; w < W; w++) {
          const v = xd[src + w]!;
          for (let j = 0; j < sW; j++) od[first + w * sW + j] = v;
        }
        const row = od.subarray(first, first + oW);
        for (let a = 0; a < sD; a++) {
          for (let b = 0; b < sH; b++) {
            if (a !== 0 || b !== 0) od.set(row, ((nc * D * sD + z * sD + a) * oH + y * sH + b) * oW);
          }
        }
      }
    }
  }
  return out;
}

/** Adjoint of nearest upsampling: each x voxel sums dy over its sD×sH×sW block. */
export function upsampleNearestBackward(dy: Tensor, scale: Vec3, xShape: readonly number[]): Tensor {
  const [N, C, D, H, W] = xShape as Dims5;
  const [sD, sH, sW] = scale;
  const oH = H * sH;
  const oW = W * sW;
  const dx = new Tensor(xShape);
  const g = dy.data;
  const acc = new Float64Array(W);
  for (let nc = 0; nc < N * C; nc++) {
    for (let z = 0; z < D; z++) {
      for (let y = 0; y < H; y++) {
        acc.fill(0);
        for (let a = 0; a < sD; a++) {
          for (let b = 0; b < sH; b++) {
            const row = ((nc * D * sD + z * sD + a) * oH + y * sH + b) * oW;
            for (let w = 0; w < W; w++) {
              let s = 0;
              for (let j = 0; j < sW; j++) s += g[row + w * sW + j]!;
              acc[w] = acc[w]! + s;
            }
          }
        }
        dx.data.set(acc, ((nc * D + z) * H + y) * W);
      }
    }
  }
  return dx;
}

/** torch.optim.SGD, in place (see Backend.sgdUpdate). */
export function sgdUpdate(param: Tensor, grad: Tensor, buf: Tensor, step: SgdStep, firstStep: boolean): void {
  const { lr, momentum: mu, weightDecay: wd, nesterov } = step;
  const p = param.data;
  const gd = grad.data;
  const b = buf.data;
  for (let i = 0; i < p.length; i++) {
    const g = gd[i]! + wd * p[i]!;
    const v = firstStep ? g : mu * b[i]! + g;
    b[i] = v;
    p[i] = p[i]! - lr * (nesterov ? g + mu * v : v);
  }
}

// Pure data movement: the reference kernels are already as fast as a copy gets.
export { addRef as add, concatRef as concat } from '../ref/elementwise.js';
export { sliceRef as slice } from '../ref/backward.js';
