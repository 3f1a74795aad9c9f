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
import { deviceName, type OnnxDevice, type OnnxSessionOptions } from '../onnx/session.js';
import { fail } from '../util/errors.js';
import { exportStunetOnnx } from '../onnx/stunet-export.js';
import type { Runtime } from './runtime.js';

export type Executor = 'ort' | 'ref';
export type PredictBackend = 'ort' | 'wasm' | 'ref';

export interface NetworkRunner {
  run(input: Tensor): Promise<Tensor[]>;
  /** Where it runs ('cpu', 'cuda:0', 'webgpu'), and why not on the device asked for, if it is not. */
  readonly device: string;
  readonly fallback?: string;
  close(): Promise<void>;
}

export interface RunnerOptions {
  readonly executor: Executor;
  readonly deepSupervision: boolean;
  /** ORT intra-op threads (default: the runtime's choice, all cores). */
  readonly threads?: number;
  /** ORT without its CPU memory arena and memory pattern, sequential: peak RSS near the live tensors. */
  readonly lowMemory?: boolean;
  /** ORT's device (default cpu); the engine executors run on the CPU only. */
  readonly device?: OnnxDevice;
}

/** Refuses a device other than the CPU for our engine (`wasm`, `ref`), which computes on the CPU only. */
export function checkBackendDevice(backend: PredictBackend, device: OnnxDevice | undefined): void {
  if (backend !== 'ort' && device !== undefined && device.kind !== 'cpu')
    fail(
      'BAD_INPUT',
      `device ${deviceName(device)} needs backend 'ort' (ONNX Runtime); the ${backend} engine runs on the CPU`,
    );
}

/** The network on an engine backend (`ref` or `wasm`), eagerly. */
function engineRunner(model: LoadedModel, backend: Backend, deepSupervision: boolean): NetworkRunner {
  const net = new StuNet(model.arch);
  const engine = new Engine(backend);
  const params = new TensorParams(model.weights);
  return {
    run: (x) => Promise.resolve(net.forward(engine, params, x, { deepSupervision })),
    device: 'cpu',
    close: () => Promise.resolve(),
  };
}

export async function createNetworkRunner(
  model: LoadedModel,
  runtime: Runtime,
  opts: RunnerOptions,
): Promise<NetworkRunner> {
  if (opts.executor === 'ref') {
    checkBackendDevice('ref', opts.device);
    return engineRunner(model, refBackend, opts.deepSupervision);
  }
  const exported = exportStunetOnnx(model, { deepSupervision: opts.deepSupervision });
  const sessionOpts: OnnxSessionOptions = {
    ...(opts.threads === undefined ? {} : { intraOpThreads: opts.threads }),
    ...(opts.lowMemory === true
      ? { enableCpuMemArena: false, enableMemPattern: false, executionMode: 'sequential' as const }
      : {}),
    ...(opts.device === undefined ? {} : { device: opts.device }),
  };
  const session = await runtime.createModelSession(exported, sessionOpts);
  return {
    run: (x) => session.run(x),
    device: session.device ?? (opts.device === undefined ? 'cpu' : deviceName(opts.device)),
    ...(session.fallback === undefined ? {} : { fallback: session.fallback }),
    close: () => session.release(),
  };
}

export interface Predictor {
  readonly network: NetworkFn;
  /** Where the network runs ('cpu', 'cuda:0', 'webgpu'), and why not on the device asked for. */
  readonly device: string;
  readonly fallback?: string;
  close(): Promise<void>;
}

export interface PredictorNetworkOptions {
  readonly threads?: number;
  /** Split off the class head (default true). */
  readonly featureHead?: boolean;
  /** ORT without its memory arena: about half the peak, about twice the time per pass (docs/memory.md). */
  readonly lowMemory?: boolean;
  /** Backend 'ort': ONNX Runtime's device for the network (default cpu; the class head stays on the CPU). */
  readonly device?: OnnxDevice;
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
  checkBackendDevice(backend, options.device);
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
          ...(options.device === undefined ? {} : { device: options.device }),
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
    device: runner.device,
    ...(runner.fallback === undefined ? {} : { fallback: runner.fallback }),
    close: async () => {
      await closeHead();
      await runner.close();
      await be?.close();
    },
  };
}
