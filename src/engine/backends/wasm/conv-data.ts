import type { Conv3dAttrs } from '../../ops.js';
import { Tensor } from '../../tensor.js';
import { type WasmContext, align64, ceil4, planesPerSlab, run } from './slabs.js';

type Dims5 = readonly [number, number, number, number, number];

/** The kernel taps kd ≡ phase (mod stride): those that reach an input position of that phase. */
function taps(k: number, stride: number, phase: number): number[] {
  const out: number[] = [];
  for (let t = phase; t < k; t += stride) out.push(t);
  return out;
}

/**
 * dL/dx of conv3d (the transposed convolution). Along D and H only the taps of the input position's
 * phase contribute (one packed weight set per phase pair, so a stride-2 conv does no work on zeros);
 * along W (the SIMD axis) dy is dilated by the stride and the kernel flipped, so every dx row is a
 * stride-1 GEMM over contiguous rows of that dilated dy.
 */
export function conv3dBackwardData(
  ctx: WasmContext,
  dy: Tensor,
  w: Tensor,
  attrs: Conv3dAttrs,
  xShape: readonly number[],
): Tensor {
  const [N, Co, oD, oH, oW] = dy.shape as Dims5;
  const [, Ci, D, H, W] = xShape as Dims5;
  const [, , kD, kH, kW] = w.shape as Dims5;
  const [sD, sH, sW] = attrs.stride;
  const [pD, pH, pW] = attrs.padding;
  const kVol = kD * kH * kW;
  const CiP = ceil4(Ci);
  const oWv = ceil4(W); // dx rows, rounded to whole vectors
  const Ep = ceil4(oWv + kW - 1); // dilated dy row length
  const shift = kW - 1 - pW; // E[j] = dyDilated[j − shift]
  const T = ctx.pool.threads;
  const maxK = Co * kVol;
  const scratchStride = align64(maxK * 4) + CiP * oWv * 4 + 64;
  const ePlane = Co * oH * Ep * 4;
  const outPlane = Ci * H * W * 4;
  const fixed = CiP * maxK * 4 + 64 + T * scratchStride + (kD + 1) * ePlane + Ep * 4 + 1024;
  const nZ = planesPerSlab(ctx.slabBytes, fixed, outPlane + ePlane / sD, D);

  const { arena } = ctx;
  arena.reset();
  // Phase weight packs: [CiP/4][K][4] with k = (co, kd ∈ taps, kh ∈ taps, kw') and w flipped along W.
  const phases: { ptr: number; K: number }[] = [];
  for (let phD = 0; phD < sD; phD++) {
    for (let phH = 0; phH < sH; phH++) {
      const tD = taps(kD, sD, phD);
      const tH = taps(kH, sH, phH);
      const K = Co * tD.length * tH.length * kW;
      const ptr = arena.alloc(Math.max(1, CiP * K) * 4);
      const view = arena.f32(ptr, CiP * K);
      view.fill(0);
      let k = 0;
      for (let co = 0; co < Co; co++) {
        for (const kd of tD) {
          for (const kh of tH) {
            for (let kw2 = 0; kw2 < kW; kw2++, k++) {
              for (let ci = 0; ci < Ci; ci++) {
                const src = ((co * Ci + ci) * kD + kd) * kH + kh;
                view[((ci >> 2) * K + k) * 4 + (ci & 3)] = w.data[src * kW + kW - 1 - kw2]!;
              }
            }
          }
        }
      }
      phases.push({ ptr, K });
    }
  }
  const phasePtr = arena.alloc(phases.length * 8);
  arena.i32(phasePtr, phases.length * 2).set(phases.flatMap((p) => [p.ptr, p.K]));
  const biasPtr = arena.alloc(CiP * 4);
  arena.f32(biasPtr, CiP).fill(0);
  const zeroRow = arena.alloc(Ep * 4 + 64);
  arena.f32(zeroRow, Ep + 16).fill(0);
  const scratch = arena.alloc(T * scratchStride);
  const maxDz = Math.floor((nZ - 1) / sD) + Math.ceil(kD / sD) + 1;
  const ePtr = arena.alloc(maxDz * ePlane + 64);
  const outPtr = arena.alloc(nZ * outPlane);

  const dx = new Tensor(xShape);
  for (let n = 0; n < N; n++) {
    for (let iz0 = 0; iz0 < D; iz0 += nZ) {
      const nz = Math.min(nZ, D - iz0);
      const od0 = Math.max(0, Math.ceil((iz0 + pD - (kD - 1)) / sD));
      const od1 = Math.min(oD - 1, Math.floor((iz0 + nz - 1 + pD) / sD));
      const Dz = Math.max(1, od1 - od0 + 1);
      const view = arena.f32(ePtr, Co * Dz * oH * Ep);
      view.fill(0);
      for (let co = 0; co < Co; co++) {
        for (let od = od0; od <= od1; od++) {
          for (let oh = 0; oh < oH; oh++) {
            const src = (((n * Co + co) * oD + od) * oH + oh) * oW;
            const dst = ((co * Dz + od - od0) * oH + oh) * Ep;
            for (let ow = 0; ow < oW; ow++) {
              const j = ow * sW + shift;
              if (j >= 0 && j < Ep) view[dst + j] = dy.data[src + ow]!;
            }
          }
        }
      }
      run(ctx, 'convBackwardData', [
        ...[ePtr, Co, Dz, oH, Ep, kD, kH, kW, sD, sH, pD, pH, iz0, od0, nz, H, W, oWv, Ci, CiP],
        ...[zeroRow, phasePtr, biasPtr, outPtr, scratch, scratchStride, oD],
      ]);
      const run1 = nz * H * W;
      for (let ci = 0; ci < Ci; ci++) {
        dx.data.set(arena.f32(outPtr + ci * run1 * 4, run1), ((n * Ci + ci) * D + iz0) * H * W);
      }
    }
  }
  return dx;
}
