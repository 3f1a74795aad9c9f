/**
 * `stunet postprocess` over a FileStore. determine: nnU-Net v1's determine_postprocessing on a folder of
 * validation predictions (a fold's validation_raw) against the references (gt_niftis), paired by case name
 * and checked for the same geometry as `evaluate` does (references without a prediction left out); writes postprocessing.json and, as nnU-Net does in
 * validation_final, the post-processed predictions. apply: a postprocessing.json and/or small-blob removal
 * on one label map or a folder of them. Every file is written whole (store.writeAll); inputs are all read
 * and checked before the first write of determine.
 */
import type { Vec3 } from '../util/vec3.js';
import { StunetError, fail } from '../util/errors.js';
import {
  applyPostprocessing,
  compactLabels,
  determinePostprocessing,
  postprocessingToJson,
  removeSmallBlobs,
  type DeterminePostprocessingResult,
  type PostprocessCase,
  type PostprocessSpec,
} from '../evaluation/index.js';
import { readNifti, require3d, writeNifti, type NiftiImage } from '../io/nifti.js';
import { niftiToVolume } from '../io/nifti-volume.js';
import { checkSameGeometry, datasetLabelNames, type CasePair } from './evaluate.js';
import type { FileStore } from './store.js';

const NIFTI = /\.nii(\.gz)?$/i;

/** Case name → file of the NIfTI files of a folder (hidden files skipped). */
function niftiCases(store: FileStore, dir: string, what: string): Map<string, string> {
  if (!store.isDirectory(dir))
    fail('NOT_FOUND', `postprocess: ${what} folder '${dir}' does not exist or is not a folder`);
  const out = new Map<string, string>();
  for (const f of store.list(dir))
    if (!f.startsWith('.') && NIFTI.test(f)) out.set(f.replace(NIFTI, ''), store.join(dir, f));
  return out;
}

/**
 * Each prediction with the reference of its name. As nnU-Net (which lists the predictions), references
 * without a prediction are left out: a fold's validation_raw is checked against gt_niftis, which holds
 * the cases of every fold.
 */
function pairPredictions(store: FileStore, predDir: string, refDir: string): CasePair[] {
  const preds = niftiCases(store, predDir, 'prediction');
  const refs = niftiCases(store, refDir, 'reference');
  if (preds.size === 0) fail('NOT_FOUND', `postprocess: no .nii.gz or .nii files in '${predDir}'`);
  const missing = [...preds.keys()].filter((n) => !refs.has(n));
  if (missing.length > 0) {
    const list =
      missing.slice(0, 5).join(', ') + (missing.length > 5 ? `, … (${missing.length} in all)` : '');
    fail('NOT_FOUND', `postprocess: no reference in '${refDir}' for predicted case(s) ${list}`);
  }
  return [...preds].map(([caseName, predictionFile]) => ({
    caseName,
    predictionFile,
    referenceFile: refs.get(caseName) ?? '',
  }));
}

/** Runs `f`, naming `postprocess` instead of `evaluate` in the errors of the helpers shared with it. */
function asPostprocess<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof StunetError && e.message.startsWith('evaluate: '))
      throw new StunetError(e.code, `postprocess: ${e.message.slice('evaluate: '.length)}`);
    throw e;
  }
}

interface LabelImage {
  readonly image: NiftiImage;
  readonly dimsZYX: Vec3;
  readonly spacingZYX: Vec3;
}

function readLabels(store: FileStore, path: string, what: string, maxBytes?: number): LabelImage {
  const image = readNifti(store.read(path, what), maxBytes === undefined ? {} : { maxBytes });
  require3d(image, `${what} '${path}'`);
  const { volume, spacingZYX } = niftiToVolume(image);
  const [, z, y, x] = volume.shape;
  return { image, dimsZYX: [z, y, x], spacingZYX };
}

/** The image with new voxels, as NIfTI bytes of its own datatype (.nii.gz unless the name ends in .nii). */
function labelBytes(image: NiftiImage, labels: Float32Array, path: string): Uint8Array {
  return writeNifti({ ...image, data: labels }, { gzip: !/\.nii$/i.test(path) });
}

