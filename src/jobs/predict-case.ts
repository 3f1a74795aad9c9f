/**
 * `stunet predict` for one case, bytes in and named outputs out (browser-safe): NIfTI → predictVolume →
 * the label NIfTI in the input's geometry (names in a NIfTI extension) and `<stem>.json`, and as asked
 * `<stem>_classes/<name>.nii.gz`, `<stem>_statistics.json`, `<stem>_preview.png`. Probabilities stream
 * to the host through `onProbabilities` plane by plane. The host writes the outputs (atomically, in Node).
 */
import { directInferenceTable, labelNames, mapPrediction } from '../io/labels/index.js';
import { readNifti, require3d, writeNifti, type NiftiImage } from '../io/nifti.js';
import { niftiToVolume, volumeToNifti } from '../io/nifti-volume.js';
import { fromCanonical, toClosestCanonical } from '../io/orientation.js';
import { labelSidecarJson, niftiLabelExtension, splitPerClass } from '../inference/label-output.js';
import { modelDefaults } from '../inference/model-defaults.js';
import { predictVolume, type PredictVolumeOptions, type ProbabilityGrid } from '../inference/predictor.js';
import { renderPreview } from '../inference/preview.js';
import type { SlidingWindowMode } from '../inference/sliding-window.js';
import { computeLabelStatistics } from '../inference/statistics.js';
import type { RingStoreFactory } from '../inference/stitcher.js';
import type { NetworkFn } from '../inference/tta.js';
import type { LoadedModel } from '../model/loaded-model.js';
import type { ProgressListener } from '../util/progress.js';

export interface PredictCaseOptions {
  readonly stepSize?: number;
  /** Default: the model's mirror axes (or [0, 1, 2]); [] = no TTA. */
  readonly mirrorAxes?: readonly number[];
  /** Default: from the model's origin ('v1' for v1 and our folders, 'v2-upstream' for v2). */
  readonly mode?: SlidingWindowMode;
  readonly reorient?: boolean;
  readonly perClass?: boolean;
  readonly statistics?: boolean;
  readonly preview?: boolean;
  /** A direct-inference dataset: map the 104-class prediction to its labels. */
  readonly map?: string;
  /** Where the sliding window keeps its running class sums (default: memory). */
  readonly ringStore?: RingStoreFactory;
  /**
   * Mirror TTA with the fused head: a tile's passes' feature maps are held together up to this many bytes
   * (default 0), above it each pass is added to the sums as soon as it is computed (one feature map held).
   */
  readonly ttaFeatureBudgetBytes?: number;
  /** Class probabilities (K, Zc, Yc, Xc) on the cropped grid, one z plane at a time. */
  readonly onProbabilities?: (z: number, values: Float32Array, grid: ProbabilityGrid) => void;
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressListener;
}

/** One output file: `name` is relative to the output folder (`seg.nii.gz`, `seg_classes/liver.nii.gz`). */
export interface CaseOutput {
  readonly name: string;
  readonly data: Uint8Array | string;
}

export interface PredictCaseResult {
  readonly outputs: CaseOutput[];
  /** The input's dims. */
  readonly shape: readonly number[];
  readonly classesPresent: number;
  readonly labelNames: readonly string[];
}

/** Class names of the output: the mapped dataset's, the model's, STU-Net's 104 for 105 classes, else label_<i>. */
export function outputLabelNames(model: LoadedModel, map: string | undefined): string[] {
  if (map !== undefined) return ['background', ...directInferenceTable(map).map((e) => e.name)];
  const own = modelDefaults(model).labelNames;
  if (own !== null) return own;
  const k = model.arch.numClasses;
  if (k === 105) return [...labelNames('stunet104')];
  return Array.from({ length: k }, (_, i) => (i === 0 ? 'background' : `label_${i}`));
}

/** `case.nii.gz` → `case`; `.nii` likewise (any folder part dropped). */
export function niftiStem(path: string): string {
  return (path.split(/[\\/]/).pop() ?? path).replace(/\.nii(\.gz)?$/i, '');
}

/**
 * Predicts one NIfTI image (bytes or parsed; `what` names it in errors) and returns its outputs, named
 * after `outputName` (e.g. `seg.nii.gz` → `seg.nii.gz`, `seg.json`, …).
 */
export async function predictCase(
  input: Uint8Array | NiftiImage,
  what: string,
  outputName: string,
  model: LoadedModel,
  network: NetworkFn,
  opts: PredictCaseOptions = {},
): Promise<PredictCaseResult> {
  const image = input instanceof Uint8Array ? readNifti(input) : input;
  require3d(image, what);
  const canonical = opts.reorient === true ? toClosestCanonical(image) : null;
  const work = canonical?.image ?? image;
  const view = niftiToVolume(work);
  const defaults = modelDefaults(model);
  const names = outputLabelNames(model, opts.map);
  const stem = niftiStem(outputName);
  const predictOpts: PredictVolumeOptions = {
    network,
    inputChannels: model.arch.inputChannels,
    patchSizeZYX: defaults.patchSizeZYX,
    plans: defaults.plans,
    mode: opts.mode ?? defaults.mode,
    mirrorAxes: opts.mirrorAxes ?? defaults.mirrorAxes,
    ...(opts.stepSize === undefined ? {} : { stepSize: opts.stepSize }),
    ...(opts.ringStore === undefined ? {} : { ringStore: opts.ringStore }),
    ...(opts.ttaFeatureBudgetBytes === undefined
      ? {}
      : { ttaFeatureBudgetBytes: opts.ttaFeatureBudgetBytes }),
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    ...(opts.onProgress === undefined ? {} : { onProgress: opts.onProgress }),
    ...(opts.onProbabilities === undefined ? {} : { onProbabilities: opts.onProbabilities }),
  };
  const result = await predictVolume(view.volume, view.spacingZYX, predictOpts);
  const labels = opts.map === undefined ? result.labels : mapPrediction(result.labels, opts.map);
  const [Z, Y, X] = result.shapeZYX;
  const toOutput = (raw: Uint8Array | Uint16Array, withNames: boolean): Uint8Array => {
    let img = volumeToNifti({ data: raw, shape: [1, Z, Y, X] }, work);
    if (canonical !== null) img = fromCanonical(img, canonical.transform);
    const extensions = withNames ? [niftiLabelExtension(names)] : [];
    return writeNifti({ ...img, header: { ...img.header, extensions, descrip: 'stunet predict' } });
  };
  const outputs: CaseOutput[] = [
    { name: outputName, data: toOutput(labels, true) },
    { name: `${stem}.json`, data: labelSidecarJson(names) },
  ];
  if (opts.perClass === true)
    for (const m of splitPerClass(labels, names))
      outputs.push({ name: `${stem}_classes/${m.name}.nii.gz`, data: toOutput(m.mask, false) });
  if (opts.statistics === true) {
    const stats = computeLabelStatistics(labels, view.volume.data, view.spacingZYX, names);
    outputs.push({ name: `${stem}_statistics.json`, data: `${JSON.stringify(stats, null, 2)}\n` });
  }
  if (opts.preview === true) {
    const png = renderPreview({
      image: view.volume.data,
      labels,
      shapeZYX: [Z, Y, X],
      spacingZYX: view.spacingZYX,
    });
    outputs.push({ name: `${stem}_preview.png`, data: png });
  }
  const present = new Set(labels);
  present.delete(0);
  return { outputs, shape: image.dims, classesPresent: present.size, labelNames: names };
}
