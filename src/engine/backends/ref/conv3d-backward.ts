import type { Conv3dAttrs } from '../../ops.js';
import { Tensor } from '../../tensor.js';

/**
 * Gradients of conv3d (cross-correlation) for the readable oracle. Same index algebra as the forward
 * kernel: output voxel o reads input voxel i = o·s − p + k, so for tap k the valid outputs along one axis
 * are o ∈ [lo, hi). Sums are accumulated in float64 and rounded once.
 */
const lo = (p: number, k: number, s: number): number => Math.max(0, Math.ceil((p - k) / s));
const hi = (p: number, k: number, s: number, size: number, o: number): number =>
  Math.min(o, Math.floor((size - 1 + p - k) / s) + 1);

type Dims5 = [number, number, number, number, number];

/** dx (N, Ci, D, H, W) = Σ over co and taps of w[co, ci, k] · dy scattered back to i = o·s − p + k. */
export function conv3dBackwardDataRef(
  dy: Tensor,
  w: Tensor,
  attrs: Conv3dAttrs,
  xShape: readonly number[],
): Tensor {
  const [N, Ci, D, H, W] = xShape as Dims5;
  const [Co, , kD, kH, kW] = w.shape as Dims5;
  const [, , oD, oH, oW] = dy.shape as Dims5;
  const [sD, sH, sW] = attrs.stride;
  const [pD, pH, pW] = attrs.padding;
  const dx = new Tensor(xShape);
  const inPlane = D * H * W;
  const outPlane = oD * oH * oW;
  const acc = new Float64Array(inPlane);
  const dyd = dy.data;
  const wd = w.data;
  const row3 = kW === 3 && sW === 1 && pW === 1 && W >= 2; // as in the forward kernel
  for (let n = 0; n < N; n++) {
    for (let ci = 0; ci < Ci; ci++) {
      acc.fill(0);
      for (let co = 0; co < Co; co++) {
        const dyBase = (n * Co + co) * outPlane;
        for (let kd = 0; kd < kD; kd++) {
          const d0 = lo(pD, kd, sD);
          const d1 = hi(pD, kd, sD, D, oD);
          for (let kh = 0; kh < kH; kh++) {
            const h0 = lo(pH, kh, sH);
            const h1 = hi(pH, kh, sH, H, oH);
            if (row3) {
              // dx[i] += a·dy[i+1] + b·dy[i] + c·dy[i−1] along the row (o = i + 1 − kw).
              const wb = (((co * Ci + ci) * kD + kd) * kH + kh) * 3;
              const [a, b, c] = [wd[wb]!, wd[wb + 1]!, wd[wb + 2]!];
              for (let od = d0; od < d1; od++) {
                const id = od * sD - pD + kd;
                for (let oh = h0; oh < h1; oh++) {
                  const xr = (id * H + oh * sH - pH + kh) * W;
                  const or = dyBase + (od * oH + oh) * W;
                  acc[xr] = acc[xr]! + a * dyd[or + 1]! + b * dyd[or]!;
                  for (let i = 1; i < W - 1; i++)
                    acc[xr + i] =
                      acc[xr + i]! + a * dyd[or + i + 1]! + b * dyd[or + i]! + c * dyd[or + i - 1]!;
                  acc[xr + W - 1] = acc[xr + W - 1]! + b * dyd[or + W - 1]! + c * dyd[or + W - 2]!;
                }
              }
              continue;
            }
            for (let kw = 0; kw < kW; kw++) {
              const w0 = lo(pW, kw, sW);
              const w1 = hi(pW, kw, sW, W, oW);
              const wv = wd[(((co * Ci + ci) * kD + kd) * kH + kh) * kW + kw]!;
              if (wv === 0) continue;
              for (let od = d0; od < d1; od++) {
                const id = od * sD - pD + kd;
                for (let oh = h0; oh < h1; oh++) {
                  const ih = oh * sH - pH + kh;
                  let i = (id * H + ih) * W - pW + kw + w0 * sW;
                  const oEnd = dyBase + (od * oH + oh) * oW + w1;
                  for (let o = oEnd - (w1 - w0); o < oEnd; o++, i += sW) acc[i] = acc[i]! + wv * dyd[o]!;
                }
              }
            }
          }
        }
      }
      dx.data.set(acc, (n * Ci + ci) * inPlane);
    }
  }
  return dx;
}

