import type { Arena } from './arena.js';
import type { ThreadPool } from './pool.js';

/** What every kernel driver needs: the memory, the threads, and the per-op working-set budget. */
export interface WasmContext {
  readonly arena: Arena;
  readonly pool: ThreadPool;
  /** Bytes of wasm memory one op may use for its slabs (tiles along D); the rest streams. */
  readonly slabBytes: number;
}

export const ceil4 = (n: number): number => Math.ceil(n / 4) * 4;
export const align64 = (n: number): number => Math.ceil(n / 64) * 64;

/** How many planes fit: (budget − fixed) / perPlane, clamped to [1, total]. */
export function planesPerSlab(budget: number, fixed: number, perPlane: number, total: number): number {
  return Math.max(1, Math.min(total, Math.floor((budget - fixed) / perPlane)));
}

/**
 * Copies planes [z0, z0 + Dz) of channel block (n, 0..C) of a (N, C, D, H, W) array into a zero
 * padded slab [C][Dz][Hp][Wp] at `ptr`, the data starting at (pH, pW) of each plane; z out of [0, D)
 * stays zero (that is the D padding). The region plus `slackBytes` is zeroed first.
 */
export function loadPaddedSlab(
  arena: Arena,
  ptr: number,
  src: Float32Array,
  dims: readonly [number, number, number, number, number],
  n: number,
  z0: number,
  Dz: number,
  pads: readonly [number, number, number, number],
  slackBytes: number,
): void {
  const [, C, D, H, W] = dims;
  const [pH, pW, Hp, Wp] = pads;
  const view = arena.f32(ptr, C * Dz * Hp * Wp + slackBytes / 4);
  view.fill(0);
  for (let c = 0; c < C; c++) {
    for (let zl = 0; zl < Dz; zl++) {
      const z = z0 + zl;
      if (z < 0 || z >= D) continue;
      const srcPlane = ((n * C + c) * D + z) * H * W;
      const dstPlane = (c * Dz + zl) * Hp * Wp;
      if (pH === 0 && pW === 0) {
        view.set(src.subarray(srcPlane, srcPlane + H * W), dstPlane);
        continue;
      }
      for (let y = 0; y < H; y++) {
        const s = srcPlane + y * W;
        view.set(src.subarray(s, s + W), dstPlane + (y + pH) * Wp + pW);
      }
    }
  }
}

/** The pool, with a name so drivers read `run(ctx, 'convForward', params)`. */
export function run(
  ctx: WasmContext,
  kernel: Parameters<ThreadPool['run']>[0],
  params: readonly number[],
): void {
  ctx.pool.run(kernel, ctx.arena.setParams(params));
}
