/**
 * stunet — STU-Net (scalable 3D U-Nets on the nnU-Net framework) in TypeScript.
 *
 * This entry is the browser-safe core: bytes and arrays in, bytes and arrays out; no Node built-in and no
 * onnxruntime is reachable from it (test/architecture checks that, and CI bundles it for the browser).
 * Hosts lend what the core cannot have: an ONNX runtime and threads (`Runtime`, `ThreadPoolFactory`).
 * Node: `stunet/node` adds files, onnxruntime-node and worker_threads, and re-exports all of this.
 */
export { StunetError, fail, type StunetErrorCode } from './util/errors.js';
export { vec3, map3, type Vec3 } from './util/vec3.js';
export type { JsonValue } from './util/json.js';
export { consoleProgress, type ProgressEvent, type ProgressListener } from './util/progress.js';

// Engine: tensors, the op API, autograd, backends
export { Tensor, formatShape } from './engine/tensor.js';
export type { Ops, ParamSource, Conv3dAttrs } from './engine/ops.js';
export type { Backend } from './engine/backend.js';
export { Engine, Tape, TensorParams } from './engine/engine.js';
export { backward } from './engine/autograd.js';
export { refBackend } from './engine/backends/ref/index.js';
export {
  createWasmBackend,
  simdSupported,
  webWorkerPool,
  type SimdVariant,
  type ThreadPool,
  type ThreadPoolFactory,
  type WasmBackend,
  type WasmBackendOptions,
} from './engine/backends/wasm/index.js';

// Images and arrays
export * as nifti from './io/nifti.js';
export {
  DEFAULT_NIFTI_MAX_BYTES,
  readNifti,
  writeNifti,
  type NiftiImage,
  type ReadNiftiOptions,
} from './io/nifti.js';
export { createNifti, niftiToVolume, volumeToNifti } from './io/nifti-volume.js';
export type { Volume } from './io/volume.js';
export { toClosestCanonical, fromCanonical, orientationCode } from './io/orientation.js';
export { readNpy, writeNpy, type NpyArray } from './io/npy.js';
export {
  listDicomSeries,
  readDicomSeries,
  type DicomSeriesImage,
  type ReadDicomOptions,
} from './io/dicom/read.js';
export type { DicomFile, DicomSeriesInfo } from './io/dicom/series.js';
export type { DicomCodecModules } from './io/dicom/codecs.js';
export { dicomFilesFromZip } from './io/dicom/zip.js';
export type { DicomSource, DicomSourceInstance, LabelVolume } from './io/dicom/source.js';
export type { DicomAlgorithm, DerivedOptions } from './io/dicom/derived.js';
export { writeDicomSeg, type WriteDicomSegOptions } from './io/dicom/seg.js';
export { readDicomSeg, type DicomSegLabels, type DicomSegSegment } from './io/dicom/seg-read.js';
export {
  writeRtStruct,
  rasteriseRtStruct,
  type WriteRtStructOptions,
  type RtStructLabels,
} from './io/dicom/rtstruct.js';
export { segmentTerms, SNOMED_SOURCE, type SegmentTerms } from './io/dicom/terms.js';
export { writeDicom, newUid, type DicomEl, type DicomItem } from './io/dicom/write.js';
export { tensorFromNpy, npyFromTensor } from './io/npy-tensor.js';
export * as labels from './io/labels/index.js';

// The network, once
export { StuNet, type ParamSpec, type ForwardOptions } from './model/stunet.js';
export { type StunetArchitecture, validateArchitecture, stunetPoolsFromPlans } from './model/architecture.js';
export { SCALES, TOTALSEG_POOLS, scaleArchitecture, matchScale, type ScaleName } from './model/scales.js';
export { countModel, type ModelCounts } from './model/counting.js';
export { initWeightsHe } from './model/init.js';
export { estimateTrainingMemory } from './model/memory.js';
export type { LoadedModel, ModelMeta, ModelOrigin } from './model/loaded-model.js';

