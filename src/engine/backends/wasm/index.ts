import type { Backend } from '../../backend.js';
import { fail } from '../../../util/errors.js';
import { Tensor } from '../../tensor.js';
import { Arena } from './arena.js';
import { conv3dBackwardWeight, conv3dForward } from './conv.js';
import { conv3dBackwardData } from './conv-data.js';
import * as ew from './elementwise.js';
import { type SimdVariant, compileKernels, instantiateKernels, pickSimd } from './module.js';
import { type ThreadPool, type ThreadPoolFactory, SingleThreadPool } from './pool.js';
import type { WasmContext } from './slabs.js';

export { simdSupported, type SimdVariant } from './module.js';
export type { ThreadPool, ThreadPoolFactory } from './pool.js';
export { webWorkerPool } from './pool-web.js';

export interface WasmBackendOptions {
  /**
   * Compute threads including the calling one (default: 1 here; `createNodeWasmBackend` of
   * `stunet/node` defaults to one per core). More than one needs `pool`.
   */
  readonly threads?: number;
  /** The host's thread pool: `nodeThreadPool` (stunet/node) or `webWorkerPool` (in a Web Worker). */
  readonly pool?: ThreadPoolFactory;
  /** Kernel build: 'auto' (default) takes relaxed SIMD (FMA) where the engine validates it. */
  readonly simd?: SimdVariant | 'auto';
  /**
   * Bytes of wasm memory one convolution may use for its slabs (default 256 MiB). Tensors stay in JS;
   * convolutions stream D-slabs through this window, so no op needs a memory near wasm32's 4 GiB cap.
   */
  readonly slabBytes?: number;
}

type Backward =
  | 'conv3dBackwardData'
  | 'conv3dBackwardWeight'
  | 'instanceNormBackward'
  | 'leakyReluBackward'
  | 'upsampleNearestBackward'
  | 'slice'
  | 'sgdUpdate';

/** The wasm backend implements every optional (backward) kernel too. */
export type WasmBackend = Backend &
  Required<Pick<Backend, Backward>> & {
    readonly threads: number;
    readonly simd: SimdVariant;
    close(): Promise<void>;
  };

const DEFAULT_SLAB_BYTES = 256 * 2 ** 20;

/**
 * The wasm backend: convolutions in SIMD128 (relaxed-SIMD FMA where available) AssemblyScript kernels
 * on the host's thread pool sharing one WebAssembly.Memory; memory-bound ops as JS loops. Kernels are
 * synchronous (the calling thread takes a share and waits for the workers), so `close()` must be
 * called to end the workers.
 */
export async function createWasmBackend(options: WasmBackendOptions = {}): Promise<WasmBackend> {
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) {
    fail('BAD_INPUT', `wasm backend: threads must be a positive integer, got ${threads}`);
  }
  if (threads > 1 && options.pool === undefined) {
    fail(
      'BAD_INPUT',
      `wasm backend: ${threads} threads need a thread pool (options.pool: nodeThreadPool or webWorkerPool)`,
    );
  }
  const slabBytes = options.slabBytes ?? DEFAULT_SLAB_BYTES;
  if (!(slabBytes > 0)) fail('BAD_INPUT', `wasm backend: slabBytes must be positive, got ${slabBytes}`);
  const simd = pickSimd(options.simd ?? 'auto');
  const module = await compileKernels(simd);
  const arena = new Arena();
  const fns = instantiateKernels(module, arena.memory);
  const pool: ThreadPool =
    threads === 1 || options.pool === undefined
      ? new SingleThreadPool(fns)
      : await options.pool(threads, module, arena.memory, fns);
  const ctx: WasmContext = { arena, pool, slabBytes };
  await warmUp(ctx);
  return {
    name: 'wasm',
    threads,
    simd,
    conv3d: (x, w, bias, attrs, outShape) => conv3dForward(ctx, x, w, bias, attrs, outShape),
    conv3dBackwardData: (dy, w, attrs, xShape) => conv3dBackwardData(ctx, dy, w, attrs, xShape),
    conv3dBackwardWeight: (x, dy, attrs, wShape) => conv3dBackwardWeight(ctx, x, dy, attrs, wShape),
    instanceNorm: ew.instanceNorm,
    instanceNormBackward: ew.instanceNormBackward,
    leakyRelu: ew.leakyRelu,
    leakyReluBackward: ew.leakyReluBackward,
    add: ew.add,
    concat: ew.concat,
    slice: ew.slice,
    upsampleNearest: ew.upsampleNearest,
    upsampleNearestBackward: ew.upsampleNearestBackward,
    sgdUpdate: ew.sgdUpdate,
    close: () => pool.close(),
  };
}

/**
 * V8 first runs wasm in its baseline compiler (Liftoff, ~4× slower here) and swaps in optimised code
 * only for calls that start after a function has run long enough. Our kernels are few, long calls, so
 * without this the first convolutions of a network would all run at baseline speed. Two rounds of
 * small problems on every kernel, with a pause for the background compile, cost ~50 ms once.
 */
async function warmUp(ctx: WasmContext): Promise<void> {
  const x = new Tensor([1, 8, 6, 6, 24]);
  x.data.fill(1);
  const w = new Tensor([8, 8, 3, 3, 3]);
  w.data.fill(0.01);
  const attrs = { stride: [1, 1, 2], padding: [1, 1, 1] } as const;
  const yShape = [1, 8, 6, 6, 12];
  const dy = new Tensor(yShape);
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 4; i++) {
      conv3dForward(ctx, x, w, null, attrs, yShape);
      conv3dBackwardData(ctx, dy, w, attrs, x.shape);
      conv3dBackwardWeight(ctx, x, dy, attrs, w.shape);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
