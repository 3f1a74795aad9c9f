/**
 * `stunet predict`'s options: parsed and checked against each other before anything is read (one error
 * line naming the option), and registered on the command.
 */
import type { Command } from 'commander';
import { parseLabelSystem } from '../io/labels/schemes.js';
import type { SlidingWindowMode } from '../inference/sliding-window.js';
import type { PredictBackend } from '../jobs/network.js';
import type { NodePredictOptions } from '../node/predict-files.js';
import { existsSync, readFileSync } from 'node:fs';
import { parsePostprocessingJson, type PostprocessSpec } from '../evaluation/postprocessing-json.js';
import { fail, StunetError } from '../util/errors.js';
import { OUTPUT_TYPES, type OutputType } from '../jobs/case-outputs.js';

export interface PredictCliOptions {
  input?: string;
  output?: string;
  model: string;
  plans?: string;
  stepSize?: string;
  tta: boolean;
  fast?: boolean;
  mirrorAxes?: string;
  mode?: string;
  threads?: string;
  backend: string;
  device: string;
  perClass?: boolean;
  statistics?: boolean;
  preview?: boolean;
  reorient?: boolean;
  saveProbabilities?: boolean;
  map?: string;
  ttaMemoryGb?: string;
  maxMemoryGb?: string;
  lowMemory?: boolean;
  continue?: boolean;
  report?: string;
  roiSubset?: string;
  roiMargin?: string;
  roiExact?: boolean;
  listClasses?: boolean;
  names?: string;
  missingClasses?: string;
  statsAggregation?: string;
  statsIncludeIncomplete?: boolean;
  postprocess?: string;
  removeSmallBlobs?: string;
  folds?: string;
  series?: string;
  allowTilt?: boolean;
  outputType?: string;
  dicomweb?: string;
  study?: string;
  store?: boolean;
  caFile?: string;
  insecure?: boolean;
}

function parseStep(text: string): number {
  const v = Number(text);
  if (!(v > 0 && v <= 1)) fail('BAD_INPUT', `--step-size: expected a number in (0, 1], got '${text}'`);
  return v;
}

function parseAxes(text: string): number[] {
  const axes = text.split(',').map((s) => Number(s.trim()));
  if (axes.some((a) => a !== 0 && a !== 1 && a !== 2) || new Set(axes).size !== axes.length)
    fail('BAD_INPUT', `--mirror-axes: expected distinct axes among 0,1,2, got '${text}'`);
  return axes;
}

export function parseOptions(
  o: PredictCliOptions,
): NodePredictOptions & { backend: PredictBackend; threads?: number } {
  if (o.backend !== 'ort' && o.backend !== 'wasm' && o.backend !== 'ref')
    fail('BAD_INPUT', `--backend: use 'ort', 'wasm' or 'ref', got '${o.backend}'`);
  const modes = ['v1', 'v2-stunet', 'v2-upstream'];
  if (o.mode !== undefined && !modes.includes(o.mode))
    fail('BAD_INPUT', `--mode: use ${modes.join(', ')}, got '${o.mode}'`);
  let threads: number | undefined;
  if (o.threads !== undefined) {
    threads = Number(o.threads);
    if (!Number.isInteger(threads) || threads < 1)
      fail('BAD_INPUT', `--threads: expected a positive integer, got '${o.threads}'`);
  }
  let ttaGb: number | undefined;
  if (o.ttaMemoryGb !== undefined) {
    ttaGb = Number(o.ttaMemoryGb);
    if (o.ttaMemoryGb.trim() === '' || !(ttaGb >= 0) || !Number.isFinite(ttaGb))
      fail('BAD_INPUT', `--tta-memory-gb: expected a number ≥ 0, got '${o.ttaMemoryGb}'`);
  }
  if (o.fast === true && (o.stepSize !== undefined || o.mirrorAxes !== undefined))
    fail('BAD_INPUT', '--fast sets --step-size 1 and --no-tta: give --fast or those options, not both');
  const tta = o.tta && o.fast !== true;
  if (!tta && o.mirrorAxes !== undefined)
    fail('BAD_INPUT', '--mirror-axes and --no-tta contradict each other: --no-tta mirrors no axis');
  const mirrorAxes = tta ? (o.mirrorAxes === undefined ? undefined : parseAxes(o.mirrorAxes)) : [];
  return {
    backend: o.backend,
    stepSize: o.fast === true ? 1 : parseStep(o.stepSize ?? '0.5'),
    ...(threads === undefined ? {} : { threads }),
    ...(mirrorAxes === undefined ? {} : { mirrorAxes }),
    ...(o.mode === undefined ? {} : { mode: o.mode as SlidingWindowMode }),
    ...(o.reorient === undefined ? {} : { reorient: o.reorient }),
    perClass: o.perClass === true,
    statistics: o.statistics === true,
    preview: o.preview === true,
    saveProbabilities: o.saveProbabilities === true,
    ...(o.map === undefined ? {} : { map: o.map }),
    ...(ttaGb === undefined ? {} : { ttaFeatureBudgetBytes: ttaGb * 2 ** 30 }),
    ...labelOptions(o),
    ...dicomOptions(o),
  };
}

