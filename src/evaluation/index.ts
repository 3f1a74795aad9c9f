/** Evaluation: nnU-Net v2 Dice/IoU/counts, DeepMind surface metrics (NSD, ASD, HD95), summary.json. */
export type { LabelArray } from './confusion.js';
export {
  computeCaseMetrics,
  labelOrRegionKey,
  prepareCase,
  regionCounts,
  regionSurfaceDistances,
  type CaseMetricsOptions,
  type LabelMetrics,
  type LabelOrRegion,
  type PreparedCase,
  type RegionMetrics,
} from './metrics.js';
export {
  averageSurfaceDistance,
  computeSurfaceDistances,
  robustHausdorff,
  surfaceDiceAtTolerance,
  surfelAreaTable,
  type Shape3,
  type SurfaceDistances,
} from './surface-distance.js';
export { squaredEdt } from './edt.js';
export {
  keyToLabelOrRegion,
  parseSummaryJson,
  summarize,
  summaryToJson,
  type CaseResult,
  type Summary,
} from './summary.js';
export { parsePythonJson, pythonFloatRepr, writePythonJson, type PyJsonValue } from './python-json.js';
export {
  componentRuns,
  keepLargestComponent,
  labelComponents,
  removeSmallBlobs,
  voxelVolume,
  type ClassOrGroup,
  type ComponentRuns,
  type KeepLargestOptions,
  type KeepLargestResult,
  type RemoveSmallBlobsResult,
} from './connected-components.js';
export { compactLabels } from './postprocess-dice.js';
export {
  applyPostprocessing,
  determinePostprocessing,
  type DeterminePostprocessingOptions,
  type DeterminePostprocessingResult,
  type PostprocessCase,
  type PostprocessCaseSource,
} from './postprocess.js';
export {
  formatMinValidObjectSizes,
  parseMinValidObjectSizes,
  parsePostprocessingJson,
  postprocessingToJson,
  type PostprocessDetermination,
  type PostprocessSpec,
} from './postprocessing-json.js';
