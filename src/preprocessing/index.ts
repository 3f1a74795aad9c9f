/** nnU-Net v1 preprocessing (crop → resample → normalise), browser-safe: arrays in, arrays out. */
export {
  binaryFillHoles,
  createNonzeroMask,
  cropToBbox,
  cropToNonzero,
  getBboxFromMask,
  imageCropperCrop,
  type BBox3,
  type CropProperties,
  type CropResult,
} from './crop.js';
export { normalizeIntensities, type IntensityProperties, type NormalizationOptions } from './normalize.js';
export {
  computeNewShape,
  getDoSeparateZ,
  getLowresAxis,
  planResampling,
  resampleData,
  resamplePatient,
  resampleSeg,
  SEPARATE_Z_ANISOTROPY_THRESHOLD,
  type ResampleOptions,
  type ResamplePatientOptions,
} from './resample.js';
export { resizeImage, resizeSegmentation, uniqueSorted } from './resize.js';
export {
  preprocessTestCase,
  STUNET_TOTALSEG_PLANS,
  type PreprocessOptions,
  type PreprocessPlans,
  type PreprocessProperties,
  type PreprocessResult,
} from './pipeline.js';
