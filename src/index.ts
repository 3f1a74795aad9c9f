/**
 * stunet — STU-Net (scalable 3D U-Nets on the nnU-Net framework) in TypeScript.
 * Library entry point: the network, the engine, checkpoint I/O and the ONNX exporter.
 * Node-only pieces (file system, onnxruntime-node) are exported from their adapters below.
 */
export { StunetError, type StunetErrorCode } from './util/errors.js';
export { Tensor } from './engine/tensor.js';
export type { Ops, ParamSource, Conv3dAttrs } from './engine/ops.js';
export type { Vec3 } from './util/vec3.js';
export type { Backend } from './engine/backend.js';
export { Engine, Tape, TensorParams } from './engine/engine.js';
export { refBackend } from './engine/backends/ref/index.js';
export { readNpy, writeNpy, type NpyArray } from './io/npy.js';
export { StuNet, type ParamSpec, type ForwardOptions } from './model/stunet.js';
export { type StunetArchitecture, validateArchitecture, stunetPoolsFromPlans } from './model/architecture.js';
export { SCALES, TOTALSEG_POOLS, scaleArchitecture, matchScale, type ScaleName } from './model/scales.js';
export { countModel, type ModelCounts } from './model/counting.js';
export { initWeightsHe } from './model/init.js';
export type { LoadedModel, ModelMeta, ModelOrigin } from './model/loaded-model.js';
export { parseModel, serializeModel } from './checkpoint/model-folder.js';
export { loadNnunetV1, loadNnunetV2 } from './checkpoint/nnunet-read.js';
export { toTorchV1, toTorchV2 } from './checkpoint/nnunet-write.js';
export * as checkpoint from './checkpoint/index.js';
export { exportStunetOnnx } from './onnx/stunet-export.js';
export * as onnx from './onnx/index.js';
export * as onnxNode from './onnx/node.js';
export { loadTorchFile, saveTorchFile } from './node/checkpoint-file.js';
export type { ProgressEvent, ProgressListener } from './util/progress.js';
// Node adapters
export { loadModelFrom, saveModelFolder, saveTorchCheckpoint } from './node/model-source.js';
export { createNetworkRunner, type NetworkRunner, type Executor } from './node/network-runner.js';
// Pipeline stages (browser-safe: arrays in, arrays out)
export * as preprocessing from './preprocessing/index.js';
export * as inference from './inference/index.js';
export * as evaluation from './evaluation/index.js';
export * as labels from './io/labels/index.js';
export * as nifti from './io/nifti.js';
export { niftiToVolume, volumeToNifti } from './io/nifti-volume.js';
export { toClosestCanonical, fromCanonical, orientationCode } from './io/orientation.js';
export { planExperiment } from './planning/planner.js';
export { augmentSample, defaultAugmentationParams } from './augmentation/pipeline.js';
// Training
export { backward } from './engine/autograd.js';
export { createTrainingState, trainStep } from './training/train-step.js';
export { diceCeLoss, multipleOutputLoss } from './training/loss.js';
export { SgdOptimizer, NNUNET_SGD, clipGradNorm } from './training/optimizer.js';
export { polyLr } from './training/schedule.js';
export { estimateTrainingMemory } from './model/memory.js';
export { createWasmBackend } from './engine/backends/wasm/index.js';
