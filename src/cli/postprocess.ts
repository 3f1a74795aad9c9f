import type { Command } from 'commander';
import { fail } from '../util/errors.js';
import { parsePostprocessingJson } from '../evaluation/index.js';
import { applyPostprocessingFiles, determinePostprocessingFolders } from '../jobs/postprocess.js';
import { nodeStore } from '../node/file-store.js';
import { readText } from '../node/fs.js';
import { availableMemoryBytes } from '../node/memory.js';
import { parseIntList } from './args.js';

interface DetermineOptions {
  pred: string;
  ref: string;
  output: string;
  outFolder?: string;
  labels?: string;
  diceThreshold: string;
  advanced?: boolean;
  json?: boolean;
}

interface ApplyOptions {
  input: string;
  output: string;
  postprocess?: string;
  removeSmallBlobs?: string;
  json?: boolean;
}

function parseNumber(option: string, text: string, min: number): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || v < min)
    fail('BAD_INPUT', `${option}: expected a number ≥ ${min}, got '${text}'`);
  return v;
}

const fmt = (v: number | undefined): string =>
  v === undefined ? '-' : Number.isNaN(v) ? 'nan' : v.toFixed(4);

/** `[[1, 2, 3], 2]` as nnU-Net prints for_which_classes. */
const describe = (which: readonly (number | readonly number[])[]): string =>
  which.length === 0
    ? 'nothing (no step raised the Dice)'
    : which
        .map((c) => (typeof c === 'number' ? `class ${c}` : `all foreground [${c.join(', ')}] as one`))
        .join(', then ');

function registerDetermine(group: Command): void {
  group
    .command('determine')
    .description(
      "nnU-Net's determine_postprocessing: keep the largest component (all foreground as one, then per class) where it raises the validation Dice",
    )
    .requiredOption(
      '--pred <dir>',
      "validation predictions, <case>.nii.gz (nnU-Net: a fold's validation_raw)",
    )
    .requiredOption('--ref <dir>', 'reference label maps, same case names and geometry (nnU-Net: gt_niftis)')
    .requiredOption('-o, --output <postprocessing.json>', 'where to write the result (nnU-Net v1 format)')
    .option(
      '--out-folder <dir>',
      'also write the post-processed predictions here (nnU-Net: validation_final)',
    )
    .option(
      '--labels <1,2,3>',
      'foreground classes (default: dataset.json beside --ref, else labels in the references)',
    )
    .option('--dice-threshold <d>', 'a step must raise the Dice by more than this', '0')
    .option(
      '--advanced',
      "nnU-Net's advanced_postprocessing: remove only components below the smallest kept size",
    )
    .option('--json', 'print postprocessing.json on stdout (progress goes to stderr)')
    .action((o: DetermineOptions) => {
      const log = (s: string): void => {
        if (o.json === true) console.error(s);
        else console.log(s);
      };
      const r = determinePostprocessingFolders(nodeStore, o.pred, o.ref, o.output, {
        ...(o.labels === undefined ? {} : { classes: parseIntList('--labels', o.labels) }),
        diceThreshold: parseNumber('--dice-threshold', o.diceThreshold, 0),
        ...(o.advanced === true ? { advanced: true } : {}),
        ...(o.outFolder === undefined ? {} : { outFolder: o.outFolder }),
        maxImageBytes: availableMemoryBytes(),
        onCase: (stage, i, n, name) => {
          log(`[${stage}] [${i + 1}/${n}] ${name}`);
        },
      });
      if (o.json === true) {
        process.stdout.write(r.json);
        console.error(`wrote ${o.output}`);
        return;
      }
      const { result } = r;
      console.log('class  Dice raw  all-fg step  per-class step   final');
      for (const c of result.classes) {
        const k = String(c);
        console.log(
          `${k.padEnd(5)}  ${fmt(result.dcPerClassRaw[k]).padStart(8)}  ${fmt(result.dcPerClassPpAll[k]).padStart(11)}  ` +
            `${fmt(result.dcPerClassPpPerClass[k]).padStart(14)}  ${fmt(result.dcPerClassFinal[k]).padStart(6)}`,
        );
      }
      console.log(`keep the largest component of: ${describe(result.forWhichClasses)}`);
      if (r.written.length > 0)
        console.log(`wrote ${r.written.length} post-processed predictions to ${o.outFolder ?? ''}`);
      console.log(`wrote ${o.output} (${result.numSamples} cases)`);
    });
}

function registerApply(group: Command): void {
  group
    .command('apply')
    .description("apply a postprocessing.json (nnU-Net v1, ours or nnU-Net's) and/or remove small blobs")
    .requiredOption('-i, --input <file|dir>', 'a label map (.nii.gz/.nii) or a folder of them')
    .requiredOption('-o, --output <file|dir>', 'output file, or folder (same file names); may be the input')
    .option('--postprocess <postprocessing.json>', 'keep the largest component of the classes it lists')
    .option(
      '--remove-small-blobs <mm³>',
      'then remove every component (per class, 6-connected) below this volume',
    )
    .option('--json', 'print [{input, output, removedVoxels}] on stdout')
    .action((o: ApplyOptions) => {
      // both options are checked before any image is read
      const spec =
        o.postprocess === undefined
          ? undefined
          : parsePostprocessingJson(readText(o.postprocess, 'postprocessing.json'));
      const blobs =
        o.removeSmallBlobs === undefined
          ? undefined
          : parseNumber('--remove-small-blobs', o.removeSmallBlobs, 0);
      const files = applyPostprocessingFiles(nodeStore, o.input, o.output, {
        ...(spec === undefined ? {} : { spec }),
        ...(blobs === undefined ? {} : { removeSmallBlobsMm3: blobs }),
        maxImageBytes: availableMemoryBytes(),
        onFile: (f, i, n) => {
          if (o.json !== true)
            console.log(`[${i + 1}/${n}] ${f.output}  ${f.removedVoxels} voxel(s) removed`);
        },
      });
      if (o.json === true) console.log(JSON.stringify(files, null, 2));
      else console.log(`wrote ${files.length} label map(s)`);
    });
}

export function registerPostprocess(program: Command): void {
  const group = program
    .command('postprocess')
    .description(
      "nnU-Net's post-processing: determine it from validation predictions, apply it to label maps",
    );
  registerDetermine(group);
  registerApply(group);
}