export interface DetermineFoldersOptions {
  /** Foreground classes (nnU-Net: the dataset's). Default: labels of a dataset.json beside the references
   * or one up, else every non-zero label found in the references. */
  readonly classes?: readonly number[];
  readonly diceThreshold?: number;
  /** nnU-Net's advanced_postprocessing (min_valid_object_sizes). */
  readonly advanced?: boolean;
  /** Write the predictions post-processed with the result here (nnU-Net's validation_final). */
  readonly outFolder?: string;
  readonly maxImageBytes?: number;
  /** After each case: `stage` 'pass 1/1' … or 'write'. */
  readonly onCase?: (stage: string, index: number, total: number, caseName: string) => void;
}

export interface DetermineFoldersResult {
  readonly result: DeterminePostprocessingResult;
  /** The postprocessing.json text that was written. */
  readonly json: string;
  /** Post-processed predictions written to `outFolder`. */
  readonly written: readonly string[];
}

/** The non-zero integer labels (< 65536) of the references, read once each. */
function referenceLabels(store: FileStore, pairs: readonly CasePair[], maxBytes?: number): number[] {
  const seen = new Uint8Array(65536);
  for (const p of pairs) {
    const data = readLabels(store, p.referenceFile, 'reference', maxBytes).image.data;
    for (let i = 0; i < data.length; i++) {
      const v = data[i] as number;
      if (v !== 0 && (v | 0) === v && v > 0 && v < 65536) seen[v] = 1;
    }
  }
  return [...seen.keys()].filter((v) => seen[v] === 1);
}

function defaultClasses(
  store: FileStore,
  refDir: string,
  pairs: readonly CasePair[],
  maxBytes?: number,
): number[] {
  const names = datasetLabelNames(store, refDir);
  const fromJson = (names ?? []).map((n, i) => (i > 0 && n !== '' ? i : 0)).filter((i) => i > 0);
  if (fromJson.length > 0) return fromJson;
  const found = referenceLabels(store, pairs, maxBytes);
  if (found.length === 0)
    fail(
      'BAD_INPUT',
      'postprocess: the references contain no foreground label; pass --labels to choose some',
    );
  return found;
}

/**
 * determine_postprocessing over `predDir` (validation predictions) and `refDir` (references), writing
 * postprocessing.json to `output` and, with `outFolder`, the post-processed predictions.
 */
export function determinePostprocessingFolders(
  store: FileStore,
  predDir: string,
  refDir: string,
  output: string,
  options: DetermineFoldersOptions = {},
): DetermineFoldersResult {
  const { outFolder, maxImageBytes } = options;
  if (outFolder !== undefined && store.join(outFolder) === store.join(predDir))
    fail('BAD_INPUT', `postprocess: --out-folder '${outFolder}' is the prediction folder; choose another`);
  const pairs = pairPredictions(store, predDir, refDir);
  const classes = options.classes ?? defaultClasses(store, refDir, pairs, maxImageBytes);
  const sources = pairs.map((p) => (): PostprocessCase => {
    const ref = readLabels(store, p.referenceFile, 'reference', maxImageBytes);
    const pred = readLabels(store, p.predictionFile, 'prediction', maxImageBytes);
    asPostprocess(() => {
      checkSameGeometry(pred.image, ref.image, p.predictionFile, p.referenceFile);
    });
    return {
      name: p.caseName,
      prediction: compactLabels(pred.image.data),
      reference: compactLabels(ref.image.data),
      dimsZYX: ref.dimsZYX,
      spacingZYX: ref.spacingZYX,
    };
  });
  const result = determinePostprocessing(sources, classes, {
    ...(options.diceThreshold === undefined ? {} : { diceThreshold: options.diceThreshold }),
    ...(options.advanced === undefined ? {} : { advanced: options.advanced }),
    validationRaw: store.basename(predDir),
    validationFinal:
      outFolder === undefined ? `${store.basename(predDir)}_postprocessed` : store.basename(outFolder),
    onCase: (pass, passes, i, n) =>
      options.onCase?.(`pass ${pass}/${passes}`, i, n, pairs[i]?.caseName ?? ''),
  });
  const written: string[] = [];
  if (outFolder !== undefined) {
    store.makeDir(outFolder);
    pairs.forEach((p, i) => {
      const pred = readLabels(store, p.predictionFile, 'prediction', maxImageBytes);
      const labels = applyPostprocessing(pred.image.data, pred.dimsZYX, result, pred.spacingZYX);
      const path = store.join(outFolder, store.basename(p.predictionFile));
      store.writeAll([{ path, data: labelBytes(pred.image, labels, path) }]);
      written.push(path);
      options.onCase?.('write', i, pairs.length, p.caseName);
    });
  }
  const json = postprocessingToJson(result);
  store.writeAll([{ path: output, data: json }]);
  return { result, json, written };
}

