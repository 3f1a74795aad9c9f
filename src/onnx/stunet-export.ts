import type { LoadedModel } from '../model/loaded-model.js';
import { divisibilityZYX } from '../model/architecture.js';
import { StuNet } from '../model/stunet.js';
import { type ExportOptions, type OnnxExport, exportOnnx } from './export.js';
import type { OnnxModelFn } from './export.js';
import { weightsFromMap } from './weights.js';

export const STUNET_VERSION = '0.1.0';

export interface StunetOnnxOptions {
  /** All five heads (full resolution first) instead of the full-resolution output only. */
  readonly deepSupervision?: boolean;
  readonly externalData?: ExportOptions['externalData'];
  readonly externalDataLocation?: string;
}

/** The traced STU-Net: same module tree as the eager engine runs. */
export function stunetOnnxFn(model: LoadedModel, deepSupervision: boolean): OnnxModelFn {
  const net = new StuNet(model.arch);
  return (ops, params, x) => net.forward(ops, params, x, { deepSupervision });
}

/** Exports a model to ONNX with size-generic (N, D, H, W) axes and provenance in the metadata. */
export function exportStunetOnnx(model: LoadedModel, options: StunetOnnxOptions = {}): OnnxExport {
  const ds = options.deepSupervision ?? false;
  // Any size divisible by the strides traces the same graph; the smallest keeps tracing cheap.
  const traceZYX = divisibilityZYX(model.arch);
  return exportOnnx(stunetOnnxFn(model, ds), {
    inputShape: [1, model.arch.inputChannels, ...traceZYX],
    weights: weightsFromMap(model.weights),
    outputNames: ds
      ? Array.from({ length: model.arch.poolOpKernelSizes.length }, (_, i) => `logits_${i}`)
      : ['logits'],
    metadata: stunetOnnxMetadata(model, ds),
    producerVersion: STUNET_VERSION,
    ...(options.externalData === undefined ? {} : { externalData: options.externalData }),
    ...(options.externalDataLocation === undefined
      ? {}
      : { externalDataLocation: options.externalDataLocation }),
  });
}

export function stunetOnnxMetadata(model: LoadedModel, deepSupervision: boolean): Record<string, string> {
  return {
    'stunet.architecture': JSON.stringify(model.arch),
    'stunet.deep_supervision': String(deepSupervision),
    'stunet.origin': model.meta.origin,
    'stunet.aggregation': model.meta.aggregation,
    'stunet.trainer': model.meta.trainerName ?? '',
    'stunet.patch_size': JSON.stringify(model.meta.patchSizeZYX),
    // Everything predict needs besides the weights (plans, dataset.json, mirror axes): `-m model.onnx`.
    'stunet.meta': JSON.stringify(model.meta),
  };
}