/** --output-type, --series, --allow-tilt. */
function dicomOptions(o: PredictCliOptions): Partial<NodePredictOptions> {
  let types: OutputType[] | undefined;
  if (o.outputType !== undefined) {
    const list = o.outputType.split(',').map((t) => t.trim());
    const bad = list.find((t) => !(OUTPUT_TYPES as readonly string[]).includes(t));
    if (bad !== undefined || list.length === 0)
      fail(
        'BAD_INPUT',
        `--output-type: use one or more of ${OUTPUT_TYPES.join(', ')} (comma-separated), got '${o.outputType}'`,
      );
    types = [...new Set(list as OutputType[])];
  }
  if (o.series !== undefined && o.series.trim() === '')
    fail('BAD_INPUT', '--series: give a SeriesInstanceUID');
  const dicom = {
    ...(o.series === undefined ? {} : { series: o.series.trim() }),
    ...(o.allowTilt === true ? { allowTilt: true } : {}),
  };
  return {
    ...(types === undefined ? {} : { outputTypes: types }),
    ...(Object.keys(dicom).length === 0 ? {} : { dicom }),
  };
}

/** --roi-subset, --roi-margin, --names, --missing-classes, --stats-*: checked as given. */
function labelOptions(o: PredictCliOptions): Partial<NodePredictOptions> {
  if (o.statsAggregation !== undefined && o.statsAggregation !== 'mean' && o.statsAggregation !== 'median')
    fail('BAD_INPUT', `--stats-aggregation: use mean or median, got '${o.statsAggregation}'`);
  if ((o.statsAggregation !== undefined || o.statsIncludeIncomplete === true) && o.statistics !== true)
    fail(
      'BAD_INPUT',
      '--stats-aggregation and --stats-include-incomplete shape --statistics: add --statistics',
    );
  if (o.missingClasses !== undefined && o.missingClasses !== 'error' && o.missingClasses !== 'background')
    fail('BAD_INPUT', `--missing-classes: use error or background, got '${o.missingClasses}'`);
  if (o.missingClasses !== undefined && o.names === undefined)
    fail('BAD_INPUT', '--missing-classes applies to --names: add --names');
  if ((o.roiMargin !== undefined || o.roiExact === true) && o.roiSubset === undefined)
    fail('BAD_INPUT', '--roi-margin and --roi-exact apply to --roi-subset: add --roi-subset');
  let margin: number | undefined;
  if (o.roiMargin !== undefined) {
    margin = Number(o.roiMargin);
    if (o.roiMargin.trim() === '' || !(margin >= 0) || !Number.isFinite(margin))
      fail('BAD_INPUT', `--roi-margin: expected mm ≥ 0, got '${o.roiMargin}'`);
  }
  const roi = o.roiSubset
    ?.split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');
  if (roi !== undefined && roi.length === 0)
    fail('BAD_INPUT', '--roi-subset: give class names, e.g. liver,spleen');
  let blobs: number | undefined;
  if (o.removeSmallBlobs !== undefined) {
    blobs = Number(o.removeSmallBlobs);
    if (o.removeSmallBlobs.trim() === '' || !(blobs > 0) || !Number.isFinite(blobs))
      fail('BAD_INPUT', `--remove-small-blobs: expected a volume in mm³ > 0, got '${o.removeSmallBlobs}'`);
  }
  return {
    ...(o.postprocess === undefined ? {} : { postprocess: readPostprocessing(o.postprocess) }),
    ...(blobs === undefined ? {} : { removeSmallBlobsMm3: blobs }),
    ...(roi === undefined ? {} : { roiSubset: roi }),
    ...(margin === undefined ? {} : { roiMarginMm: margin }),
    ...(o.roiExact === true ? { roiExact: true } : {}),
    ...(o.names === undefined ? {} : { names: parseLabelSystem(o.names) }),
    ...(o.missingClasses === undefined ? {} : { missingClasses: o.missingClasses }),
    ...(o.statsAggregation === undefined ? {} : { statsAggregation: o.statsAggregation }),
    ...(o.statsIncludeIncomplete === true ? { statsIncludeIncomplete: true } : {}),
  };
}

