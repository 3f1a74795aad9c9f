/**
 * The browser host's Runtime (src/jobs/runtime.ts), made inside the predict worker: ONNX Runtime Web
 * sessions (WASM, or WebGPU for the network when asked) and the wasm engine on Web Workers when the page
 * is cross-origin isolated (SharedArrayBuffer), else on this worker's thread alone.
 */
import {
  createWebSessionFactory,
  engineRuntime,
  fail,
  webWorkerPool,
  type OrtWebModule,
  type Runtime,
} from './core.js';

/** Whether this context may share memory with workers (COOP/COEP served, as `stunet web` does). */
export function isolated(): boolean {
  return (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
}

/** onnxruntime-web with WebGPU and WASM, loaded when first needed (28 MB of wasm). */
export async function loadOrt(): Promise<OrtWebModule> {
  return await import('onnxruntime-web');
}

/** Whether the browser lends a WebGPU adapter here (in this worker). */
export async function hasWebGpu(): Promise<boolean> {
  const gpu = (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (gpu === undefined) return false;
  try {
    return (await gpu.requestAdapter()) !== null;
  } catch {
    return false;
  }
}

/**
 * The Runtime: `ort` null for the engine alone. Threads above 1 need isolation; without it both ONNX
 * Runtime and the engine run on one thread.
 */
export function webRuntime(ort: OrtWebModule | null, threads: number): Runtime {
  const n = isolated() ? Math.max(1, threads) : 1;
  const engine = engineRuntime(n > 1 ? webWorkerPool : undefined);
  if (ort === null) return engine;
  const createSession = createWebSessionFactory(ort, { threads: n });
  return {
    createSession,
    createModelSession: (exported, options = {}) => {
      if (exported.externalData !== undefined)
        fail(
          'UNSUPPORTED',
          'this model is too large for ONNX Runtime Web (its weights need external data): use `stunet predict` in Node',
        );
      return createSession(exported.model, options);
    },
    createWasmBackend: (options = {}) => engine.createWasmBackend({ ...options, threads: n }),
  };
}