// Checkpoints from bytes: official v1/v2, our model folder, torch files (whitelist unpickler)
export * as checkpoint from './checkpoint/index.js';
export { parseModel, serializeModel } from './checkpoint/model-folder.js';
export { loadNnunetV1, loadNnunetV2 } from './checkpoint/nnunet-read.js';
export { toTorchV1, toTorchV2 } from './checkpoint/nnunet-write.js';

// ONNX: export (tracer) and the session interface a host implements
export * as onnx from './onnx/index.js';
export { exportStunetOnnx } from './onnx/stunet-export.js';
export {
  deviceName,
  parseDevice,
  type OnnxDevice,
  type OnnxSession,
  type OnnxSessionOptions,
} from './onnx/session.js';

// Pipeline stages
export * as preprocessing from './preprocessing/index.js';
export { augmentSample, defaultAugmentationParams } from './augmentation/pipeline.js';
export { planExperiment } from './planning/planner.js';
export * as inference from './inference/index.js';
export { predictVolume, type PredictVolumeOptions, type PredictVolumeResult } from './inference/predictor.js';
export { modelDefaults, type ModelDefaults } from './inference/model-defaults.js';
export * as evaluation from './evaluation/index.js';
export { createTrainingState, trainStep } from './training/train-step.js';
export { diceCeLoss, multipleOutputLoss } from './training/loss.js';
export { SgdOptimizer, NNUNET_SGD, clipGradNorm } from './training/optimizer.js';
export { polyLr } from './training/schedule.js';
export { generatePhantom } from './demo/phantom.js';

// Jobs: orchestration over a host's Runtime (called by the CLI, the browser app, the queue worker)
export { engineRuntime, type Runtime } from './jobs/runtime.js';
export {
  checkBackendDevice,
  createNetworkRunner,
  createPredictorNetwork,
  type Executor,
  type NetworkRunner,
  type PredictBackend,
  type Predictor,
  type PredictorNetworkOptions,
  type RunnerOptions,
} from './jobs/network.js';
export {
  niftiStem,
  outputLabelNames,
  predictCase,
  type CaseOutput,
  type PredictCaseOptions,
  type PredictCaseResult,
} from './jobs/predict-case.js';
export { MemoryStore, firstExisting, readText, type FileStore, type StoredFile } from './jobs/store.js';
export {
  loadModelFromStore,
  saveModelFolderTo,
  saveTorchCheckpointTo,
  type ModelSourceOptions,
  type TorchTarget,
  type WrittenCheckpoint,
} from './jobs/model-files.js';
export {
  listNiftiFiles,
  memoryProbabilitySink,
  predictCaseFile,
  type PredictFileOptions,
  type PredictFileReport,
  type PredictHost,
  type ProbabilitySink,
} from './jobs/predict-files.js';
export {
  expectedOutputs,
  predictFiles,
  predictRun,
  type CaseOutcome,
  type CaseStatus,
  type PredictRun,
  type PredictRunOptions,
} from './jobs/predict-run.js';
export {
  checkSameGeometry,
  datasetLabelNames,
  evaluateFolders,
  pairCases,
  type CasePair,
  type EvaluateFoldersOptions,
  type EvaluateFoldersResult,
} from './jobs/evaluate.js';
export {
  applyPostprocessing,
  determinePostprocessing,
  parsePostprocessingJson,
  postprocessingToJson,
  removeSmallBlobs,
  type PostprocessSpec,
} from './evaluation/index.js';
export {
  applyPostprocessingFiles,
  determinePostprocessingFolders,
  type AppliedFile,
  type ApplyFilesOptions,
  type DetermineFoldersOptions,
  type DetermineFoldersResult,
} from './jobs/postprocess.js';
export {
  DEMO_DATASET,
  DEMO_DEFAULTS,
  runDemo,
  type DemoHost,
  type DemoOptions,
  type DemoResult,
  type DemoTrainRequest,
} from './jobs/demo.js';
export {
  writePhantomDataset,
  type PhantomDatasetFiles,
  type PhantomDatasetOptions,
} from './jobs/demo-data.js';
export {
  runTrainSteps,
  type TrainStepLog,
  type TrainStepsOptions,
  type TrainStepsResult,
} from './jobs/train-steps.js';
