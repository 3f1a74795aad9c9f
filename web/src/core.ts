/**
 * What the app takes from stunet's browser-safe core: the same code as `stunet predict` (the `stunet`
 * entry, and the few job helpers it does not export). The one place web/ names src/ paths.
 */
export {
  MemoryStore,
  StunetError,
  createPredictorNetwork,
  engineRuntime,
  fail,
  loadModelFromStore,
  niftiStem,
  parseModel,
  predictCase,
  readNifti,
  serializeModel,
  webWorkerPool,
  writeNifti,
  type FileStore,
  type LoadedModel,
  type NiftiImage,
  type OnnxSessionOptions,
  type ProgressEvent,
  type Runtime,
} from '../../src/index.js';
export { errorNaming } from '../../src/jobs/predict-case.js';
export { predictMemory } from '../../src/jobs/predict-memory.js';
export { isDicomInput, readDicomInput } from '../../src/jobs/dicom-input.js';
export { DEFAULT_EXTERNAL_DATA_THRESHOLD } from '../../src/onnx/export.js';
export { formatBytes } from '../../src/model/memory.js';
export { createWebSessionFactory, type OrtWebModule } from '../../src/onnx/session-web.js';
