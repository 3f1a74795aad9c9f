/**
 * `stunet predict` for one case, bytes in and named outputs out (browser-safe): NIfTI → predictVolume →
 * the label NIfTI in the input's geometry (names in a NIfTI extension) and `<stem>.json`, and as asked
 * `<stem>_classes/<name>.nii.gz`, `<stem>_statistics.json`, `<stem>_preview.png`. Probabilities stream
 * to the host through `onProbabilities` plane by plane. The host writes the outputs (atomically, in Node).
 */
import type { DicomSource } from '../io/dicom/source.js';
import { checkReferenceable } from '../io/dicom/derived.js';
import { directInferenceTable, labelNames } from '../io/labels/index.js';
import { readNifti, require3d, type NiftiImage } from '../io/nifti.js';
import { StunetError, fail } from '../util/errors.js';
import { niftiToVolume } from '../io/nifti-volume.js';
import { toClosestCanonical } from '../io/orientation.js';
import { modelDefaults } from '../inference/model-defaults.js';
import { predictVolume, type PredictVolumeOptions, type ProbabilityGrid } from '../inference/predictor.js';
import type { RoiReport } from '../inference/roi.js';
import { removeSmallBlobs } from '../evaluation/connected-components.js';
import { applyPostprocessing } from '../evaluation/postprocess.js';
import type { PostprocessSpec } from '../evaluation/postprocessing-json.js';
import type { SlidingWindowMode } from '../inference/sliding-window.js';
import type { RingStoreFactory } from '../inference/stitcher.js';
import {
  caseOutputs,
  niftiStem,
  relabel,
  relabelledNames,
  type CaseOutput,
  type CaseOutputOptions,
} from './case-outputs.js';
import type { NetworkFn } from '../inference/tta.js';
import type { LoadedModel } from '../model/loaded-model.js';
import type { ProgressListener } from '../util/progress.js';

export interface PredictCaseOptions extends CaseOutputOptions {
  readonly stepSize?: number;
  /** Default: the model's mirror axes (or [0, 1, 2]); [] = no TTA. */
  readonly mirrorAxes?: readonly number[];
  /** Default: from the model's origin ('v1' for v1 and our folders, 'v2-upstream' for v2). */
  readonly mode?: SlidingWindowMode;
  /** Predict in the closest canonical orientation (default: the model's, see ModelDefaults.reorient). */
  readonly reorient?: boolean;
  /** `--roi-subset`: only these classes (the model's names), predicted where a coarse pass finds them. */
  readonly roiSubset?: readonly string[];
  /** The margin around the ROI box, mm (default 20, TotalSegmentator's). */
  readonly roiMarginMm?: number;
  /** The full pass on the whole image's tiles that overlap the box (labels there = the whole prediction's). */
  readonly roiExact?: boolean;
  /** nnU-Net's postprocessing.json (`--postprocess`): keep the largest components it names. */
  readonly postprocess?: PostprocessSpec;
  /** `--remove-small-blobs`: components (6-connected, per class) below this volume in mm³ go. */
  readonly removeSmallBlobsMm3?: number;
  /** Where the sliding window keeps its running class sums (default: memory). */
  readonly ringStore?: RingStoreFactory;
  /**
   * Mirror TTA with the fused head: a tile's passes' feature maps are held together up to this many bytes
   * (default 0), above it each pass is added to the sums as soon as it is computed (one feature map held).
   */
  readonly ttaFeatureBudgetBytes?: number;
  /** Class probabilities (K, Zc, Yc, Xc) on the cropped grid, one z plane at a time. */
  readonly onProbabilities?: (z: number, values: Float32Array, grid: ProbabilityGrid) => void;
  /** The DICOM series the case was read from: lets `outputTypes` add DICOM-SEG and RTSTRUCT. */
  readonly dicomSource?: DicomSource;
  /** Bytes reading one input image may take (readNifti's maxBytes; the Node CLI: the free memory). */
  readonly maxImageBytes?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressListener;
}

export type { CaseOutput };
export { niftiStem };

