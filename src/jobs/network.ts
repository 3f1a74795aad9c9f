/**
 * STU-Net as something to run: a forward pass on either executor (`ort`: exported to ONNX, run by the
 * host's runtime; `ref`/`wasm`: our engine), and the network of the sliding window (feature network +
 * class head, so that no (K × patch) array exists).
 */
import type { Backend } from '../engine/backend.js';
import { Engine, TensorParams } from '../engine/engine.js';
import { refBackend } from '../engine/backends/ref/index.js';
import type { Tensor } from '../engine/tensor.js';
import { backendClassHead, featureModel } from '../inference/feature-model.js';
import type { ClassHead } from '../inference/head.js';
import { onnxClassHead } from '../inference/head-onnx.js';
import type { NetworkFn } from '../inference/tta.js';
import type { LoadedModel } from '../model/loaded-model.js';
import { StuNet } from '../model/stunet.js';
import type { OnnxSessionOptions } from '../onnx/session.js';
import { exportStunetOnnx } from '../onnx/stunet-export.js';
import type { Runtime } from './runtime.js';

export type Executor = 'ort' | 'ref';
export type PredictBackend = 'ort' | 'wasm' | 'ref';

export interface NetworkRunner {
  run(input: Tensor): Promise<Tensor[]>;
  close(): Promise<void>;
}

export interface RunnerOptions {
  readonly executor: Executor;
  readonly deepSupervision: boolean;
  /** ORT intra-op threads (default: the runtime's choice, all cores). */
  readonly threads?: number;
  /** ORT without its CPU memory arena and memory pattern, sequential: peak RSS near the live tensors. */
  readonly lowMemory?: boolean;
}

/** The network on an engine backend (`ref` or `wasm`), eagerly. */
function engineRunner(model: LoadedModel, backend: Backend, deepSupervision: boolean): NetworkRunner {
  const net = new StuNet(model.arch);
  const engine = new Engine(backend);
  const params = new TensorParams(model.weights);
  return {
    run: (x) => Promise.resolve(net.forward(engine, params, x, { deepSupervision })),
    close: () => Promise.resolve(),
  };
}

export async function createNetworkRunner(
  model: LoadedModel,
  runtime: Runtime,
  opts: RunnerOptions,
): Promise<NetworkRunner> {
  if (opts.executor === 'ref') return engineRunner(model, refBackend, opts.deepSupervision);
  const exported = exportStunetOnnx(model, { deepSupervision: opts.deepSupervision });
  const sessionOpts: OnnxSessionOptions = {
    ...(opts.threads === undefined ? {} : { intraOpThreads: opts.threads }),
    ...(opts.lowMemory === true
      ? { enableCpuMemArena: false, enableMemPattern: false, executionMode: 'sequential' as const }
      : {}),
  };
  const session = await runtime.createModelSession(exported, sessionOpts);
  return { run: (x) => session.run(x), close: () => session.release() };
}

export interface Predictor {
  readonly network: NetworkFn;
  close(): Promise<void>;
}

export interface PredictorNetworkOptions {
  readonly threads?: number;
  /** Split off the class head (default true). */
  readonly featureHead?: boolean;
  /** ORT without its memory arena: about half the peak, about twice the time per pass (docs/memory.md). */
  readonly lowMemory?: boolean;
}

/**
 * The network as a NetworkFn on the chosen executor (full-resolution output only). By default
 * (`featureHead` true) the executor runs the network up to its last decoder feature map and the returned
 * NetworkFn carries the class head (`classHead`: the fused ONNX head step for `ort`, the wasm convolution
 * otherwise), which the sliding window applies one tile plane at a time: no (K × patch) array, whatever
 * the class count.
 */
export async function createPredictorNetwork(
  model: LoadedModel,
  backend: PredictBackend,
  runtime: Runtime,
  options: PredictorNetworkOptions = {},
): Promise<Predictor> {
  const threads = options.threads;
  const fm = (options.featureHead ?? true) ? featureModel(model) : null;
  const runModel = fm?.model ?? model;
  const needWasm = backend === 'wasm' || fm !== null;
  const be = needWasm ? await runtime.createWasmBackend(threads === undefined ? {} : { threads }) : null;
  const runner =
    backend === 'wasm' && be !== null
      ? engineRunner(runModel, be, false)
      : await createNetworkRunner(runModel, runtime, {
          executor: backend === 'wasm' ? 'ref' : backend,
          deepSupervision: false,
          lowMemory: options.lowMemory ?? false,
          ...(threads === undefined ? {} : { threads }),
        });
  const run = (x: Tensor): Promise<Tensor[]> => runner.run(x);
  let head: ClassHead | null = null;
  let closeHead: () => Promise<void> = () => Promise.resolve();
  if (fm !== null && be !== null) {
    if (backend === 'ort') {
      const h = await onnxClassHead(fm.weight, fm.bias, threads, runtime.createSession);
      head = h.head;
      closeHead = h.close;
    } else head = backendClassHead(be, fm.weight, fm.bias);
  }
  const network: NetworkFn = head !== null ? Object.assign(run, { classHead: head }) : run;
  return {
    network,
    close: async () => {
      await closeHead();
      await runner.close();
      await be?.close();
    },
  };
}
