/**
 * ONNX executor: trace a network written against Ops<T> and write it as ONNX. Browser-safe; the Node pieces
 * (files, onnxruntime-node) are in ./node.ts.
 */
export {
  concatChunks,
  DEFAULT_DYNAMIC_AXES,
  DEFAULT_EXTERNAL_DATA_THRESHOLD,
  exportOnnx,
  IR_VERSION,
  OPSET_VERSION,
  type ExportOptions,
  type ExternalDataFile,
  type OnnxExport,
  type OnnxModelFn,
} from './export.js';
export { decodeModel } from './proto-read.js';
export type { AttributeSpec, GraphSpec, ModelSpec, NodeSpec, TensorSpec, ValueInfoSpec } from './proto.js';
export {
  OnnxParams,
  OnnxTracer,
  type SymbolicValue,
  type TracedGraph,
  type WeightProvider,
} from './tracer.js';
export { weightsFromMap } from './weights.js';
