/**
 * The Node host's Runtime: onnxruntime-node sessions, worker_threads for the wasm engine, and ONNX
 * external data (L, H) written to a temporary folder that is removed when the session is released.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Runtime } from '../jobs/runtime.js';
import { createOrtSession } from '../onnx/session-node.js';
import { saveOnnx } from './onnx-save.js';
import { createNodeWasmBackend } from './wasm-pool.js';

export const nodeRuntime: Runtime = {
  createSession: createOrtSession,
  async createModelSession(exported, options = {}) {
    if (exported.externalData === undefined) return createOrtSession(exported.model, options);
    const tmp = mkdtempSync(join(tmpdir(), 'stunet-onnx-'));
    try {
      const saved = saveOnnx(exported, join(tmp, 'model.onnx'));
      const session = await createOrtSession(saved.modelPath, options);
      const release = session.release.bind(session);
      return Object.assign(session, {
        release: async () => {
          try {
            await release();
          } finally {
            rmSync(tmp, { recursive: true, force: true });
          }
        },
      });
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
  },
  createWasmBackend: createNodeWasmBackend,
};
