import type { Conv3dAttrs } from '../../ops.js';
import { Tensor } from '../../tensor.js';
import { type WasmContext, align64, ceil4, loadPaddedSlab, planesPerSlab, run } from './slabs.js';

type Dims5 = readonly [number, number, number, number, number];

/**
 * Geometry of a convolution's input side, shared by forward and weight gradient: the padded x slab
 * [Ci][Dz][Hp][Wp] and, for W-stride > 1, the packed tap rows [Ci][Dz][Hp][kW][oWv] that make every
 * tap a contiguous run along W (the kernels only ever read contiguous rows).
 */
class InputSlabs {
  readonly xDims: Dims5;
  readonly k: readonly [number, number, number];
  readonly K: number;
  readonly Hp: number;
  readonly Wp: number;
  readonly oWv: number;
  readonly packed: boolean;
  readonly rowLen: number;
  readonly kwStride: number;
  readonly slack: number;
  readonly xPlane: number;
  readonly pkPlane: number;
  xPtr = 0;
  pkPtr = 0;

  constructor(
    xShape: readonly number[],
    wShape: readonly number[],
    readonly attrs: Conv3dAttrs,
    oW: number,
  ) {
    this.xDims = xShape as Dims5;
    const [, Ci, , H, W] = this.xDims;
    const [, , kD, kH, kW] = wShape as Dims5;
    this.k = [kD, kH, kW];
    this.K = Ci * kD * kH * kW;
    this.Hp = H + 2 * attrs.padding[1];
    this.Wp = W + 2 * attrs.padding[2];
    this.oWv = ceil4(oW);
    this.packed = attrs.stride[2] > 1;
    this.rowLen = this.packed ? kW * this.oWv : this.Wp;
    this.kwStride = this.packed ? this.oWv : 1;
    // Vector reads run up to (stride·oWv + kW + 8) floats past the start of the last row.
    this.slack = (attrs.stride[2] * this.oWv + kW + 64) * 4;
    this.xPlane = Ci * this.Hp * this.Wp * 4;
    this.pkPlane = this.packed ? Ci * this.Hp * this.rowLen * 4 : 0;
  }

  /** Bytes for a slab of nOD output planes. */
  bytes(nOD: number): number {
    const Dz = (nOD - 1) * this.attrs.stride[0] + this.k[0];
    return Dz * (this.xPlane + this.pkPlane) + 2 * this.slack;
  }

  alloc(ctx: WasmContext, nOD: number): void {
    const Dz = (nOD - 1) * this.attrs.stride[0] + this.k[0];
    this.xPtr = ctx.arena.alloc(Dz * this.xPlane + this.slack);
    this.pkPtr = this.packed ? ctx.arena.alloc(Dz * this.pkPlane + this.slack) : 0;
  }

  /** Loads the x planes output planes [od0, od0 + nd) read; returns the param prefix of the kernels. */
  load(ctx: WasmContext, x: Float32Array, n: number, od0: number, nd: number): number[] {
    const [sD, , sW] = this.attrs.stride;
    const [pD, pH, pW] = this.attrs.padding;
    const [kD, kH, kW] = this.k;
    const Ci = this.xDims[1];
    const Dz = (nd - 1) * sD + kD;
    const pads = [pH, pW, this.Hp, this.Wp] as const;
    loadPaddedSlab(ctx.arena, this.xPtr, x, this.xDims, n, od0 * sD - pD, Dz, pads, this.slack);
    if (this.packed) {
      run(ctx, 'packStrided', [this.xPtr, Ci * Dz * this.Hp, this.Wp, kW, sW, this.oWv, this.pkPtr]);
    }
    const base = this.packed ? this.pkPtr : this.xPtr;
    return [base, Ci, Dz, this.Hp, this.rowLen, this.kwStride, kD, kH, kW, sD, this.attrs.stride[1]];
  }
}

