import type { Command } from 'commander';
import { fail } from '../util/errors.js';
import { failOnProblems } from '../io/dataset.js';
import { readDatasetDir } from '../node/dataset-files.js';
import { readText } from '../node/fs.js';
import { preprocessDatasetToCache, preprocessPlansFromNnunet } from '../node/preprocessed-cache.js';
import { parsePlans } from '../planning/plans.js';
import { consoleProgress } from '../util/progress.js';

interface PreprocessOptions {
  plans: string;
  output: string;
  configuration: string;
}

export function registerPreprocess(program: Command): void {
  program
    .command('preprocess <dataset-dir>')
    .description(
      'crop, resample and normalise every case once with the plans into a cache the trainer reads by patch (re-running skips done cases)',
    )
    .requiredOption('--plans <plans.json>', 'nnU-Net v2 plans (stunet plan writes them)')
    .option('--configuration <name>', 'plans configuration', '3d_fullres')
    .requiredOption('-o, --output <cache-dir>', 'cache folder')
    .action((dir: string, o: PreprocessOptions) => {
      const { desc, problems } = readDatasetDir(dir);
      failOnProblems(problems, `dataset '${dir}'`);
      if (desc === null) fail('BAD_INPUT', `dataset '${dir}' could not be read`);
      const plans = preprocessPlansFromNnunet(parsePlans(readText(o.plans, 'plans')), o.configuration);
      const r = preprocessDatasetToCache(dir, desc, plans, o.output, {
        onProgress: consoleProgress(process.stderr),
      });
      console.log(`${o.output}: ${r.made} case(s) preprocessed, ${r.skipped} already done`);
    });
}
