/**
 * How much memory `predict` will take, said before any work (issue 15, item 2): from the model's
 * architecture (read without its weights) and the largest case's NIfTI header (read from the file's first
 * bytes), with src/model/inference-memory.ts. The host compares it with what the machine has.
 */
import { modelDefaults } from '../inference/model-defaults.js';
import { gunzipHead, isGzip } from '../io/nifti-data.js';
import { parseNiftiHeader } from '../io/nifti-header.js';
import { estimatePredictMemory, type PredictMemoryEstimate } from '../model/inference-memory.js';
import type { LoadedModel } from '../model/loaded-model.js';
import { formatBytes } from '../model/memory.js';
import { fail } from '../util/errors.js';
import type { FileStore } from './store.js';
import { dicomInputExtent, isDicomInput, type DicomInputOptions } from './dicom-input.js';

const HEAD_BYTES = 64 * 1024;

/** Voxels of one channel and the volume in mm³, from a NIfTI's header alone. */
export function niftiExtent(store: FileStore, path: string): { voxels: number; mm3: number } {
  const size = store.size(path);
  if (size < 0) fail('NOT_FOUND', `input image '${path}' does not exist`);
  const prefix = store.readRange(path, 0, Math.min(size, HEAD_BYTES), 'input image');
  const head = isGzip(prefix) ? gunzipHead(prefix, 540, `'${path}'`) : prefix;
  const h = parseNiftiHeader(head);
  const dims = h.dim.slice(1, 4).map((d) => Math.max(1, d));
  const spacing = h.pixdim.slice(1, 4).map((s) => Math.abs(s) || 1);
  const voxels = dims.reduce((a, b) => a * b, 1);
  return { voxels, mm3: voxels * spacing.reduce((a, b) => a * b, 1) };
}

export interface PredictMemoryInputs {
  /** The largest case's first channel (all channels of a case share its grid). */
  readonly file: string;
  readonly executor: 'ort' | 'wasm';
  /** The sliding window's in-memory class sums limit (the Node host's ring: 256 MiB). */
  readonly ringBytes: number;
  /** ONNX Runtime without its arena (`--low-memory`). */
  readonly lowMemory?: boolean;
  /** Networks held at once (a fold ensemble); default 1. */
  readonly members?: number;
  /** When `file` is a DICOM input: which series (its extent comes from the headers). */
  readonly dicom?: DicomInputOptions;
}

/** The estimate for one case of `model` (weights need not be loaded: see ModelSourceOptions.weights). */
export function predictMemory(
  store: FileStore,
  model: LoadedModel,
  o: PredictMemoryInputs,
): PredictMemoryEstimate {
  const d = modelDefaults(model);
  const { voxels, mm3 } = isDicomInput(store, o.file)
    ? dicomInputExtent(store, o.file, o.dicom)
    : niftiExtent(store, o.file);
  const target = d.plans.targetSpacing.reduce((a, b) => a * b, 1);
  const patch = d.patchSizeZYX;
  const resampled = Math.max(
    mm3 / target,
    patch.reduce((a, b) => a * b, 1),
  );
  const [pz, py, px] = patch;
  const ring = model.arch.numClasses * pz * py * px * 4;
  return estimatePredictMemory(model.arch, {
    patchZYX: patch,
    inputVoxels: voxels,
    resampledVoxels: resampled,
    ringBytes: Math.min(ring, o.ringBytes),
    executor: o.executor,
    lowMemory: o.lowMemory === true,
    members: o.members ?? 1,
  });
}

/** One line: the total and its parts. */
export function describePredictMemory(
  e: PredictMemoryEstimate,
  availableBytes: number,
  budget = 'available',
): string {
  return (
    `memory: about ${formatBytes(e.peakBytes)} needed (weights ${formatBytes(e.weightsBytes)}` +
    (e.runtimeWeightsBytes > 0 ? ` + the runtime's copy ${formatBytes(e.runtimeWeightsBytes)}` : '') +
    `, activations ${formatBytes(e.activationBytes)}, the case ${formatBytes(e.caseBytes)}); ` +
    `${formatBytes(availableBytes)} ${budget}`
  );
}

/** Refuses, naming both figures, when the estimate exceeds what is available. */
export function checkPredictMemory(e: PredictMemoryEstimate, availableBytes: number, model: string): void {
  if (e.peakBytes <= availableBytes) return;
  fail(
    'UNSUPPORTED',
    `predict with ${model} needs about ${formatBytes(e.peakBytes)} of memory, ${formatBytes(availableBytes)} ` +
      'is available (or allowed by --max-memory-gb): free memory, use a smaller model, or --backend wasm ' +
      '(no runtime copy of the weights)',
  );
}