/** Forward conv3d: slabs of output planes; rows of each slab split over threads. */
export function conv3dForward(
  ctx: WasmContext,
  x: Tensor,
  w: Tensor,
  bias: Tensor | null,
  attrs: Conv3dAttrs,
  outShape: readonly number[],
): Tensor {
  const [N, , oD, oH, oW] = outShape as Dims5;
  const Co = w.shape[0] as number;
  const s = new InputSlabs(x.shape, w.shape, attrs, oW);
  const { K, oWv } = s;
  const CoP = ceil4(Co);
  const T = ctx.pool.threads;
  const scratchStride = align64(K * 4) + CoP * oWv * 4 + 64;
  const fixed = CoP * K * 4 + CoP * 4 + T * scratchStride + s.bytes(1);
  const outPlane = Co * oH * oW * 4;
  const nOD = planesPerSlab(ctx.slabBytes, fixed, s.bytes(2) - s.bytes(1) + outPlane, oD);

  const { arena } = ctx;
  arena.reset();
  const wPtr = arena.alloc(CoP * K * 4);
  packWeights(arena.f32(wPtr, CoP * K), w.data, Co, K);
  const bPtr = arena.alloc(CoP * 4);
  if (bias !== null) arena.f32(bPtr, Co).set(bias.data);
  else arena.f32(bPtr, CoP).fill(0);
  const scratch = arena.alloc(T * scratchStride);
  s.alloc(ctx, nOD);
  const outPtr = arena.alloc(nOD * outPlane);

  const out = new Tensor(outShape);
  for (let n = 0; n < N; n++) {
    for (let od0 = 0; od0 < oD; od0 += nOD) {
      const nd = Math.min(nOD, oD - od0);
      const prefix = s.load(ctx, x.data, n, od0, nd);
      run(ctx, 'convForward', [
        ...prefix,
        nd,
        oH,
        oW,
        oWv,
        Co,
        CoP,
        wPtr,
        bPtr,
        outPtr,
        scratch,
        scratchStride,
      ]);
      const run1 = nd * oH * oW;
      for (let co = 0; co < Co; co++) {
        out.data.set(arena.f32(outPtr + co * run1 * 4, run1), ((n * Co + co) * oD + od0) * oH * oW);
      }
    }
  }
  return out;
}

/** [Co][K] → [ceil4(Co)/4][K][4], zero rows for the padded channels. */
export function packWeights(dst: Float32Array, w: Float32Array, Co: number, K: number): void {
  dst.fill(0);
  for (let co = 0; co < Co; co++) {
    const cb = co >> 2;
    const j = co & 3;
    const src = co * K;
    const base = cb * K * 4 + j;
    for (let k = 0; k < K; k++) dst[base + k * 4] = w[src + k]!;
  }
}

/** dL/dweight by a GEMM over output rows (reduction along W in SIMD lanes); dL/dbias in float64. */
export function conv3dBackwardWeight(
  ctx: WasmContext,
  x: Tensor,
  dy: Tensor,
  attrs: Conv3dAttrs,
  weightShape: readonly number[],
): { dWeight: Tensor; dBias: Tensor } {
  const [N, Co, oD, oH, oW] = dy.shape as Dims5;
  const s = new InputSlabs(x.shape, weightShape, attrs, oW);
  const { K, oWv } = s;
  const CoP = ceil4(Co);
  const T = ctx.pool.threads;
  const scratchStride = align64(K * 4);
  const fixed = CoP * K * 16 + T * scratchStride + s.bytes(1);
  const dyPlane = CoP * oH * oWv * 4;
  const nOD = planesPerSlab(ctx.slabBytes, fixed, s.bytes(2) - s.bytes(1) + dyPlane, oD);

  const { arena } = ctx;
  arena.reset();
  const dWPtr = arena.alloc(CoP * K * 16); // 4 lane partial sums per weight
  arena.f32(dWPtr, CoP * K * 4).fill(0);
  const scratch = arena.alloc(T * scratchStride);
  s.alloc(ctx, nOD);
  const dyPtr = arena.alloc(nOD * dyPlane);

  for (let n = 0; n < N; n++) {
    for (let od0 = 0; od0 < oD; od0 += nOD) {
      const nd = Math.min(nOD, oD - od0);
      const prefix = s.load(ctx, x.data, n, od0, nd);
      const nR = nd * oH;
      // [CoP/4][nR][oWv/4][4 channels][4 lanes]: the kernel reads one vector of 4 channels at a time.
      const view = arena.f32(dyPtr, CoP * nR * oWv);
      view.fill(0);
      for (let co = 0; co < Co; co++) {
        const src = ((n * Co + co) * oD + od0) * oH * oW;
        const dst = (co >> 2) * nR * oWv * 4 + (co & 3) * 4;
        for (let r = 0; r < nR; r++) {
          const rs = src + r * oW;
          const rd = dst + r * oWv * 4;
          for (let ow = 0; ow < oW; ow++) view[rd + (ow >> 2) * 16 + (ow & 3)] = dy.data[rs + ow]!;
        }
      }
      run(ctx, 'convBackwardWeight', [...prefix, nd, oH, oWv, CoP, dyPtr, dWPtr, scratch, scratchStride]);
    }
  }
  const lanes = arena.f32(dWPtr, Co * K * 4);
  const dWeight = new Tensor(weightShape);
  for (let i = 0; i < Co * K; i++) {
    dWeight.data[i] = lanes[4 * i]! + lanes[4 * i + 1]! + lanes[4 * i + 2]! + lanes[4 * i + 3]!;
  }
  const dBias = new Tensor([Co]);
  const plane = oD * oH * oW;
  for (let co = 0; co < Co; co++) {
    let sum = 0;
    for (let n = 0; n < N; n++) {
      const base = (n * Co + co) * plane;
      for (let i = 0; i < plane; i++) sum += dy.data[base + i]!;
    }
    dBias.data[co] = sum;
  }
  return { dWeight, dBias };
}
