/**
 * Peak memory of `stunet predict`, computed before any work from the architecture, the patch and the
 * case (issue 15, item 2: a released H needs about 13 GB; say so, and refuse where it cannot fit).
 *
 * The network's live activations are replayed on shapes (src/model/memory.ts's tape): an op's output is
 * allocated when it runs and freed after its last reader, as an inference runtime does; the sliding
 * window's own buffers and the weights are added. The constants for ONNX Runtime (its copy of the
 * weights, its arena's slack over the live bytes, the process baseline) were measured with
 * `bench/scale.ts` on S and B and checked on L and H (docs/memory.md).
 */
import type { StunetArchitecture } from './architecture.js';
import { ShapeTape, type Sym } from './memory.js';
import { StuNet } from './stunet.js';
import type { Vec3 } from '../util/vec3.js';

/** Process baseline: Node, the ONNX Runtime library, our code, the parsed input (fitted). */
const BASE_BYTES = 200 * 2 ** 20;
/**
 * ONNX Runtime's share per byte of weights while it runs (its initializers and what it packs) and per byte
 * of planned live activations (its arena's slack), fitted with bench/scale.ts on one 128³ tile of S, B, L
 * and H: announced/measured 1.08, 0.99, 0.99, 1.06 (docs/memory.md). While its session is created it holds
 * one copy of the weights beside ours.
 */
const ORT_WEIGHT_COPIES = 1.1;
const ORT_ACTIVATION_FACTOR = 1.6;
/**
 * Without its arena and memory pattern (`--low-memory`) ONNX Runtime holds less than the replayed live set
 * (it reuses buffers in place): fitted on one 128³ tile of L, 4.0 GiB instead of 5.6 GiB.
 */
const ORT_LOW_MEMORY_ACTIVATION_FACTOR = 0.9;
/** Models whose weights exceed this are handed to ONNX Runtime as external data, not as one protobuf. */
const INLINE_LIMIT_BYTES = 1.5 * 2 ** 30;

export interface PredictMemoryEstimate {
  /** float32 weights as loaded (ours). */
  readonly weightsBytes: number;
  /** The runtime's copy of them (ORT), and during session creation the protobuf too when inline. */
  readonly runtimeWeightsBytes: number;
  /** Most bytes of activations alive at once in one forward pass of a tile (batch 1). */
  readonly activationBytes: number;
  /** The case: input channels, the preprocessed volume, the sliding window's sums, the labels. */
  readonly caseBytes: number;
  readonly baseBytes: number;
  /** The estimated peak resident memory of the process. */
  readonly peakBytes: number;
}

/**
 * Most bytes alive at once when the network runs on `inputShape` without deep supervision: the input (the
 * caller holds it), and every op output from its op to its last reader.
 */
export function inferenceActivationPeak(arch: StunetArchitecture, inputShape: readonly number[]): number {
  const net = new StuNet(arch);
  const t = new ShapeTape();
  const x = t.sym(inputShape);
  const [out] = net.forward(t, t, x, { deepSupervision: false });
  const params = new Set(t.params.values());
  const lastUse = new Map<Sym, number>();
  t.entries.forEach((e, i) => {
    for (const s of e.inputs) lastUse.set(s, i);
  });
  let live = x.bytes;
  let peak = live;
  t.entries.forEach((e, i) => {
    live += e.output.bytes;
    peak = Math.max(peak, live);
    for (const s of new Set(e.inputs))
      if (!params.has(s) && lastUse.get(s) === i && s !== out && s !== x) live -= s.bytes;
  });
  return peak;
}

export interface PredictMemoryOptions {
  /** The tile (the model's patch). */
  readonly patchZYX: Vec3;
  /** Voxels of one input channel as read and at the network's spacing (after resampling). */
  readonly inputVoxels: number;
  readonly resampledVoxels: number;
  /** Bytes the sliding window's class sums may hold in memory before spilling to a file. */
  readonly ringBytes: number;
  /**
   * 'ort': ONNX Runtime holds its copy of the weights, and ours are let go once its session exists (the
   * CLI does); 'wasm': the engine computes with ours.
   */
  readonly executor: 'ort' | 'wasm';
  /** ONNX Runtime without its arena (`lowMemory` of createPredictorNetwork). */
  readonly lowMemory?: boolean;
  /** Networks held at once (a fold ensemble: one session each, run one at a time); default 1. */
  readonly members?: number;
}

export function estimatePredictMemory(
  arch: StunetArchitecture,
  o: PredictMemoryOptions,
): PredictMemoryEstimate {
  const weightsBytes = 4 * new StuNet(arch).parameterCount();
  // The class head runs apart: the network ends in the last decoder features (dims[0] channels).
  const featureArch = { ...arch, numClasses: arch.dims[0] ?? arch.numClasses };
  const act = inferenceActivationPeak(featureArch, [1, arch.inputChannels, ...o.patchZYX]);
  const ort = o.executor === 'ort';
  const factor = !ort ? 1 : o.lowMemory === true ? ORT_LOW_MEMORY_ACTIVATION_FACTOR : ORT_ACTIVATION_FACTOR;
  const activationBytes = Math.round(act * factor);
  const inline = ort && weightsBytes <= INLINE_LIMIT_BYTES;
  const runtimeWeightsBytes = ort ? Math.round(weightsBytes * ORT_WEIGHT_COPIES) : 0;
  const C = arch.inputChannels;
  // Channels as read (float32) and at the network's spacing, the labels, and the class sums' ring.
  const caseBytes = 4 * C * o.inputVoxels + 2 * 4 * C * o.resampledVoxels + 2 * o.inputVoxels + o.ringBytes;
  // Running: ONNX Runtime's weights (ours are let go once its session exists) or ours for the engine.
  const n = o.members ?? 1;
  const held = (ort ? runtimeWeightsBytes : weightsBytes) * n;
  const running = BASE_BYTES + held + activationBytes + caseBytes;
  // Creating a session holds ours and the runtime's, and an inline model's protobuf (a third copy), beside
  // the sessions of the members before it.
  const before = (ort ? runtimeWeightsBytes : weightsBytes) * (n - 1);
  const creating = BASE_BYTES + before + (ort ? 2 : 1) * weightsBytes + (inline ? weightsBytes : 0);
  return {
    weightsBytes,
    runtimeWeightsBytes,
    activationBytes,
    caseBytes,
    baseBytes: BASE_BYTES,
    peakBytes: Math.max(running, creating),
  };
}