export interface ApplyFilesOptions {
  /** A postprocessing.json's content (parsePostprocessingJson), applied first. */
  readonly spec?: PostprocessSpec;
  /** Then: remove every component (per class, 6-connected) below this volume in mm³. */
  readonly removeSmallBlobsMm3?: number;
  readonly maxImageBytes?: number;
  readonly onFile?: (file: AppliedFile, index: number, total: number) => void;
}

export interface AppliedFile {
  readonly input: string;
  readonly output: string;
  /** Voxels set to background. */
  readonly removedVoxels: number;
}

/** (input, output) paths: a folder's label maps into a folder, or one file into a file (or a folder). */
function applyTargets(store: FileStore, input: string, output: string): [string, string][] {
  if (store.isDirectory(input)) {
    if (store.exists(output) && !store.isDirectory(output))
      fail('BAD_INPUT', `postprocess: input '${input}' is a folder, so -o '${output}' must be one too`);
    const files = store.list(input).filter((f) => !f.startsWith('.') && NIFTI.test(f));
    if (files.length === 0) fail('NOT_FOUND', `postprocess: no .nii or .nii.gz files in '${input}'`);
    return files.map((f) => [store.join(input, f), store.join(output, f)]);
  }
  if (!store.exists(input)) fail('NOT_FOUND', `postprocess: input '${input}' does not exist`);
  if (store.isDirectory(output)) return [[input, store.join(output, store.basename(input))]];
  if (!NIFTI.test(output))
    fail('BAD_INPUT', `postprocess: output '${output}' must end in .nii.gz or .nii (or be a folder)`);
  return [[input, output]];
}

/**
 * Applies `spec` (nnU-Net's load_remove_save) and/or small-blob removal to a label map or a folder of
 * them; each output keeps its input's geometry and datatype and is written whole.
 */
export function applyPostprocessingFiles(
  store: FileStore,
  input: string,
  output: string,
  options: ApplyFilesOptions,
): AppliedFile[] {
  const { spec, removeSmallBlobsMm3: blobs, maxImageBytes } = options;
  if (spec === undefined && blobs === undefined)
    fail(
      'BAD_INPUT',
      'postprocess: nothing to apply; give --postprocess <postprocessing.json> and/or --remove-small-blobs <mm³>',
    );
  const targets = applyTargets(store, input, output);
  if (store.isDirectory(input)) store.makeDir(output);
  return targets.map(([from, to], i) => {
    const { image, dimsZYX, spacingZYX } = readLabels(store, from, 'label map', maxImageBytes);
    const labels = image.data.slice();
    if (spec !== undefined) applyPostprocessing(labels, dimsZYX, spec, spacingZYX);
    if (blobs !== undefined) removeSmallBlobs(labels, dimsZYX, spacingZYX, blobs);
    let removedVoxels = 0;
    for (let v = 0; v < labels.length; v++) if (labels[v] !== image.data[v]) removedVoxels++;
    store.writeAll([{ path: to, data: labelBytes(image, labels, to) }]);
    const file = { input: from, output: to, removedVoxels };
    options.onFile?.(file, i, targets.length);
    return file;
  });
}
