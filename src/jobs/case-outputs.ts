/**
 * From a case's label map (the model's classes, on the grid it was predicted on) to the files `stunet
 * predict` writes: the classes relabelled as asked (`--map` to a downstream dataset, `--names` to another
 * scheme), then the label NIfTI in the input's geometry with its names, `<stem>.json`, and as asked
 * `<stem>_classes/<name>.nii.gz`, `<stem>_statistics.json` (TotalSegmentator's layout) and
 * `<stem>_preview.png`. Shared by predict and ensemble.
 */
import { directInferenceTable, mapPrediction, type LabelSystem } from '../io/labels/index.js';
import { applySchemeRemap, schemeRemap } from '../io/labels/schemes.js';
import { writeNifti, type NiftiImage } from '../io/nifti.js';
import { volumeToNifti } from '../io/nifti-volume.js';
import { fromCanonical, orientationCode, type CanonicalTransform } from '../io/orientation.js';
import { labelSidecarJson, niftiLabelExtension, splitPerClass } from '../inference/label-output.js';
import { renderPreview } from '../inference/preview.js';
import { computeLabelStatistics, totalsegStatistics } from '../inference/statistics.js';
import type { DicomSource } from '../io/dicom/source.js';
import { writeDicomSeg } from '../io/dicom/seg.js';
import { writeRtStruct } from '../io/dicom/rtstruct.js';
import { DEFAULT_ALGORITHM } from '../io/dicom/derived.js';
import { fail } from '../util/errors.js';
import type { Vec3 } from '../util/vec3.js';

/** The label map's file formats (`--output-type`): NIfTI, and for a DICOM input DICOM-SEG and RTSTRUCT. */
export const OUTPUT_TYPES = ['nifti', 'dicom-seg', 'rtstruct'] as const;
export type OutputType = (typeof OUTPUT_TYPES)[number];

/** One output file: `name` is relative to the output folder (`seg.nii.gz`, `seg_classes/liver.nii.gz`). */
export interface CaseOutput {
  readonly name: string;
  readonly data: Uint8Array | string;
}

export interface CaseOutputOptions {
  readonly perClass?: boolean;
  readonly statistics?: boolean;
  /** TotalSegmentator's `--stats_aggregation` (default mean). */
  readonly statsAggregation?: 'mean' | 'median';
  /** TotalSegmentator's `--stats_include_incomplete`: measure masks that touch the image border too. */
  readonly statsIncludeIncomplete?: boolean;
  readonly preview?: boolean;
  /** A direct-inference dataset: map the 104-class prediction to its labels. */
  readonly map?: string;
  /** Write the label map in this scheme's names and values (mapped by name). */
  readonly names?: LabelSystem;
  /** With `names`: a class the scheme lacks is an error (default) or written as background. */
  readonly missingClasses?: 'error' | 'background';
  /** Only these of the model's classes were predicted (`--roi-subset`): statistics list only them. */
  readonly roiClasses?: readonly string[];
  /** The label map's formats (default: NIfTI alone); DICOM-SEG and RTSTRUCT need a DICOM input. */
  readonly outputTypes?: readonly OutputType[];
}

/** The grid the labels lie on and how to write them in the input's geometry. */
export interface CaseGeometry {
  /** The image the labels are on (the closest canonical orientation when reoriented). */
  readonly work: NiftiImage;
  /** Set when the labels are on the canonical grid: written back in the input's orientation. */
  readonly transform?: CanonicalTransform;
  readonly shapeZYX: Vec3;
  /** Spacing of the work grid (preview). */
  readonly spacingZYX: Vec3;
  /** The input's spacing as its header stores it (statistics: TotalSegmentator's voxel volume). */
  readonly inputSpacingZYX: Vec3;
  /** Channel 0 on the work grid (statistics and preview); null without an image. */
  readonly intensities: Float32Array | null;
  /** The DICOM series the input was read from (DICOM-SEG and RTSTRUCT reference its instances). */
  readonly dicomSource?: DicomSource;
}

/**
 * The model's labels relabelled as asked: `--map` (direct inference) or `--names` (a scheme), refused
 * together. Returns the labels and the names they carry.
 */
export function relabel(
  labels: Uint8Array | Uint16Array,
  modelNames: readonly string[],
  opts: Pick<CaseOutputOptions, 'map' | 'names' | 'missingClasses'>,
): { labels: Uint8Array | Uint16Array; names: readonly string[] } {
  if (opts.map !== undefined && opts.names !== undefined)
    fail('BAD_INPUT', '--map and --names both relabel the output: give one');
  if (opts.map !== undefined)
    return {
      labels: mapPrediction(labels, opts.map),
      names: ['background', ...directInferenceTable(opts.map).map((e) => e.name)],
    };
  if (opts.names === undefined) return { labels, names: modelNames };
  const remap = schemeRemap(modelNames, opts.names, { missing: opts.missingClasses ?? 'error' });
  return { labels: applySchemeRemap(labels, remap), names: remap.names };
}

/** The names the output will carry after relabel, checking the options against the model's names (no voxels). */
export function relabelledNames(
  modelNames: readonly string[],
  opts: Pick<CaseOutputOptions, 'map' | 'names' | 'missingClasses'>,
): readonly string[] {
  return relabel(new Uint8Array(0), modelNames, opts).names;
}

