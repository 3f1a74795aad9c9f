import { existsSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { InferenceSession, Tensor as OrtTensor, env, listSupportedBackends } from 'onnxruntime-node';
import { fail, StunetError } from '../util/errors.js';
import { formatShape, Tensor } from '../engine/tensor.js';
import {
  deviceName,
  type OnnxSession,
  type OnnxSessionOptions as OrtSessionOptions,
  type SessionInputs,
} from './session.js';

/**
 * The only module that imports onnxruntime-node: the OnnxSession of src/onnx/session.ts on it. Sessions
 * take and return our float32 `Tensor`s, in the model's declared input/output order, and every ORT
 * failure surfaces as a StunetError('RUNTIME').
 */

export type { GraphOptimizationLevel, OnnxSessionOptions as OrtSessionOptions } from './session.js';

let debugLogWatched = false;

/**
 * onnxruntime-node (1.30, Linux) creates an empty `/tmp/mat-debug-<pid>.log` with a process's first session
 * and never removes it: one stray file per run. It is removed when the process exits, if still empty.
 */
function removeEmptyDebugLogAtExit(): void {
  if (debugLogWatched) return;
  debugLogWatched = true;
  process.once('exit', () => {
    for (const dir of new Set(['/tmp', tmpdir()])) {
      const path = join(dir, `mat-debug-${process.pid}.log`);
      try {
        if (statSync(path).size === 0) rmSync(path);
      } catch {
        // not there
      }
    }
  });
}

function ortError(what: string, e: unknown, hint = ''): StunetError {
  const msg = e instanceof Error ? e.message : String(e);
  return new StunetError('RUNTIME', `ONNX Runtime failed to ${what}: ${msg}${hint}`, { cause: e });
}

function positiveInt(name: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 1))
    fail('BAD_INPUT', `${name} must be a positive integer, got ${v}`);
}

type OrtProvider = string | { readonly name: string; readonly deviceId?: number };

/** Our session options as ORT's, on `providers`. */
function ortOptions(
  options: OrtSessionOptions,
  providers: readonly OrtProvider[],
): InferenceSession.SessionOptions {
  const spin = options.allowSpinning === undefined ? undefined : options.allowSpinning ? '1' : '0';
  return {
    executionProviders: providers,
    graphOptimizationLevel: options.graphOptimizationLevel ?? 'all',
    logSeverityLevel: options.logSeverityLevel ?? 3,
    ...(options.enableCpuMemArena === undefined ? {} : { enableCpuMemArena: options.enableCpuMemArena }),
    ...(options.enableMemPattern === undefined ? {} : { enableMemPattern: options.enableMemPattern }),
    ...(options.executionMode === undefined ? {} : { executionMode: options.executionMode }),
    ...(options.intraOpThreads === undefined ? {} : { intraOpNumThreads: options.intraOpThreads }),
    ...(options.interOpThreads === undefined ? {} : { interOpNumThreads: options.interOpThreads }),
    ...(spin === undefined
      ? {}
      : { extra: { session: { intra_op: { allow_spinning: spin }, inter_op: { allow_spinning: spin } } } }),
    ...(options.externalData === undefined
      ? {}
      : { externalData: options.externalData.map((f) => ({ path: f.path, data: f.data })) }),
  };
}

/** An ORT session on `model`; a failure becomes a StunetError('RUNTIME') naming the providers asked for. */
async function open(
  model: string | Uint8Array,
  opts: InferenceSession.SessionOptions,
): Promise<InferenceSession> {
  const what = typeof model === 'string' ? `load ONNX model '${model}'` : 'load the ONNX model';
  const names = (opts.executionProviders ?? []).map((p) => (typeof p === 'string' ? p : p.name));
  const hint = names.some((p) => p !== 'cpu') ? providerHint(names) : '';
  try {
    const session =
      typeof model === 'string'
        ? await InferenceSession.create(model, opts)
        : await InferenceSession.create(model, opts);
    removeEmptyDebugLogAtExit();
    return session;
  } catch (e) {
    throw ortError(what, e, hint);
  }
}

/** The first line of an ORT error, without the source location of its ORT_ENFORCE ("… was false. "). */
function firstLine(e: unknown): string {
  const line = (e instanceof Error ? e.message : String(e)).split('\n')[0]?.trim() ?? '';
  return /was false\. (.+)$/.exec(line)?.[1] ?? line;
}

/** How to get a device's provider working. */
function deviceHint(kind: 'cuda' | 'webgpu'): string {
  return kind === 'cuda'
    ? '; CUDA needs an NVIDIA GPU, its driver, CUDA 12 and cuDNN 9, and the provider binaries: ' +
        'npm install onnxruntime-node --onnxruntime-node-install=cuda12'
    : '; WebGPU needs a GPU with a Vulkan (Linux), Metal (macOS) or Direct3D 12 (Windows) driver';
}

