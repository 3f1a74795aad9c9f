/**
 * Runs an STU-Net forward pass on either executor: `ort` (export to ONNX, run with onnxruntime-node) or
 * `ref` (our eager engine). Large models (L, H) need ONNX external data, which ORT reads from disk: they
 * are exported to a temporary folder that is removed when the runner is closed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, TensorParams } from '../engine/engine.js';
import { refBackend } from '../engine/backends/ref/index.js';
import type { Tensor } from '../engine/tensor.js';
import type { LoadedModel } from '../model/loaded-model.js';
import { StuNet } from '../model/stunet.js';
import { saveOnnx } from '../onnx/save.js';
import { createOrtSession, type OrtSession } from '../onnx/session-node.js';
import { exportStunetOnnx } from '../onnx/stunet-export.js';

export type Executor = 'ort' | 'ref';

export interface NetworkRunner {
  run(input: Tensor): Promise<Tensor[]>;
  close(): Promise<void>;
}

export interface RunnerOptions {
  readonly executor: Executor;
  readonly deepSupervision: boolean;
  /** ORT intra-op threads (default: ORT's choice, all cores). */
  readonly threads?: number;
  /** ORT without its CPU memory arena and memory pattern, sequential: peak RSS near the live tensors. */
  readonly lowMemory?: boolean;
}

export async function createNetworkRunner(model: LoadedModel, opts: RunnerOptions): Promise<NetworkRunner> {
  if (opts.executor === 'ref') {
    const net = new StuNet(model.arch);
    const engine = new Engine(refBackend);
    const params = new TensorParams(model.weights);
    return {
      run: (x) => Promise.resolve(net.forward(engine, params, x, { deepSupervision: opts.deepSupervision })),
      close: () => Promise.resolve(),
    };
  }
  const exported = exportStunetOnnx(model, { deepSupervision: opts.deepSupervision });
  let tmp: string | null = null;
  let session: OrtSession;
  const sessionOpts = {
    ...(opts.threads === undefined ? {} : { intraOpThreads: opts.threads }),
    ...(opts.lowMemory === true
      ? { enableCpuMemArena: false, enableMemPattern: false, executionMode: 'sequential' as const }
      : {}),
  };
  if (exported.externalData === undefined) {
    session = await createOrtSession(exported.model, sessionOpts);
  } else {
    tmp = mkdtempSync(join(tmpdir(), 'stunet-onnx-'));
    const saved = saveOnnx(exported, join(tmp, 'model.onnx'));
    session = await createOrtSession(saved.modelPath, sessionOpts);
  }
  return {
    run: (x) => session.run(x),
    close: async () => {
      await session.release();
      if (tmp !== null) rmSync(tmp, { recursive: true, force: true });
    },
  };
}
