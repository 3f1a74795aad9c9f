/**
 * The OnnxSession of src/onnx/session.ts on onnxruntime-web (a browser tab or a Web Worker): the WASM
 * execution provider (threads when the page is cross-origin isolated) or WebGPU where the browser has an
 * adapter, falling back to WASM with the reason said. Browser-safe.
 *
 * The module itself is lent by the host: the page imports onnxruntime-web and hands it to
 * `createWebSessionFactory`, as `stunet/node` lends onnxruntime-node. This file describes the few members
 * it uses, so that the core bundles no runtime the host did not choose (the page loads its WebGPU build
 * lazily, in the worker that needs it).
 */
import { formatShape, Tensor } from '../engine/tensor.js';
import { fail, StunetError } from '../util/errors.js';
import {
  deviceName,
  type OnnxSession,
  type OnnxSessionFactory,
  type OnnxSessionOptions,
  type SessionInputs,
} from './session.js';

/** A tensor of onnxruntime-web (its `Tensor`, as far as it is used here). */
export interface OrtWebTensor {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: unknown;
}

export interface OrtWebInferenceSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OrtWebTensor>): Promise<Record<string, OrtWebTensor>>;
  release(): Promise<void>;
}

/** The members of the `onnxruntime-web` module this adapter uses. */
export interface OrtWebModule {
  readonly InferenceSession: {
    create(model: Uint8Array, options?: Record<string, unknown>): Promise<OrtWebInferenceSession>;
  };
  readonly Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtWebTensor;
  readonly env: {
    readonly wasm: { numThreads?: number; proxy?: boolean };
    logLevel?: 'verbose' | 'info' | 'warning' | 'error' | 'fatal';
  };
}

export interface WebSessionFactoryOptions {
  /** WASM threads (onnxruntime-web's `env.wasm.numThreads`, set once for the page); 1 unless isolated. */
  readonly threads?: number;
}

function ortError(what: string, e: unknown): StunetError {
  const msg = e instanceof Error ? e.message : String(e);
  return new StunetError('RUNTIME', `ONNX Runtime (web) failed to ${what}: ${msg}`, { cause: e });
}

/** Our options as onnxruntime-web's, on `providers`. */
function webOptions(options: OnnxSessionOptions, providers: readonly string[]): Record<string, unknown> {
  return {
    executionProviders: providers,
    graphOptimizationLevel: options.graphOptimizationLevel ?? 'all',
    logSeverityLevel: options.logSeverityLevel ?? 3,
    ...(options.enableCpuMemArena === undefined ? {} : { enableCpuMemArena: options.enableCpuMemArena }),
    ...(options.enableMemPattern === undefined ? {} : { enableMemPattern: options.enableMemPattern }),
    ...(options.executionMode === undefined ? {} : { executionMode: options.executionMode }),
  };
}