/** A postprocessing.json (nnU-Net v1's, or `stunet postprocess determine`'s), read and checked. */
function readPostprocessing(path: string): PostprocessSpec {
  if (!existsSync(path)) fail('NOT_FOUND', `--postprocess: '${path}' does not exist`);
  try {
    return parsePostprocessingJson(readFileSync(path, 'utf8'));
  } catch (e) {
    if (e instanceof StunetError)
      throw new StunetError(e.code, `--postprocess ${path}: ${e.message}`, { cause: e });
    throw e;
  }
}

/** The options of `stunet predict` (-i, -o and -m are checked in the action: --list-classes needs -m only). */
export function addPredictOptions(cmd: Command): Command {
  return addLabelOptions(
    cmd
      .option(
        '-i, --input <file|folder|files>',
        "a .nii/.nii.gz (or .hdr) case, a folder of cases (channels as case_0000, case_0001, …), one case's channel files a,b, or a DICOM series (a folder, a zip or a file)",
      )
      .option('-o, --output <file|folder>', 'output .nii.gz (file input) or folder (folder input)')
      .option(
        '--output-type <types>',
        'the label map as nifti (default), dicom-seg and/or rtstruct, e.g. nifti,dicom-seg (DICOM input: <stem>_seg.dcm, <stem>_rtstruct.dcm)',
      )
      .option(
        '--series <uid>',
        'DICOM input: the SeriesInstanceUID to read (default: CT/MR, ORIGINAL, most slices)',
      )
      .option('--allow-tilt', 'DICOM input: resample a gantry-tilted series instead of refusing it')
      .requiredOption(
        '-m, --model <model>',
        'stunet model folder, training folder, official v1 .model or v2 .pth, or an .onnx from export-onnx',
      )
      .option(
        '--folds <n,…>',
        'with -m <training folder>: the folds to ensemble (default: every fold_N with a final checkpoint)',
      )
      .option('--plans <plans.json>', 'v2: plans.json to use instead of the one beside the checkpoint')
      .option('--step-size <f>', 'tile stride as a fraction of the patch (default: 0.5)')
      .option('--no-tta', 'no mirror test-time augmentation (8× faster)')
      .option('--fast', 'no TTA and tiles side by side, not overlapping (--no-tta --step-size 1)')
      .option('--mirror-axes <axes>', "TTA axes, e.g. 0,1,2 (default: the model's)")
      .option(
        '--tta-memory-gb <n>',
        "TTA: hold a tile's mirrored feature maps together up to n GiB (v1's exact summation order) instead of adding each pass at once (default 0)",
      )
      .option('--mode <mode>', 'aggregation: v1, v2-stunet or v2-upstream (default: from the checkpoint)')
      .option(
        '--backend <ort|wasm|ref>',
        'executor: ONNX Runtime, the wasm engine, or the reference engine',
        'ort',
      )
      .option(
        '--device <cpu|cuda[:N]|webgpu>',
        "where ONNX Runtime runs the network (backend 'ort'); falls back to the CPU with a warning when it is not there",
        'cpu',
      )
      .option('--threads <n>', 'compute threads (default: all cores)')
      .option('--per-class', 'also write one mask file per class (<stem>_classes/<name>.nii.gz)')
      .option(
        '--statistics',
        "volume (mm³, mL) and intensity (mean, median) per class, TotalSegmentator's layout (<stem>_statistics.json)",
      )
      .option('--stats-aggregation <mean|median>', "the statistics' `intensity`: mean (default) or median")
      .option(
        '--stats-include-incomplete',
        'also measure masks that touch the image border (cut off: zeroed by default, as TotalSegmentator)',
      )
      .option('--preview', 'write a PNG with three orthogonal slices and the overlay (<stem>_preview.png)')
      .option(
        '--reorient',
        "predict in the closest canonical (RAS) orientation, write in the input's (default for STU-Net's " +
          'TotalSegmentator 104-class models, as TotalSegmentator does)',
      )
      .option(
        '--no-reorient',
        'predict in the stored orientation (default for other models, as nnU-Net does)',
      )
      .option(
        '--save-probabilities',
        'also write <stem>_probabilities.npz: float32 (K, Z, Y, X) on the cropped grid with bbox_used_for_cropping, shape_before_cropping and spacing',
      ),
  );
}

