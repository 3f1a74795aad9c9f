/**
 * `stunet ensemble -i <folder> <folder> … -o <folder>`: nnU-Net's `nnUNet_ensemble` of the probabilities
 * `stunet predict --save-probabilities` saved (src/jobs/ensemble-folders.ts).
 */
import type { Command } from 'commander';
import { parsePostprocessingJson } from '../evaluation/postprocessing-json.js';
import { parseLabelSystem } from '../io/labels/schemes.js';
import { ensembleFolders } from '../jobs/ensemble-folders.js';
import { nodeStore } from '../node/file-store.js';
import { readText } from '../node/fs.js';
import { consoleProgress } from '../util/progress.js';
import { fail } from '../util/errors.js';

interface EnsembleCliOptions {
  input: string[];
  output: string;
  postprocess?: string;
  names?: string;
  missingClasses?: string;
  perClass?: boolean;
}

export function registerEnsemble(program: Command): void {
  program
    .command('ensemble')
    .description(
      "average the probabilities of several predictions (predict --save-probabilities), as nnU-Net's nnUNet_ensemble: mean, argmax, labels in the image's geometry",
    )
    .requiredOption(
      '-i, --input <folders...>',
      'two or more folders of <case>_probabilities.npz (with <case>.nii.gz)',
    )
    .requiredOption('-o, --output <folder>', 'where the ensembled label maps go')
    .option(
      '--postprocess <postprocessing.json>',
      "then nnU-Net's post-processing (stunet postprocess determine)",
    )
    .option('--names <scheme>', "write the labels in a scheme's names: stunet, totalseg-v1 or totalseg-v2")
    .option(
      '--missing-classes <error|background>',
      '--names: a class the scheme lacks is an error (default) or background',
    )
    .option('--per-class', 'also one mask per class (<case>_classes/<name>.nii.gz)')
    .action((o: EnsembleCliOptions) => {
      if (o.missingClasses !== undefined && o.missingClasses !== 'error' && o.missingClasses !== 'background')
        fail('BAD_INPUT', `--missing-classes: use error or background, got '${o.missingClasses}'`);
      const postprocess =
        o.postprocess === undefined
          ? undefined
          : parsePostprocessingJson(readText(o.postprocess, '--postprocess file'));
      const t0 = performance.now();
      const files = ensembleFolders(nodeStore, o.input, o.output, {
        ...(postprocess === undefined ? {} : { postprocess }),
        ...(o.names === undefined ? {} : { names: parseLabelSystem(o.names) }),
        ...(o.missingClasses === undefined ? {} : { missingClasses: o.missingClasses }),
        perClass: o.perClass === true,
        onProgress: consoleProgress(process.stderr),
        onCase: (stem, _, i, n) => {
          console.log(`case ${i + 1}/${n}: ${stem}`);
        },
      });
      console.log(
        `${files.length} files written to ${o.output} in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
    });
}
