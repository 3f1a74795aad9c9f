/**
 * What a host lends the jobs: an ONNX runtime and the wasm engine's threads. Node: `nodeRuntime` of
 * `stunet/node` (onnxruntime-node, worker_threads, external data through a temporary folder); a browser:
 * onnxruntime-web and Web Workers. The jobs never import a runtime themselves.
 */
import {
  createWasmBackend,
  type ThreadPoolFactory,
  type WasmBackend,
  type WasmBackendOptions,
} from '../engine/backends/wasm/index.js';
import { fail } from '../util/errors.js';
import type { OnnxExport } from '../onnx/export.js';
import type { OnnxSession, OnnxSessionFactory, OnnxSessionOptions } from '../onnx/session.js';

export interface Runtime {
  /** A session on ONNX bytes (small graphs built here, such as the fused class head). */
  readonly createSession: OnnxSessionFactory;
  /**
   * A session on an exported network, inline or with external data (L and H exceed protobuf's 2 GiB):
   * the host decides how the side file reaches the runtime. Releasing the session frees what it made.
   */
  createModelSession(exported: OnnxExport, options?: OnnxSessionOptions): Promise<OnnxSession>;
  /** The wasm engine on this host's threads (default: the host's choice, e.g. one per core). */
  createWasmBackend(options?: Omit<WasmBackendOptions, 'pool'>): Promise<WasmBackend>;
}

/**
 * A Runtime of our engine alone (any host, no ONNX Runtime): the wasm backend on `pool` (none: one
 * thread), and ONNX sessions refused with an error that names the way out. Predicts with backend
 * 'wasm' or 'ref'.
 */
export function engineRuntime(pool?: ThreadPoolFactory): Runtime {
  const noOnnx = (): never =>
    fail(
      'UNSUPPORTED',
      "this host lends no ONNX runtime: use backend 'wasm' or 'ref' (or a Runtime with ONNX Runtime)",
    );
  return {
    createSession: () => Promise.resolve().then(noOnnx),
    createModelSession: () => Promise.resolve().then(noOnnx),
    createWasmBackend: (options = {}) =>
      createWasmBackend({ ...options, ...(pool === undefined ? {} : { pool }) }),
  };
}