export interface PredictCaseResult {
  readonly outputs: CaseOutput[];
  /** The input's dims. */
  readonly shape: readonly number[];
  readonly classesPresent: number;
  readonly labelNames: readonly string[];
  /** Whether the case was predicted in the closest canonical orientation (and written back). */
  readonly reoriented: boolean;
  /** With roiSubset: what the coarse and full passes did. */
  readonly roi?: RoiReport;
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

/**
 * `--map <dataset>` relabels STU-Net's 104 TotalSegmentator classes: refused for any other model (by class
 * count, and by names where the model carries them), before anything is computed.
 */
export function checkMapModel(model: LoadedModel, map: string): void {
  directInferenceTable(map); // an unknown dataset fails here, naming the known ones
  const stunet = labelNames('stunet104');
  const k = model.arch.numClasses;
  if (k !== stunet.length)
    fail(
      'BAD_INPUT',
      `--map ${map} relabels STU-Net's ${stunet.length - 1} TotalSegmentator classes; this model predicts ` +
        `${k - 1} class(es), so its labels would be renamed wrongly (drop --map)`,
    );
  const own = modelDefaults(model).labelNames;
  const i = own === null ? -1 : own.findIndex((n, c) => c > 0 && n !== stunet[c]);
  if (own !== null && i > 0)
    fail(
      'BAD_INPUT',
      `--map ${map} relabels STU-Net's TotalSegmentator classes; this model's class ${i} is '${own[i] ?? ''}', ` +
        `not '${stunet[i] ?? ''}' (drop --map)`,
    );
}

/**
 * The label options against the model, before anything is read or computed: `--map` (104-class models
 * only), `--names` (every class has a place in the scheme), `--roi-subset` (known class names), and the
 * combinations refused.
 */
export function checkCaseOptions(model: LoadedModel, opts: PredictCaseOptions): void {
  if (opts.map !== undefined) checkMapModel(model, opts.map);
  if (opts.roiSubset !== undefined && opts.map !== undefined)
    fail('BAD_INPUT', "--roi-subset names the model's classes; it cannot be combined with --map");
  const names = outputLabelNames(model, undefined);
  relabelledNames(names, opts); // --map with --names, or a class the scheme lacks
  if (opts.roiSubset !== undefined) roiLabelValues(opts.roiSubset, names);
  const k = model.arch.numClasses;
  const beyond = (opts.postprocess?.forWhichClasses ?? []).flat().filter((c) => c < 1 || c >= k);
  if (beyond.length > 0)
    fail(
      'BAD_INPUT',
      `--postprocess names class ${beyond.join(', ')}, but this model predicts classes 1…${k - 1}: a file made for another model?`,
    );
  if (opts.outputTypes?.length === 0)
    fail('BAD_INPUT', '--output-type: give at least one of nifti, dicom-seg, rtstruct');
  const blobs = opts.removeSmallBlobsMm3;
  if (blobs !== undefined && !(blobs > 0 && Number.isFinite(blobs)))
    fail('BAD_INPUT', `--remove-small-blobs: expected a volume in mm³ > 0, got ${blobs}`);
}

/** A .hdr and its .img (the two files of an Analyze-style NIfTI pair). */
export interface NiftiPair {
  readonly hdr: Uint8Array;
  readonly img: Uint8Array;
}

/** One channel of a case: a NIfTI's bytes, a .hdr/.img pair, or a parsed image. */
export type ChannelInput = Uint8Array | NiftiPair | NiftiImage;

/** The error `e` naming `what` (unless its message names it already, or it is not ours). */
export function errorNaming(what: string, e: unknown): unknown {
  if (!(e instanceof StunetError) || e.message.includes(what)) return e;
  return new StunetError(e.code, `${what}: ${e.message}`, { cause: e });
}

/** Runs `f`, naming `what` in any error it throws (unless the message names it already). */
function naming<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw errorNaming(what, e);
  }
}

