/**
 * `stunet/node`: the core (re-exported whole) plus the Node host: files, onnxruntime-node, worker_threads,
 * and the jobs that work on folders (predict, evaluate, train, demo).
 */
export * from '../index.js';

export { nodeRuntime } from './runtime.js';
export { dicomFilesFromPaths, readDicomSeriesFromPaths } from './dicom-files.js';
export * from './dicomweb.js';
export { createNodeWasmBackend, nodeThreadPool } from './wasm-pool.js';
export {
  createOrtSession,
  cudaProviderLibrary,
  ortVersion,
  OrtSession,
  supportedProviders,
  type OrtSessionOptions,
} from '../onnx/session-node.js';
export { availableMemoryBytes, memoryLimitBytes } from './memory.js';
export {
  doctorReport,
  formatDoctorReport,
  wasmSimdSupport,
  type DoctorReport,
  type DoctorOptions,
} from './doctor.js';
export { readOnnxFileInfo, type OnnxFileInfo } from './onnx-file-info.js';
export { exportOnnxToFile, saveOnnx, type SavedOnnx } from './onnx-save.js';
export { loadTorchFile, saveTorchFile } from './checkpoint-file.js';
export { loadModelFrom, saveModelFolder, saveTorchCheckpoint } from './model-source.js';
export {
  listModels,
  modelPath,
  resolveModelArg,
  stunetHome,
  verifyModels,
  type CacheOptions,
  type ListedModel,
  type VerifyResult,
} from './model-cache.js';
export { downloadModel, installModel, type AddedModel, type DownloadModelOptions } from './model-install.js';
export { downloadFile, DownloadInterrupted, sha256File, type DownloadOptions } from './download.js';
export { REGISTRY, findRegistryModel, type ModelSource, type RegistryModel } from '../models/registry.js';
export {
  fileRingStore,
  nodePredictHost,
  predictFile,
  predictPaths,
  ringStoreFor,
  type NodePredictOptions,
} from './predict-files.js';
export { nodeStore } from './file-store.js';
export {
  readDatasetDir,
  validateDatasetDir,
  fingerprintDatasetDir,
  convertMsd,
  convertTotalseg,
} from './dataset-files.js';
export { trainRun, type TrainRunOptions, type TrainRunResult } from './train-host.js';
export { nodeDemoHost, runDemoOnDisk } from './demo-host.js';