/** dw[co, ci, k] = Σ_n Σ_o dy[n, co, o] · x[n, ci, o·s − p + k]; dBias[co] = Σ_n Σ_o dy[n, co, o]. */
export function conv3dBackwardWeightRef(
  x: Tensor,
  dy: Tensor,
  attrs: Conv3dAttrs,
  weightShape: readonly number[],
): { dWeight: Tensor; dBias: Tensor } {
  const [N, Ci, D, H, W] = x.shape as Dims5;
  const [Co, , kD, kH, kW] = weightShape as Dims5;
  const [, , oD, oH, oW] = dy.shape as Dims5;
  const [sD, sH, sW] = attrs.stride;
  const [pD, pH, pW] = attrs.padding;
  const dWeight = new Tensor(weightShape);
  const dBias = new Tensor([Co]);
  const inPlane = D * H * W;
  const outPlane = oD * oH * oW;
  const xd = x.data;
  const dyd = dy.data;
  const row3 = kW === 3 && sW === 1 && pW === 1 && W >= 2; // as in the forward kernel
  for (let co = 0; co < Co; co++) {
    let b = 0;
    for (let n = 0; n < N; n++) {
      const base = (n * Co + co) * outPlane;
      for (let i = 0; i < outPlane; i++) b += dyd[base + i]!;
    }
    dBias.data[co] = b;
    for (let ci = 0; ci < Ci; ci++) {
      for (let kd = 0; kd < kD; kd++) {
        const d0 = lo(pD, kd, sD);
        const d1 = hi(pD, kd, sD, D, oD);
        for (let kh = 0; kh < kH; kh++) {
          const h0 = lo(pH, kh, sH);
          const h1 = hi(pH, kh, sH, H, oH);
          if (row3) {
            // The three W taps in one sweep: s_kw = Σ dy[o]·x[o − 1 + kw].
            let [s0, s1, s2] = [0, 0, 0];
            for (let n = 0; n < N; n++) {
              const xBase = (n * Ci + ci) * inPlane;
              const dyBase = (n * Co + co) * outPlane;
              for (let od = d0; od < d1; od++) {
                const id = od * sD - pD + kd;
                for (let oh = h0; oh < h1; oh++) {
                  const xr = xBase + (id * H + oh * sH - pH + kh) * W;
                  const or = dyBase + (od * oH + oh) * W;
                  s1 += dyd[or]! * xd[xr]!;
                  s2 += dyd[or]! * xd[xr + 1]!;
                  for (let o = 1; o < W - 1; o++) {
                    const g = dyd[or + o]!;
                    s0 += g * xd[xr + o - 1]!;
                    s1 += g * xd[xr + o]!;
                    s2 += g * xd[xr + o + 1]!;
                  }
                  s0 += dyd[or + W - 1]! * xd[xr + W - 2]!;
                  s1 += dyd[or + W - 1]! * xd[xr + W - 1]!;
                }
              }
            }
            const wb = (((co * Ci + ci) * kD + kd) * kH + kh) * 3;
            dWeight.data[wb] = s0;
            dWeight.data[wb + 1] = s1;
            dWeight.data[wb + 2] = s2;
            continue;
          }
          for (let kw = 0; kw < kW; kw++) {
            const w0 = lo(pW, kw, sW);
            const w1 = hi(pW, kw, sW, W, oW);
            let s = 0;
            for (let n = 0; n < N; n++) {
              const xBase = (n * Ci + ci) * inPlane;
              const dyBase = (n * Co + co) * outPlane;
              for (let od = d0; od < d1; od++) {
                const id = od * sD - pD + kd;
                for (let oh = h0; oh < h1; oh++) {
                  const ih = oh * sH - pH + kh;
                  let i = xBase + (id * H + ih) * W - pW + kw + w0 * sW;
                  const oEnd = dyBase + (od * oH + oh) * oW + w1;
                  for (let o = oEnd - (w1 - w0); o < oEnd; o++, i += sW) s += dyd[o]! * xd[i]!;
                }
              }
            }
            dWeight.data[(((co * Ci + ci) * kD + kd) * kH + kh) * kW + kw] = s;
          }
        }
      }
    }
  }
  return { dWeight, dBias };
}