function readChannel(input: ChannelInput, what: string, maxBytes: number | undefined): NiftiImage {
  return naming(what, () => {
    const o = maxBytes === undefined ? {} : { maxBytes };
    const image =
      input instanceof Uint8Array
        ? readNifti(input, o)
        : 'hdr' in input
          ? readNifti(input.hdr, input.img, o)
          : input;
    require3d(image, what);
    return image;
  });
}

/** nnU-Net's check that the channels of a case share one grid: dims equal, affines within 1e-4 mm. */
function checkSameGrid(images: readonly NiftiImage[], whats: readonly string[]): void {
  const [first] = images;
  if (first === undefined) fail('BAD_INPUT', 'predict: a case needs at least one image');
  images.forEach((im, c) => {
    const sameDims = im.dims.length === first.dims.length && im.dims.every((d, a) => d === first.dims[a]);
    const sameAffine = im.affine.every((row, r) =>
      row.every((v, k) => Math.abs(v - (first.affine[r]?.[k] ?? NaN)) <= 1e-4),
    );
    if (!sameDims || !sameAffine)
      fail(
        'SHAPE_MISMATCH',
        `predict: the channels of a case must share one grid, but ${whats[c] ?? `channel ${c}`} ` +
          `(${im.dims.join('×')}) differs from ${whats[0] ?? 'channel 0'} (${first.dims.join('×')})` +
          (sameDims ? ' in its affine' : ''),
      );
  });
}

/** The channels stacked into nnU-Net's (C, Z, Y, X) with the first channel's spacing. */
function stackChannels(images: readonly NiftiImage[]): ReturnType<typeof niftiToVolume> {
  const views = images.map((im) => niftiToVolume(im));
  const [first] = views;
  if (first === undefined || views.length === 1) return first ?? fail('BAD_INPUT', 'predict: no image');
  const [, z, y, x] = first.volume.shape;
  const n = z * y * x;
  const data = new Float32Array(views.length * n);
  views.forEach((v, c) => {
    data.set(v.volume.data, c * n);
  });
  return { ...first, volume: { data, shape: [views.length, z, y, x] } };
}

/**
 * Predicts one case (one NIfTI per input channel, bytes or parsed; `what` names them in errors) and returns
 * its outputs, named after `outputName` (e.g. `seg.nii.gz` → `seg.nii.gz`, `seg.json`, …; `.nii` writes
 * uncompressed files).
 */
