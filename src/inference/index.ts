/** Sliding-window inference: tile placement, Gaussian blending, mirror TTA, slab-wise stitching (browser-safe). */
export { roundToFloat16 } from './float16.js';
export {
  computeGaussianV2,
  gaussianKernel1d,
  getGaussianV1,
  type GaussianV2Options,
  type GaussianV2Variant,
} from './gaussian.js';
export { slidingWindowPredict, slidingWindowPredictFull } from './sliding-window.js';
export { AbortError } from '../util/errors.js';
export type {
  InputVolume,
  SlidingWindowMode,
  SlidingWindowOptions,
  SlidingWindowSummary,
} from './sliding-window.js';
export { computeStepsForSlidingWindow, padToPatch, type Padding } from './steps.js';
export { argmaxChannels, SlabAccumulator, type AccumulationPrecision, type Slab } from './stitcher.js';
export {
  flipSpatial,
  mirrorPasses,
  predictMirrored,
  softmaxChannels,
  type Aggregation,
  type NetworkFn,
} from './tta.js';
export { jsClassHead, type ClassHead } from './head.js';
