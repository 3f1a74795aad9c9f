import { KERNELS_PLAIN_SIMD_BASE64, KERNELS_RELAXED_SIMD_BASE64 } from './generated/kernels-wasm.js';
import { type WasmMemory, type WasmModule, wasmApi } from './wasm-api.js';
import { fail } from '../../../util/errors.js';

/** Which build of the kernels: relaxed SIMD (FMA) or plain SIMD128 (mul + add). */
export type SimdVariant = 'relaxed' | 'plain';

/** Exported kernel entry points, all `(paramsPtr, thread, threads) → void`. Order is the wire id. */
export const KERNEL_NAMES = ['convForward', 'convBackwardData', 'convBackwardWeight', 'packStrided'] as const;
export type KernelName = (typeof KERNEL_NAMES)[number];
export type KernelFn = (params: number, thread: number, threads: number) => void;

function decodeBase64(text: string): Uint8Array {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

const binaries = new Map<SimdVariant, Uint8Array>();
function binary(variant: SimdVariant): Uint8Array {
  let b = binaries.get(variant);
  if (b === undefined) {
    b = decodeBase64(variant === 'relaxed' ? KERNELS_RELAXED_SIMD_BASE64 : KERNELS_PLAIN_SIMD_BASE64);
    binaries.set(variant, b);
  }
  return b;
}

/** Whether this engine accepts a variant (relaxed SIMD needs a flag on Node 20's V8). */
export function simdSupported(variant: SimdVariant): boolean {
  return wasmApi.validate(binary(variant));
}

/** The best variant this engine runs: relaxed where it validates, else plain. */
export function pickSimd(requested: SimdVariant | 'auto'): SimdVariant {
  if (requested === 'auto') return simdSupported('relaxed') ? 'relaxed' : 'plain';
  if (!simdSupported(requested)) {
    fail(
      'UNSUPPORTED',
      `wasm backend: this JavaScript engine does not run the ${requested} SIMD kernels` +
        (requested === 'relaxed' ? ' (Node 20: run with --experimental-wasm-relaxed-simd)' : ''),
    );
  }
  return requested;
}

export async function compileKernels(variant: SimdVariant): Promise<WasmModule> {
  return wasmApi.compile(binary(variant));
}

/** Instantiates the kernels on a shared memory; every thread calls this on its own copy of the module. */
export function instantiateKernels(module: WasmModule, memory: WasmMemory): KernelFn[] {
  const instance = new wasmApi.Instance(module, { env: { memory } });
  return KERNEL_NAMES.map((name) => {
    const fn = instance.exports[name];
    if (typeof fn !== 'function') fail('RUNTIME', `wasm kernels lack export ${name}`);
    return fn as KernelFn;
  });
}