/** `case.nii.gz` → `case`; `.nii` and `.hdr` likewise (any folder part dropped). */
export function niftiStem(path: string): string {
  return (path.split(/[\\/]/).pop() ?? path).replace(/\.(nii(\.gz)?|hdr)$/i, '');
}

/** The names of a case's output files (relative to its folder), from the label map's name. */
export function outputFileNames(outputName: string): {
  readonly labels: string;
  readonly names: string;
  readonly statistics: string;
  readonly preview: string;
  readonly probabilities: string;
  readonly classesDir: string;
  readonly seg: string;
  readonly rtstruct: string;
} {
  const stem = niftiStem(outputName);
  return {
    labels: outputName,
    names: `${stem}.json`,
    statistics: `${stem}_statistics.json`,
    preview: `${stem}_preview.png`,
    probabilities: `${stem}_probabilities.npz`,
    classesDir: `${stem}_classes`,
    seg: `${stem}_seg.dcm`,
    rtstruct: `${stem}_rtstruct.dcm`,
  };
}

/**
 * The files of one case, named after `outputName` (e.g. `seg.nii.gz` → `seg.nii.gz`, `seg.json`, …; `.nii`
 * writes uncompressed files). `labels` and `names` are final (after relabel).
 */
export function caseOutputs(
  outputName: string,
  labels: Uint8Array | Uint16Array,
  names: readonly string[],
  geometry: CaseGeometry,
  opts: CaseOutputOptions,
): CaseOutput[] {
  const files = outputFileNames(outputName);
  const gzip = !/\.nii$/i.test(outputName);
  const ext = gzip ? '.nii.gz' : '.nii';
  const [Z, Y, X] = geometry.shapeZYX;
  const inInputGrid = (raw: Uint8Array | Uint16Array): NiftiImage => {
    const img = volumeToNifti({ data: raw, shape: [1, Z, Y, X] }, geometry.work);
    return geometry.transform === undefined ? img : fromCanonical(img, geometry.transform);
  };
  const toOutput = (img: NiftiImage, withNames: boolean): Uint8Array => {
    const extensions = withNames ? [niftiLabelExtension(names)] : [];
    return writeNifti({ ...img, header: { ...img.header, extensions, descrip: 'stunet predict' } }, { gzip });
  };
  const types = opts.outputTypes ?? ['nifti'];
  const labelImage = inInputGrid(labels);
  const outputs: CaseOutput[] = [
    ...(types.includes('nifti') ? [{ name: outputName, data: toOutput(labelImage, true) }] : []),
    { name: files.names, data: labelSidecarJson(names) },
    ...dicomOutputs(labelImage, names, geometry.dicomSource, types, files),
  ];
  if (opts.perClass === true)
    for (const m of splitPerClass(labels, names))
      outputs.push({
        name: `${files.classesDir}/${m.name}${ext}`,
        data: toOutput(inInputGrid(m.mask), false),
      });
  if (opts.statistics === true) {
    const stats = computeLabelStatistics(
      labels,
      geometry.intensities,
      geometry.shapeZYX,
      geometry.inputSpacingZYX,
      names,
    );
    const layout = totalsegStatistics(stats, {
      ...(opts.statsAggregation === undefined ? {} : { aggregation: opts.statsAggregation }),
      ...(opts.statsIncludeIncomplete === undefined
        ? {}
        : { includeIncomplete: opts.statsIncludeIncomplete }),
      ...(opts.roiClasses === undefined ? {} : { classes: opts.roiClasses }),
    });
    outputs.push({ name: files.statistics, data: `${JSON.stringify(layout, null, 4)}\n` });
  }
  if (opts.preview === true && geometry.intensities !== null) {
    const png = renderPreview({
      image: geometry.intensities,
      labels,
      shapeZYX: geometry.shapeZYX,
      spacingZYX: geometry.spacingZYX,
      annotate: { labelNames: names, orientation: orientationCode(geometry.work.affine) },
    });
    outputs.push({ name: files.preview, data: png });
  }
  return outputs;
}

/** DICOM-SEG and RTSTRUCT of the label map (on the input's grid), as `types` asks; they need the source series. */
function dicomOutputs(
  labelImage: NiftiImage,
  names: readonly string[],
  source: DicomSource | undefined,
  types: readonly OutputType[],
  files: ReturnType<typeof outputFileNames>,
): CaseOutput[] {
  const wanted = types.filter((t) => t !== 'nifti');
  if (wanted.length === 0) return [];
  if (source === undefined)
    fail(
      'BAD_INPUT',
      `--output-type ${wanted.join(',')} references the DICOM series the labels were predicted on: give a DICOM input (a folder, a zip or a file)`,
    );
  const labels = { data: labelImage.data, dims: labelImage.dims, affine: labelImage.affine };
  const common = { labels, names, source, algorithm: DEFAULT_ALGORITHM };
  const out: CaseOutput[] = [];
  if (wanted.includes('dicom-seg'))
    out.push({
      name: files.seg,
      data: writeDicomSeg({ ...common, seriesDescription: 'STU-Net segmentation' }),
    });
  if (wanted.includes('rtstruct'))
    out.push({
      name: files.rtstruct,
      data: writeRtStruct({ ...common, seriesDescription: 'STU-Net contours' }),
    });
  return out;
}