export async function predictCase(
  input: ChannelInput | readonly ChannelInput[],
  what: string | readonly string[],
  outputName: string,
  model: LoadedModel,
  network: NetworkFn,
  opts: PredictCaseOptions = {},
): Promise<PredictCaseResult> {
  checkCaseOptions(model, opts);
  const dicomTypes = (opts.outputTypes ?? []).filter((t) => t !== 'nifti');
  if (dicomTypes.length > 0)
    checkReferenceable(
      opts.dicomSource ??
        fail(
          'BAD_INPUT',
          `--output-type ${dicomTypes.join(',')} needs a DICOM input (the series the labels reference); this case is NIfTI`,
        ),
    );
  const channels = isChannelList(input) ? input : [input];
  const whats = typeof what === 'string' ? [what] : what;
  const label = (c: number): string => whats[c] ?? `channel ${c}`;
  if (channels.length !== model.arch.inputChannels)
    fail(
      'BAD_INPUT',
      `predict: the model takes ${model.arch.inputChannels} input channel(s), the case has ${channels.length} ` +
        `(${whats.join(', ')}); give one file per channel (nnU-Net's case_0000, case_0001, …)`,
    );
  const images = channels.map((c, i) => readChannel(c, label(i), opts.maxImageBytes));
  checkSameGrid(images, whats);
  const defaults = modelDefaults(model);
  const reoriented = opts.reorient ?? defaults.reorient;
  const canonical = reoriented ? images.map((im) => toClosestCanonical(im)) : null;
  const works = canonical?.map((c) => c.image) ?? images;
  const work = works[0] ?? fail('BAD_INPUT', 'predict: no image');
  const view = stackChannels(works);
  const modelNames = outputLabelNames(model, undefined);
  const roiLabels = opts.roiSubset === undefined ? undefined : roiLabelValues(opts.roiSubset, modelNames);
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
    ...(roiLabels === undefined
      ? {}
      : {
          roiSubset: {
            labels: roiLabels,
            ...(opts.roiMarginMm === undefined ? {} : { marginMm: opts.roiMarginMm }),
            ...(opts.roiExact === true ? { exact: true } : {}),
          },
        }),
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    ...(opts.onProgress === undefined ? {} : { onProgress: opts.onProgress }),
    ...(opts.onProbabilities === undefined
      ? {}
      : {
          onProbabilities: (z: number, v: Float32Array, g: ProbabilityGrid) => {
            opts.onProbabilities?.(z, v, { ...g, affine: work.affine, classNames: modelNames });
          },
        }),
  };
  const result = await predictVolume(view.volume, view.spacingZYX, predictOpts);
  // nnU-Net post-processes the exported map; connected components do not depend on the axis order.
  if (opts.postprocess !== undefined)
    applyPostprocessing(result.labels, result.shapeZYX, opts.postprocess, view.spacingZYX);
  if (opts.removeSmallBlobsMm3 !== undefined)
    removeSmallBlobs(result.labels, result.shapeZYX, view.spacingZYX, opts.removeSmallBlobsMm3);
  const { labels, names } = relabel(result.labels, modelNames, opts);
  const [Z, Y, X] = result.shapeZYX;
  const pixdim = images[0]?.header.pixdim ?? [];
  const px = (i: number): number => Math.abs(pixdim[i] ?? 1);
  const roiClasses = roiLabels === undefined ? undefined : roiFinalNames(roiLabels, modelNames, names, opts);
  const outputs = caseOutputs(
    outputName,
    labels,
    names,
    {
      work,
      ...(canonical?.[0] === undefined ? {} : { transform: canonical[0].transform }),
      shapeZYX: [Z, Y, X],
      spacingZYX: view.spacingZYX,
      inputSpacingZYX: [px(3), px(2), px(1)],
      intensities: view.volume.data.subarray(0, Z * Y * X),
      ...(opts.dicomSource === undefined ? {} : { dicomSource: opts.dicomSource }),
    },
    { ...opts, ...(roiClasses === undefined ? {} : { roiClasses }) },
  );
  const present = new Set(labels);
  present.delete(0);
  return {
    outputs,
    shape: images[0]?.dims ?? work.dims,
    classesPresent: present.size,
    labelNames: names,
    reoriented,
    ...(result.roi === undefined ? {} : { roi: result.roi }),
  };
}

/** `--roi-subset` names → the model's label values; an unknown name is an error listing close ones. */
export function roiLabelValues(subset: readonly string[], modelNames: readonly string[]): number[] {
  if (subset.length === 0) fail('BAD_INPUT', '--roi-subset: give at least one class name');
  return subset.map((name) => {
    const i = modelNames.indexOf(name);
    if (i > 0) return i;
    const close = modelNames.filter((n, k) => k > 0 && (n.includes(name) || name.includes(n))).slice(0, 6);
    return fail(
      'BAD_INPUT',
      `--roi-subset: '${name}' is not a class of this model` +
        (close.length > 0 ? ` (did you mean ${close.join(', ')}?)` : '') +
        '; stunet predict -m <model> --list-classes lists them',
    );
  });
}

/** The names the ROI classes carry after relabelling (statistics list only these). */
function roiFinalNames(
  roiLabels: readonly number[],
  modelNames: readonly string[],
  finalNames: readonly string[],
  opts: PredictCaseOptions,
): string[] {
  const mapped = relabel(Uint16Array.from(roiLabels), modelNames, opts).labels;
  return [...new Set(Array.from(mapped, (l) => finalNames[l] ?? `label_${l}`))];
}

function isChannelList(input: ChannelInput | readonly ChannelInput[]): input is readonly ChannelInput[] {
  return Array.isArray(input);
}
