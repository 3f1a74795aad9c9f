/** ONNX executor: trace a network written against Ops<T>, write it as ONNX, run it with ONNX Runtime. */
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
export { decodeModel, readOnnxFileInfo, type OnnxFileInfo } from './proto-read.js';
export type { AttributeSpec, GraphSpec, ModelSpec, NodeSpec, TensorSpec, ValueInfoSpec } from './proto.js';
export { exportOnnxToFile, saveOnnx, type SavedOnnx } from './save.js';
export {
  createOrtSession,
  ortVersion,
  OrtSession,
  supportedProviders,
  type GraphOptimizationLevel,
  type OrtSessionOptions,
} from './session-node.js';
export {
  OnnxParams,
  OnnxTracer,
  type SymbolicValue,
  type TracedGraph,
  type WeightProvider,
} from './tracer.js';
export { weightsFromMap } from './weights.js';