export class OrtSession implements OnnxSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  private session: InferenceSession | null;

  readonly device: string;
  readonly fallback?: string;

  private constructor(session: InferenceSession, device: string, fallback?: string) {
    this.session = session;
    this.inputNames = [...session.inputNames];
    this.outputNames = [...session.outputNames];
    this.device = device;
    if (fallback !== undefined) this.fallback = fallback;
  }

  /**
   * Loads a model from a .onnx path (side files resolve next to it) or from its bytes. With a `device`
   * other than the CPU that cannot be used here, the session opens on the CPU with `fallback` saying why
   * (or fails, with `deviceFallback: false`).
   */
  static async create(model: string | Uint8Array, options: OrtSessionOptions = {}): Promise<OrtSession> {
    positiveInt('intraOpThreads', options.intraOpThreads);
    positiveInt('interOpThreads', options.interOpThreads);
    const device = options.device;
    if (device === undefined || device.kind === 'cpu') {
      const providers = device === undefined ? (options.executionProviders ?? ['cpu']) : ['cpu'];
      return new OrtSession(await open(model, ortOptions(options, providers)), providers.join(', '));
    }
    const name = deviceName(device);
    const ep = device.kind === 'cuda' ? { name: 'cuda', deviceId: device.index ?? 0 } : { name: device.kind };
    let why: string;
    const library = device.kind === 'cuda' ? cudaProviderLibrary() : null;
    if (!supportedProviders().some((p) => p.name === device.kind)) {
      why = `this onnxruntime-node build has no ${device.kind} execution provider`;
    } else if (library !== null && !existsSync(library)) {
      why = `the CUDA execution provider is not installed: no ${library}`;
    } else {
      try {
        return new OrtSession(await open(model, ortOptions(options, [ep])), name);
      } catch (e) {
        why = firstLine(e instanceof StunetError && e.cause !== undefined ? e.cause : e);
      }
    }
    const reason = `device ${name} is not available here (${why})${deviceHint(device.kind)}`;
    if (options.deviceFallback === false) fail('RUNTIME', `ONNX Runtime: ${reason}`);
    return new OrtSession(await open(model, ortOptions(options, ['cpu'])), 'cpu', reason);
  }

  /**
   * Runs the model. Inputs: one tensor (single-input models), tensors in `inputNames` order, or a map by
   * name. Returns every output in `outputNames` order. `outputs` may give pre-allocated float32 tensors
   * (by output name, of the exact output shape) that ORT writes into; they are returned as given.
   */
  async run(inputs: SessionInputs, outputs: Readonly<Record<string, Tensor>> = {}): Promise<Tensor[]> {
    const session = this.session;
    if (session === null) fail('BAD_INPUT', 'this ONNX Runtime session was released; create a new one');
    const feeds: Record<string, OrtTensor> = {};
    const byName = inputs instanceof Tensor ? [inputs] : inputs;
    if (Array.isArray(byName)) {
      const list = byName as readonly Tensor[];
      if (list.length !== this.inputNames.length) {
        fail(
          'BAD_INPUT',
          `the model takes ${this.inputNames.length} input(s) (${this.inputNames.join(', ')}), got ${list.length}`,
        );
      }
      list.forEach((t, i) => (feeds[this.inputNames[i] as string] = toOrt(t)));
    } else {
      const map = byName as Readonly<Record<string, Tensor>>;
      for (const name of this.inputNames) {
        const t = map[name];
        if (t === undefined) fail('BAD_INPUT', `missing model input '${name}'`);
        feeds[name] = toOrt(t);
      }
    }
    const fetches: Record<string, OrtTensor | null> = {};
    for (const name of this.outputNames) {
      const t = outputs[name];
      fetches[name] = t === undefined ? null : toOrt(t);
    }
    for (const name of Object.keys(outputs))
      if (!this.outputNames.includes(name)) fail('BAD_INPUT', `the model has no output '${name}'`);
    let results: InferenceSession.ReturnType;
    try {
      results = await session.run(feeds, fetches);
    } catch (e) {
      const shapes = Object.entries(feeds)
        .map(([k, v]) => `${k} ${formatShape(v.dims)}`)
        .join(', ');
      throw ortError(`run the model on ${shapes}`, e);
    }
    return this.outputNames.map((name) => {
      const v = results[name];
      if (!(v instanceof OrtTensor) || v.type !== 'float32' || !(v.data instanceof Float32Array)) {
        fail('UNSUPPORTED', `model output '${name}' is not a float32 tensor`);
      }
      return outputs[name] ?? new Tensor(v.dims, v.data);
    });
  }

  /** Frees the native session; further run() calls fail. Safe to call twice. */
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

function toOrt(t: Tensor): OrtTensor {
  return new OrtTensor('float32', t.data, t.shape);
}

/** Convenience for `OrtSession.create`. */
export function createOrtSession(
  model: string | Uint8Array,
  options: OrtSessionOptions = {},
): Promise<OrtSession> {
  return OrtSession.create(model, options);
}

/**
 * Where onnxruntime-node loads its CUDA provider from (next to its native binding; the binaries that
 * `--onnxruntime-node-install=cuda12` downloads), or null where it cannot tell.
 */
export function cudaProviderLibrary(): string | null {
  let index: string;
  try {
    index = createRequire(import.meta.url).resolve('onnxruntime-node');
  } catch {
    return null;
  }
  const file =
    process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
  return join(dirname(index), '..', 'bin', 'napi-v6', process.platform, process.arch, file);
}

/** Execution providers this onnxruntime-node build knows; `bundled: false` ones need extra binaries. */
export function supportedProviders(): { name: string; bundled: boolean }[] {
  return listSupportedBackends().map((b) => ({ name: b.name, bundled: b.bundled }));
}

function providerHint(requested: readonly string[]): string {
  const all = supportedProviders();
  const bundled = all.filter((p) => p.bundled).map((p) => p.name);
  const extra = all.filter((p) => !p.bundled).map((p) => p.name);
  return (
    ` (requested execution providers: ${requested.join(', ')}; bundled here: ${bundled.join(', ')}` +
    (extra.length > 0
      ? `; ${extra.join(', ')} need their binaries, e.g. npm install onnxruntime-node --onnxruntime-node-install=cuda12`
      : '') +
    ')'
  );
}

export function ortVersion(): string {
  return env.versions.node ?? env.versions.common;
}
