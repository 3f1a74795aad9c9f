/**
 * The tab's memory bound, said and checked before any work (issue 11, item 6). ONNX Runtime Web keeps its
 * copy of the weights and every activation of a tile inside one WebAssembly.Memory, which wasm32 caps at
 * 4 GiB; during session creation the model's protobuf is copied in too. The estimate is `stunet predict`'s
 * (src/jobs/predict-memory.ts, fitted on onnxruntime-node, whose CPU kernels are the same MLAS code).
 */
import {
  DEFAULT_EXTERNAL_DATA_THRESHOLD,
  formatBytes,
  predictMemory,
  type FileStore,
  type LoadedModel,
} from './core.js';

/** wasm32's address space: the most one WebAssembly.Memory can hold. */
export const WASM32_BYTES = 4 * 2 ** 30;
/** The engine streams convolutions through this window of its wasm memory (createWasmBackend's default). */
const ENGINE_SLAB_BYTES = 256 * 2 ** 20;

export type WebExecutor = 'ort-wasm' | 'ort-webgpu' | 'engine';

export interface WebMemoryPlan {
  /** One line for the page: the bound, what fills it, the tab's total. */
  readonly text: string;
  /** Bytes in the WebAssembly.Memory that is capped at WASM32_BYTES. */
  readonly wasmBytes: number;
  /** Everything the tab holds at its peak (weights, activations, the case). */
  readonly tabBytes: number;
  /** Why it cannot run here, or null when it fits. */
  readonly refusal: string | null;
}

/**
 * The plan for `model` (weights need not be loaded) on the image at `imagePath` in `store`: the full
 * stitching ring in memory, as a browser has no file to spill it to.
 */
export function webMemoryPlan(
  store: FileStore,
  model: LoadedModel,
  imagePath: string,
  executor: WebExecutor,
): WebMemoryPlan {
  const e = predictMemory(store, model, {
    file: imagePath,
    executor: executor === 'engine' ? 'wasm' : 'ort',
    ringBytes: Number.POSITIVE_INFINITY,
  });
  const tile = `one tile's features ${formatBytes(e.activationBytes)}`;
  let wasmBytes: number;
  let what: string;
  if (executor === 'ort-wasm') {
    // The protobuf is freed once the session exists; the activations then reuse that space.
    wasmBytes = e.runtimeWeightsBytes + Math.max(e.weightsBytes, e.activationBytes);
    what = `ONNX Runtime's weights ${formatBytes(e.runtimeWeightsBytes)} + ${tile}`;
  } else if (executor === 'ort-webgpu') {
    wasmBytes = e.weightsBytes; // the protobuf, while the session is created; the rest lives on the GPU
    what = `the model's protobuf ${formatBytes(e.weightsBytes)} while the session is created (GPU: weights + ${tile})`;
  } else {
    wasmBytes = ENGINE_SLAB_BYTES;
    what = `the engine's convolution window ${formatBytes(ENGINE_SLAB_BYTES)} (weights and ${tile} in JS)`;
  }
  const tabBytes = e.peakBytes;
  const text =
    `memory: ${formatBytes(wasmBytes)} of wasm32's ${formatBytes(WASM32_BYTES)} (${what}); ` +
    `the tab about ${formatBytes(tabBytes)} in all (the case ${formatBytes(e.caseBytes)}, stitching included)`;
  let refusal: string | null = null;
  if (wasmBytes > WASM32_BYTES)
    refusal =
      `this model needs about ${formatBytes(wasmBytes)} inside one WebAssembly memory, more than wasm32's ` +
      `${formatBytes(WASM32_BYTES)}: use a smaller scale (S or B fit), WebGPU, or \`stunet predict\` in Node`;
  else if (executor !== 'engine' && e.weightsBytes > DEFAULT_EXTERNAL_DATA_THRESHOLD)
    refusal =
      `this model's weights (${formatBytes(e.weightsBytes)}) exceed the ${formatBytes(DEFAULT_EXTERNAL_DATA_THRESHOLD)} ` +
      'an inline ONNX model may hold, and ONNX Runtime Web here takes no external data: use `stunet predict` in Node';
  else if (executor === 'engine' && tabBytes > WASM32_BYTES)
    refusal =
      `this model needs about ${formatBytes(tabBytes)} in the tab with the engine, more than the ` +
      `${formatBytes(WASM32_BYTES)} a tab is given here: use a smaller scale or \`stunet predict\` in Node`;
  return { text, wasmBytes, tabBytes, refusal };
}
