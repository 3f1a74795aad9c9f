/**
 * What the core asks of an ONNX Runtime: a session on a model (bytes, or a path where the host has files)
 * that runs our float32 Tensors. Hosts provide it: onnxruntime-node (session-node.ts, `stunet/node`),
 * onnxruntime-web in a browser. Browser-safe: types only.
 */
import type { Tensor } from '../engine/tensor.js';
import { fail } from '../util/errors.js';

/** Where ONNX Runtime runs a model: its CPU, CUDA (GPU `index`) or WebGPU execution provider. */
export interface OnnxDevice {
  readonly kind: 'cpu' | 'cuda' | 'webgpu';
  /** The CUDA device id (default 0). */
  readonly index?: number;
}

/** `cpu`, `cuda`, `cuda:N` or `webgpu` (as `--device` takes it). */
export function parseDevice(text: string): OnnxDevice {
  const t = text.trim().toLowerCase();
  if (t === 'cpu' || t === 'webgpu' || t === 'cuda') return { kind: t };
  const m = /^cuda:(\d{1,3})$/.exec(t);
  if (m !== null) return { kind: 'cuda', index: Number(m[1]) };
  fail('BAD_INPUT', `device: use cpu, cuda, cuda:N (N = 0, 1, …) or webgpu, got '${text}'`);
}

/** 'cpu', 'cuda:0', 'webgpu'. */
export function deviceName(device: OnnxDevice): string {
  return device.kind === 'cuda' ? `cuda:${device.index ?? 0}` : device.kind;
}

export type GraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

export interface OnnxSessionOptions {
  /** Threads inside one op (ORT default: one per physical core). */
  readonly intraOpThreads?: number;
  /** Threads across independent ops; only matters with parallel execution. */
  readonly interOpThreads?: number;
  /**
   * In priority order; default ['cpu']. 'cuda' needs the CUDA EP binaries, which onnxruntime-node only
   * downloads at install time with `--onnxruntime-node-install=cuda12` (or ONNXRUNTIME_NODE_INSTALL=cuda12).
   */
  readonly executionProviders?: readonly string[];
  /**
   * The device (default: the CPU); replaces `executionProviders`. Operators the device's provider lacks
   * run on the CPU, as ORT assigns them.
   */
  readonly device?: OnnxDevice;
  /**
   * When `device` cannot be used here (its provider not in this build, no GPU, no driver): true (default)
   * opens the session on the CPU and says why in the session's `fallback`; false fails.
   */
  readonly deviceFallback?: boolean;
  /** Default 'all'. */
  readonly graphOptimizationLevel?: GraphOptimizationLevel;
  /**
   * Side files for a model given as bytes: `path` must equal the location written in the model
   * (ExternalDataFile.location). Not needed when the model is given as a path: ORT then reads the side
   * file from the model's folder.
   */
  readonly externalData?: readonly { readonly path: string; readonly data: Uint8Array }[];
  /** 0 verbose … 4 fatal; default 3 (errors only). */
  readonly logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
  /**
   * ORT's CPU memory arena (default true). Off, every intermediate is freed when its last reader ran,
   * instead of staying in a growing arena: much lower peak RSS for large 3-D activations.
   */
  readonly enableCpuMemArena?: boolean;
  /** Pre-planned allocation pattern from the first run (default true); needs the arena to pay off. */
  readonly enableMemPattern?: boolean;
  /** 'sequential' (default) or 'parallel' (inter-op parallelism; more memory live at once). */
  readonly executionMode?: 'sequential' | 'parallel';
  /**
   * Whether idle intra-op threads spin for new work (ORT default true). Off suits many short runs with
   * other work between them (the threads would otherwise burn cores the caller needs).
   */
  readonly allowSpinning?: boolean;
}

/** One tensor (single-input models), tensors in `inputNames` order, or a map by input name. */
export type SessionInputs = Tensor | readonly Tensor[] | Readonly<Record<string, Tensor>>;

export interface OnnxSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** The device the session runs on ('cpu', 'cuda:0', 'webgpu'), where the runtime says. */
  readonly device?: string;
  /** Why the requested device is not used (the session runs on the CPU instead). */
  readonly fallback?: string;
  /**
   * Runs the model; returns every output in `outputNames` order. `outputs` may give pre-allocated float32
   * tensors (by output name, of the exact output shape) that the runtime writes into.
   */
  run(inputs: SessionInputs, outputs?: Readonly<Record<string, Tensor>>): Promise<Tensor[]>;
  /** Frees the session; further run() calls fail. Safe to call twice. */
  release(): Promise<void>;
}

/** Opens a session on ONNX bytes, or on a .onnx path (hosts with files; side files resolve next to it). */
export type OnnxSessionFactory = (
  model: Uint8Array | string,
  options?: OnnxSessionOptions,
) => Promise<OnnxSession>;