class WebOrtSession implements OnnxSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly device: string;
  readonly fallback?: string;
  private session: OrtWebInferenceSession | null;

  constructor(
    private readonly ort: OrtWebModule,
    session: OrtWebInferenceSession,
    device: string,
    fallback: string | undefined,
  ) {
    this.session = session;
    this.inputNames = [...session.inputNames];
    this.outputNames = [...session.outputNames];
    this.device = device;
    if (fallback !== undefined) this.fallback = fallback;
  }

  private feeds(inputs: SessionInputs): Record<string, OrtWebTensor> {
    const toOrt = (t: Tensor): OrtWebTensor => new this.ort.Tensor('float32', t.data, t.shape);
    const feeds: Record<string, OrtWebTensor> = {};
    const list = inputs instanceof Tensor ? [inputs] : inputs;
    if (Array.isArray(list)) {
      const tensors = list as readonly Tensor[];
      if (tensors.length !== this.inputNames.length)
        fail(
          'BAD_INPUT',
          `the model takes ${this.inputNames.length} input(s) (${this.inputNames.join(', ')}), got ${tensors.length}`,
        );
      tensors.forEach((t, i) => (feeds[this.inputNames[i] as string] = toOrt(t)));
      return feeds;
    }
    const map = list as Readonly<Record<string, Tensor>>;
    for (const name of this.inputNames)
      feeds[name] = toOrt(map[name] ?? fail('BAD_INPUT', `missing model input '${name}'`));
    return feeds;
  }

  /** Runs the model; `outputs` (pre-allocated tensors) receive a copy of the runtime's results. */
  async run(inputs: SessionInputs, outputs: Readonly<Record<string, Tensor>> = {}): Promise<Tensor[]> {
    const session =
      this.session ?? fail('BAD_INPUT', 'this ONNX Runtime session was released; create a new one');
    for (const name of Object.keys(outputs))
      if (!this.outputNames.includes(name)) fail('BAD_INPUT', `the model has no output '${name}'`);
    const feeds = this.feeds(inputs);
    let results: Record<string, OrtWebTensor>;
    try {
      results = await session.run(feeds);
    } catch (e) {
      const shapes = Object.entries(feeds).map(([k, v]) => `${k} ${formatShape(v.dims)}`);
      throw ortError(`run the model on ${shapes.join(', ')}`, e);
    }
    return this.outputNames.map((name) => {
      const v = results[name];
      if (v === undefined || v.type !== 'float32' || !(v.data instanceof Float32Array))
        fail('UNSUPPORTED', `model output '${name}' is not a float32 tensor`);
      const given = outputs[name];
      if (given === undefined) return new Tensor(v.dims, v.data);
      if (given.data.length !== v.data.length)
        fail(
          'SHAPE_MISMATCH',
          `output '${name}': ${formatShape(v.dims)} does not fit ${formatShape(given.shape)}`,
        );
      given.data.set(v.data);
      return given;
    });
  }

  async release(): Promise<void> {
    const session = this.session;
    this.session = null;
    if (session === null) return;
    try {
      await session.release();
    } catch (e) {
      throw ortError('release the session', e);
    }
  }
}

/**
 * An OnnxSessionFactory on onnxruntime-web. Models are given as bytes (a browser has no paths). Device
 * 'webgpu' opens on the WebGPU provider, or (unless `deviceFallback: false`) on WASM with `fallback` saying
 * why; every other session runs on WASM. CUDA does not exist here.
 */
export function createWebSessionFactory(
  ort: OrtWebModule,
  factoryOptions: WebSessionFactoryOptions = {},
): OnnxSessionFactory {
  const threads = factoryOptions.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1)
    fail('BAD_INPUT', `threads must be a positive integer, got ${threads}`);
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = 'error';
  const open = async (model: Uint8Array, opts: OnnxSessionOptions, providers: string[]) => {
    try {
      return await ort.InferenceSession.create(model, webOptions(opts, providers));
    } catch (e) {
      throw ortError(`load the ONNX model (execution providers: ${providers.join(', ')})`, e);
    }
  };
  return async (model, options = {}) => {
    if (typeof model === 'string')
      fail('UNSUPPORTED', `onnxruntime-web takes a model's bytes, not a path ('${model}')`);
    if (options.externalData !== undefined && options.externalData.length > 0)
      fail(
        'UNSUPPORTED',
        'onnxruntime-web here takes inline models only (no external data: L and H exceed wasm32)',
      );
    const device = options.device;
    if (device === undefined || device.kind === 'cpu')
      return new WebOrtSession(ort, await open(model, options, ['wasm']), 'wasm', undefined);
    if (device.kind !== 'webgpu')
      fail(
        'UNSUPPORTED',
        `device ${deviceName(device)} does not exist in a browser: use webgpu or cpu (WASM)`,
      );
    let why: string;
    try {
      return new WebOrtSession(ort, await open(model, options, ['webgpu']), 'webgpu', undefined);
    } catch (e) {
      why = e instanceof Error ? e.message : String(e);
    }
    if (options.deviceFallback === false) fail('RUNTIME', why);
    return new WebOrtSession(
      ort,
      await open(model, options, ['wasm']),
      'wasm',
      `WebGPU is not available here (${why})`,
    );
  };
}