/** The options that choose what is written: classes, schemes, post-processing, statistics, outputs. */
function addLabelOptions(cmd: Command): Command {
  return cmd
    .option('--map <dataset>', "map the 104-class prediction to a downstream dataset's labels")
    .option(
      '--names <scheme>',
      "write the label map in a scheme's names and values: stunet, totalseg-v1 or totalseg-v2 (mapped by name)",
    )
    .option(
      '--missing-classes <error|background>',
      '--names: a class the scheme lacks is an error (default) or written as background',
    )
    .option(
      '--roi-subset <names>',
      'only these classes (e.g. liver,spleen): a fast pass finds them, the full pass runs on their box only',
    )
    .option(
      '--roi-margin <mm>',
      "--roi-subset: margin around the box found (default 20 mm, TotalSegmentator's)",
    )
    .option(
      '--postprocess <postprocessing.json>',
      "nnU-Net's post-processing: keep the largest components the file names (stunet postprocess determine)",
    )
    .option('--remove-small-blobs <mm3>', 'remove connected components (per class) smaller than this volume')
    .option(
      '--roi-exact',
      "--roi-subset: run the whole image's tiles that overlap the box (labels there equal the whole prediction's; slower)",
    )
    .option('--list-classes', "print the model's classes (value and name) and exit")
    .option(
      '--continue',
      'skip cases whose outputs (all those asked for) exist: resume an interrupted folder',
    )
    .option(
      '--report <file.json>',
      'write versions, device, model sha256, options and each case: status, seconds, files, error',
    )
    .option(
      '--low-memory',
      'ONNX Runtime without its memory arena: less memory (one 128³ tile of L: 4.3 instead of 6.0 GB), may be slower',
    )
    .option(
      '--max-memory-gb <n>',
      'refuse to start when the memory predict will need (printed first) exceeds n GiB (default: the available memory)',
    );
}
