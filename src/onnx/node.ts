/** Node-only ONNX pieces: files on disk and onnxruntime-node (the only importer, session-node.ts). */
export { readOnnxFileInfo, type OnnxFileInfo } from './file-info-node.js';
export { exportOnnxToFile, saveOnnx, type SavedOnnx } from './save.js';
export {
  createOrtSession,
  ortVersion,
  OrtSession,
  supportedProviders,
  type GraphOptimizationLevel,
  type OrtSessionOptions,
} from './session-node.js';
