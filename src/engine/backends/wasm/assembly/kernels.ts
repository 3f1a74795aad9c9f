// AssemblyScript source of the wasm backend's convolution kernels (compiled by scripts/build-wasm.mjs,
// twice: plain SIMD128 and relaxed SIMD). Not part of the TypeScript program (tsconfig/eslint exclude it).
//
// Memory is owned by JS: every kernel gets a pointer `p` to an i32 parameter block, plus its thread
// index t of T threads; all pointers are byte offsets into the one shared memory. No allocation, no
// static data, so every thread's instance can share the memory without stepping on each other.
//
// All three convolutions run the same register-blocked GEMM idea: K "rows" (one per input channel ×
// kernel tap), each a contiguous run along the output W axis; a table of K row pointers is built once
// per slab, and a per-output-row byte offset is added to all of them. Weights are packed [Co/4][K][4]
// so one 4-wide block of output channels reads consecutive splats.

@inline function fma(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

@inline function prm(p: usize, i: i32): i32 {
  return load<i32>(p + (<usize>i << 2));
}

@inline function rowsOf(t: i32, T: i32, n: i32): i64 {
  // Contiguous share [r0, r1) of n items for thread t (packed as r0 | r1 << 32).
  const r0 = <i64>(<i64>n * t / T);
  const r1 = <i64>(<i64>n * (t + 1) / T);
  return r0 | (r1 << 32);
}

// 4 output channels × 8 output columns: out[c][j] = bias[c] + Σ_k w[k][c] · row_k[off + j].
// 8 accumulators + 2 x vectors + 1 splat: V8 keeps 15 xmm registers for wasm, and the 12-accumulator
// 4 × 12 block spilled three of them on every iteration. K is unrolled by 2 to halve the loop overhead.
@inline function mk4x2(w: usize, tab: usize, K: i32, off: usize, bias: usize, out: usize, os: usize): void {
  let a00 = v128.load32_splat(bias), a01 = a00;
  let a10 = v128.load32_splat(bias, 4), a11 = a10;
  let a20 = v128.load32_splat(bias, 8), a21 = a20;
  let a30 = v128.load32_splat(bias, 12), a31 = a30;
  for (let k = 0; k < K; k++) {
    const x = <usize>load<u32>(tab + (<usize>k << 2)) + off;
    const x0 = v128.load(x), x1 = v128.load(x, 16);
    let s = v128.load32_splat(w);
    a00 = fma(s, x0, a00); a01 = fma(s, x1, a01);
    s = v128.load32_splat(w, 4);
    a10 = fma(s, x0, a10); a11 = fma(s, x1, a11);
    s = v128.load32_splat(w, 8);
    a20 = fma(s, x0, a20); a21 = fma(s, x1, a21);
    s = v128.load32_splat(w, 12);
    a30 = fma(s, x0, a30); a31 = fma(s, x1, a31);
    w += 16;
  }
  v128.store(out, a00); v128.store(out, a01, 16);
  out += os;
  v128.store(out, a10); v128.store(out, a11, 16);
  out += os;
  v128.store(out, a20); v128.store(out, a21, 16);
  out += os;
  v128.store(out, a30); v128.store(out, a31, 16);
}

// Tail: 4 output channels × 4 columns.
@inline function mk4x1(w: usize, tab: usize, K: i32, off: usize, bias: usize, out: usize, os: usize): void {
  let a0 = v128.load32_splat(bias), a1 = v128.load32_splat(bias, 4);
  let a2 = v128.load32_splat(bias, 8), a3 = v128.load32_splat(bias, 12);
  for (let k = 0; k < K; k++) {
    const x0 = v128.load(<usize>load<u32>(tab + (<usize>k << 2)) + off);
    a0 = fma(v128.load32_splat(w), x0, a0);
    a1 = fma(v128.load32_splat(w, 4), x0, a1);
    a2 = fma(v128.load32_splat(w, 8), x0, a2);
    a3 = fma(v128.load32_splat(w, 12), x0, a3);
    w += 16;
  }
  v128.store(out, a0); v128.store(out + os, a1); v128.store(out + 2 * os, a2); v128.store(out + 3 * os, a3);
}

// One output row for all channel blocks: rowBuf [CoP][oWv] (oWv = oW rounded up to 4).
function gemmRow(w: usize, tab: usize, K: i32, off: usize, bias: usize, CoP: i32, oWv: i32, rowBuf: usize): void {
  const nVec = oWv >> 2;
  const os = <usize>oWv << 2;
  const wStride = <usize>K << 4;
  // Column block outermost: its x rows (K × 48 bytes) stay in L1 while the weights stream sequentially.
  let v = 0;
  for (; v + 2 <= nVec; v += 2) {
    const vo = <usize>v << 4;
    for (let cb = 0; cb < CoP; cb += 4) {
      mk4x2(w + <usize>(cb >> 2) * wStride, tab, K, off + vo, bias + (<usize>cb << 2), rowBuf + <usize>cb * os + vo, os);
    }
  }
  for (; v < nVec; v++) {
    const vo = <usize>v << 4;
    for (let cb = 0; cb < CoP; cb += 4) {
      mk4x1(w + <usize>(cb >> 2) * wStride, tab, K, off + vo, bias + (<usize>cb << 2), rowBuf + <usize>cb * os + vo, os);
    }
  }
}

// Row pointer table for x taps: k = ((ci·kD + kd)·kH + kh)·kW + kw; row (iz, iy) of channel ci.
function buildFwdTable(tab: usize, xBase: usize, Ci: i32, Dz: i32, Hp: i32, rowLen: i32, kwStride: i32, kD: i32, kH: i32, kW: i32): void {
  let k: usize = 0;
  for (let ci = 0; ci < Ci; ci++)
    for (let kd = 0; kd < kD; kd++)
      for (let kh = 0; kh < kH; kh++) {
        const row = xBase + ((<usize>(ci * Dz + kd) * Hp + kh) * rowLen << 2);
        for (let kw = 0; kw < kW; kw++) {
          store<u32>(tab + (k << 2), <u32>(row + (<usize>(kw * kwStride) << 2)));
          k++;
        }
      }
}

/**
 * Forward conv over one slab. Params (i32): 0 xBase, 1 Ci, 2 Dz, 3 Hp, 4 rowLen, 5 kwStride, 6 kD, 7 kH,
 * 8 kW, 9 sD, 10 sH, 11 nOD, 12 oH, 13 oW, 14 oWv, 15 Co, 16 CoP, 17 wPacked, 18 bias, 19 outBase,
 * 20 scratch, 21 scratchStride. x slab: [Ci][Dz][Hp] rows of rowLen floats (padded input; for W-stride
 * > 1, kW packed rows of oWv per input row so that every tap is contiguous). out: [Co][nOD][oH][oW].
 */
export function convForward(p: usize, t: i32, T: i32): void {
  const xBase = <usize>prm(p, 0), Ci = prm(p, 1), Dz = prm(p, 2), Hp = prm(p, 3), rowLen = prm(p, 4);
  const kwStride = prm(p, 5), kD = prm(p, 6), kH = prm(p, 7), kW = prm(p, 8), sD = prm(p, 9), sH = prm(p, 10);
  const nOD = prm(p, 11), oH = prm(p, 12), oW = prm(p, 13), oWv = prm(p, 14), Co = prm(p, 15), CoP = prm(p, 16);
  const w = <usize>prm(p, 17), bias = <usize>prm(p, 18), outBase = <usize>prm(p, 19);
  const K = Ci * kD * kH * kW;
  const tab = <usize>prm(p, 20) + <usize>t * <usize>prm(p, 21);
  const rowBuf = tab + ((<usize>K * 4 + 63) & ~63);
  buildFwdTable(tab, xBase, Ci, Dz, Hp, rowLen, kwStride, kD, kH, kW);
  const range = rowsOf(t, T, nOD * oH);
  const r1 = <i32>(range >> 32);
  const plane = <usize>nOD * oH * oW;
  for (let r = <i32>range; r < r1; r++) {
    const od = r / oH, oh = r - od * oH;
    const off = (<usize>(od * sD) * Hp + <usize>(oh * sH)) * rowLen << 2;
    gemmRow(w, tab, K, off, bias, CoP, oWv, rowBuf);
    const dst = outBase + (<usize>r * oW << 2);
    for (let co = 0; co < Co; co++)
      memory.copy(dst + (<usize>co * plane << 2), rowBuf + (<usize>co * oWv << 2), <usize>oW << 2);
  }
}

/**
 * Backward data (transposed conv) over one slab of dx rows. The dy slab E is [Co][Dz][oH] rows of Ep
 * floats, each dilated along W by sW and shifted so that dx[iw] = Σ_kw' wFlip[kw'] · E[iw + kw'].
 * Along D and H, only the taps with kd ≡ iz + pD (mod sD) contribute: one weight pack per phase pair.
 * Params: 0 eBase, 1 Co, 2 Dz, 3 oH, 4 Ep, 5 kD, 6 kH, 7 kW, 8 sD, 9 sH, 10 pD, 11 pH, 12 iz0 (first dx
 * plane), 13 od0 (first dy plane in E), 14 nZ (dx planes), 15 H, 16 W, 17 oWv, 18 Ci, 19 CiP, 20 zeroRow,
 * 21 phaseTable (per phase pair: wPtr, K), 22 bias (zeros), 23 outBase, 24 scratch, 25 scratchStride, 26 oD.
 */
export function convBackwardData(p: usize, t: i32, T: i32): void {
  const eBase = <usize>prm(p, 0), Co = prm(p, 1), Dz = prm(p, 2), oH = prm(p, 3), Ep = prm(p, 4);
  const kD = prm(p, 5), kH = prm(p, 6), kW = prm(p, 7), sD = prm(p, 8), sH = prm(p, 9);
  const pD = prm(p, 10), pH = prm(p, 11), iz0 = prm(p, 12), od0 = prm(p, 13), nZ = prm(p, 14);
  const H = prm(p, 15), W = prm(p, 16), oWv = prm(p, 17), Ci = prm(p, 18), CiP = prm(p, 19);
  const zeroRow = <usize>prm(p, 20), phases = <usize>prm(p, 21), bias = <usize>prm(p, 22);
  const outBase = <usize>prm(p, 23), oD = prm(p, 26);
  const tab = <usize>prm(p, 24) + <usize>t * <usize>prm(p, 25);
  const rowBuf = tab + ((<usize>Co * kD * kH * kW * 4 + 63) & ~63);
  const range = rowsOf(t, T, nZ * H);
  const r1 = <i32>(range >> 32);
  const plane = <usize>nZ * H * W;
  for (let r = <i32>range; r < r1; r++) {
    const zl = r / H, iy = r - zl * H;
    const iz = iz0 + zl;
    const phD = (iz + pD) % sD, phH = (iy + pH) % sH;
    const ph = <usize>(phD * sH + phH) << 3;
    const w = <usize>load<i32>(phases + ph);
    const K = load<i32>(phases + ph + 4);
    let k: usize = 0;
    for (let co = 0; co < Co; co++)
      for (let kd = phD; kd < kD; kd += sD) {
        const od = (iz + pD - kd) / sD; // exact: kd ≡ iz + pD (mod sD)
        const okD = iz + pD - kd >= 0 && od < oD;
        for (let kh = phH; kh < kH; kh += sH) {
          const oh = (iy + pH - kh) / sH;
          const ok = okD && iy + pH - kh >= 0 && oh < oH;
          const row = ok ? eBase + ((<usize>(co * Dz + od - od0) * oH + oh) * Ep << 2) : zeroRow;
          for (let kw = 0; kw < kW; kw++) {
            store<u32>(tab + (k << 2), <u32>(row + (<usize>kw << 2)));
            k++;
          }
        }
      }
    gemmRow(w, tab, K, 0, bias, CiP, oWv, rowBuf);
    const dst = outBase + (<usize>r * W << 2);
    for (let ci = 0; ci < Ci; ci++)
      memory.copy(dst + (<usize>ci * plane << 2), rowBuf + (<usize>ci * oWv << 2), <usize>W << 2);
  }
}

@inline function addTo(ptr: usize, v: v128): void {
  v128.store(ptr, f32x4.add(v128.load(ptr), v));
}

/**
 * Backward weight over one slab: dW[co][k] += Σ_rows Σ_ow dy[co][r][ow] · row_k(r)[ow]. dy slab is
 * [CoP/4][nR][oWv/4][4 channels][4 lanes] with zero tails, so the garbage tail of x rows never counts. Work items are (4 output
 * channels × 2 taps) blocks, split over threads, so no two threads write the same dW entry.
 * Params: 0..10 as convForward (xBase, Ci, Dz, Hp, rowLen, kwStride, kD, kH, kW, sD, sH), 11 nOD, 12 oH,
 * 13 oWv, 14 CoP, 15 dyBase, 16 dW (lane partial sums, f32 [CoP][K][4], accumulated; the caller adds
 * the 4 lanes), 17 scratch, 18 scratchStride.
 */
export function convBackwardWeight(p: usize, t: i32, T: i32): void {
  const xBase = <usize>prm(p, 0), Ci = prm(p, 1), Dz = prm(p, 2), Hp = prm(p, 3), rowLen = prm(p, 4);
  const kwStride = prm(p, 5), kD = prm(p, 6), kH = prm(p, 7), kW = prm(p, 8), sD = prm(p, 9), sH = prm(p, 10);
  const nOD = prm(p, 11), oH = prm(p, 12), oWv = prm(p, 13), CoP = prm(p, 14);
  const dyBase = <usize>prm(p, 15), dW = <usize>prm(p, 16);
  const K = Ci * kD * kH * kW;
  const tab = <usize>prm(p, 17) + <usize>t * <usize>prm(p, 18);
  buildFwdTable(tab, xBase, Ci, Dz, Hp, rowLen, kwStride, kD, kH, kW);
  const nKB = (K + 1) >> 1;
  const nItems = (CoP >> 2) * nKB;
  const range = rowsOf(t, T, nItems);
  const i1 = <i32>(range >> 32);
  const nR = nOD * oH;
  const dyRow = <usize>oWv << 4; // 4 channels interleaved per vector
  const dyCb = <usize>nR * dyRow;
  const wRow = <usize>K << 4;
  // Rows in chunks so that the x and dy rows of a chunk stay in L2 across all work items. Blocks of
  // 4 output channels × 2 taps: 8 accumulators + 2 x + 4 dy vectors fit V8's 15 registers, and the
  // interleaved dy layout leaves the inner loop three pointers (scalar spills cost 30 % before).
  for (let rc = 0; rc < nR; rc += 16) {
    const rEnd = min(rc + 16, nR);
    for (let item = <i32>range; item < i1; item++) {
      const cb = (item / nKB) << 2, k0 = (item % nKB) << 1;
      const two = k0 + 1 < K;
      const dyB = dyBase + <usize>(cb >> 2) * dyCb;
      const t0 = <usize>load<u32>(tab + (<usize>k0 << 2));
      const t1 = two ? <usize>load<u32>(tab + (<usize>(k0 + 1) << 2)) : t0;
      let a00 = f32x4.splat(0), a01 = a00, a10 = a00, a11 = a00;
      let a20 = a00, a21 = a00, a30 = a00, a31 = a00;
      for (let r = rc; r < rEnd; r++) {
        const od = r / oH, oh = r - od * oH;
        const off = (<usize>(od * sD) * Hp + <usize>(oh * sH)) * rowLen << 2;
        let x0p = t0 + off, x1p = t1 + off;
        let d = dyB + <usize>r * dyRow;
        const dEnd = d + dyRow;
        while (d < dEnd) {
          const x0 = v128.load(x0p), x1 = v128.load(x1p);
          let y = v128.load(d);
          a00 = fma(y, x0, a00); a01 = fma(y, x1, a01);
          y = v128.load(d, 16);
          a10 = fma(y, x0, a10); a11 = fma(y, x1, a11);
          y = v128.load(d, 32);
          a20 = fma(y, x0, a20); a21 = fma(y, x1, a21);
          y = v128.load(d, 48);
          a30 = fma(y, x0, a30); a31 = fma(y, x1, a31);
          x0p += 16; x1p += 16; d += 64;
        }
      }
      let o = dW + <usize>cb * wRow + (<usize>k0 << 4);
      addTo(o, a00); if (two) addTo(o + 16, a01);
      o += wRow;
      addTo(o, a10); if (two) addTo(o + 16, a11);
      o += wRow;
      addTo(o, a20); if (two) addTo(o + 16, a21);
      o += wRow;
      addTo(o, a30); if (two) addTo(o + 16, a31);
    }
  }
}

/**
 * Packs W-strided taps into contiguous rows (forward and weight gradient with sW > 1):
 * dst[row][kw][j] = src[row][j·sW + kw] for j < oWv (reads past the row land in the slab's slack).
 * Params: 0 src, 1 nRows, 2 Wp, 3 kW, 4 sW, 5 oWv, 6 dst.
 */
export function packStrided(p: usize, t: i32, T: i32): void {
  const src = <usize>prm(p, 0), nRows = prm(p, 1), Wp = prm(p, 2), kW = prm(p, 3), sW = prm(p, 4);
  const oWv = prm(p, 5), dst = <usize>prm(p, 6);
  const range = rowsOf(t, T, nRows);
  const r1 = <i32>(range >> 32);
  for (let r = <i32>range; r < r1; r++) {
    const s = src + (<usize>r * Wp << 2);
    let d = dst + (<usize>r * kW * oWv << 2);
    for (let kw = 0; kw < kW; kw++) {
      if (sW == 2) {
        for (let j = 0; j < oWv; j += 4) {
          const a = v128.load(s + (<usize>(2 * j + kw) << 2));
          const b = v128.load(s + (<usize>(2 * j + kw + 4) << 2));
          v128.store(d + (<usize>j << 2), v128.shuffle<f32>(a, b, 0, 2, 4, 6));
        }
      } else {
        for (let j = 0; j < oWv; j++) store<f32>(d + (<usize>j << 2), load<f32>(s + (<usize>(j * sW + kw) << 2)));
      }
      d += <usize>oWv << 2;
    }
  }
}
