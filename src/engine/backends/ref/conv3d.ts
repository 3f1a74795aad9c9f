import type { Conv3dAttrs } from '../../ops.js';
import { Tensor } from '../../tensor.js';

/**
 * Direct 3-D convolution (cross-correlation, as torch.nn.Conv3d), the readable oracle.
 * x (N, Ci, D, H, W), w (Co, Ci, kD, kH, kW) → (N, Co, oD, oH, oW). Each output plane is accumulated in
 * float64 and rounded once, so the oracle carries less rounding error than any fast kernel.
 * Loop order: weight tap outermost, then a contiguous sweep along W, which keeps the inner loop simple.
 */
export function conv3dRef(
  x: Tensor,
  w: Tensor,
  bias: Tensor | null,
  attrs: Conv3dAttrs,
  outShape: readonly number[],
): Tensor {
  const [N, Ci, D, H, W] = x.shape as [number, number, number, number, number];
  const [Co, , kD, kH, kW] = w.shape as [number, number, number, number, number];
  const [, , oD, oH, oW] = outShape as [number, number, number, number, number];
  const [sD, sH, sW] = attrs.stride;
  const [pD, pH, pW] = attrs.padding;
  const out = new Tensor(outShape);
  const plane = oD * oH * oW;
  const acc = new Float64Array(plane);
  const xd = x.data;
  const wd = w.data;
  // Valid output range along one axis for tap k: o·s − p + k ∈ [0, size).
  const lo = (p: number, k: number, s: number): number => Math.max(0, Math.ceil((p - k) / s));
  const hi = (p: number, k: number, s: number, size: number, o: number): number =>
    Math.min(o, Math.floor((size - 1 + p - k) / s) + 1);
  // 3-tap rows along W with stride 1 and padding 1 (every 3×3×3 stride-1 conv, and the [2,2,2] ones).
  const row3 = kW === 3 && sW === 1 && pW === 1 && W >= 2;
  for (let n = 0; n < N; n++) {
    for (let co = 0; co < Co; co++) {
      acc.fill(bias === null ? 0 : bias.data[co]!);
      for (let ci = 0; ci < Ci; ci++) {
        const xBase = (n * Ci + ci) * D * H * W;
        for (let kd = 0; kd < kD; kd++) {
          const d0 = lo(pD, kd, sD);
          const d1 = hi(pD, kd, sD, D, oD);
          for (let kh = 0; kh < kH; kh++) {
            const h0 = lo(pH, kh, sH);
            const h1 = hi(pH, kh, sH, H, oH);
            if (row3) {
              // All three W taps in one sweep of the row (same sums, a third of the loop overhead).
              const wb = (((co * Ci + ci) * kD + kd) * kH + kh) * 3;
              const [a, b, c] = [wd[wb]!, wd[wb + 1]!, wd[wb + 2]!];
              for (let od = d0; od < d1; od++) {
                const id = od * sD - pD + kd;
                for (let oh = h0; oh < h1; oh++) {
                  const xr = xBase + (id * H + oh * sH - pH + kh) * W;
                  const or = (od * oH + oh) * W;
                  acc[or] = acc[or]! + b * xd[xr]! + c * xd[xr + 1]!;
                  for (let o = 1; o < W - 1; o++)
                    acc[or + o] = acc[or + o]! + a * xd[xr + o - 1]! + b * xd[xr + o]! + c * xd[xr + o + 1]!;
                  acc[or + W - 1] = acc[or + W - 1]! + a * xd[xr + W - 2]! + b * xd[xr + W - 1]!;
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
                  // o walks the output row, i the input row (stride sW).
                  let i = xBase + (id * H + ih) * W - pW + kw + w0 * sW;
                  const oEnd = (od * oH + oh) * oW + w1;
                  for (let o = oEnd - (w1 - w0); o < oEnd; o++, i += sW) acc[o] = acc[o]! + wv * xd[i]!;
                }
              }
            }
          }
        }
      }
      out.data.set(acc, (n * Co + co) * plane);
    }
  }
  return out;
}
