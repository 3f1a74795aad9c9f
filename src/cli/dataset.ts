import type { Command } from 'commander';
import { fail } from '../util/errors.js';
import { convertMsd, convertTotalseg, validateDatasetDir } from '../node/dataset-files.js';
import { parsePositiveInt } from './args.js';

interface ValidateOptions {
  json?: boolean;
}

interface ConvertOptions {
  from: string;
  output: string;
  id?: string;
  name?: string;
}

export function registerDataset(program: Command): void {
  const dataset = program.command('dataset').description('nnU-Net v2 raw datasets: validate, convert');
  dataset
    .command('validate <dir>')
    .description('check an nnU-Net v2 dataset folder and list every problem (exit 1 when there are any)')
    .option(
      '--json',
      'print {"ok": bool, "cases": N, "problems": [{kind, caseId?, message}], "ignored": [files]}',
    )
    .action((dir: string, o: ValidateOptions) => {
      const { desc, problems, ignored } = validateDatasetDir(dir);
      const cases = desc?.cases.length ?? 0;
      if (o.json === true) {
        console.log(JSON.stringify({ ok: problems.length === 0, cases, problems, ignored }, null, 2));
        if (problems.length > 0) process.exitCode = 1;
        return;
      }
      if (ignored.length > 0)
        console.log(`${dir}: ignored (not named as nnU-Net reads cases): ${ignored.join(', ')}`);
      if (problems.length === 0) {
        console.log(`${dir}: OK (${cases} cases, ${desc?.json.channelNames.length ?? 0} channel(s))`);
      } else {
        console.log(`${dir}: ${problems.length} problem(s) in ${cases} case(s):`);
        for (const p of problems) console.log(`  - ${p.message}`);
      }
      if (problems.length > 0) process.exitCode = 1;
    });
  dataset
    .command('convert <src>')
    .description('convert an MSD task (TaskXX_Name) or a TotalSegmentator release to nnU-Net v2')
    .requiredOption('--from <msd|totalseg>', 'source layout')
    .requiredOption('-o, --output <dir>', 'output: a DatasetXXX_Name folder, or a folder to create it in')
    .option('--id <n>', 'dataset id (default: the MSD task number; 1 for TotalSegmentator)')
    .option('--name <name>', 'dataset name (default: from the MSD task; TotalSegmentator)')
    .action((src: string, o: ConvertOptions) => {
      const opts = {
        ...(o.id === undefined ? {} : { id: parsePositiveInt('--id', o.id) }),
        ...(o.name === undefined ? {} : { name: o.name }),
      };
      let r: { dir: string; cases: number };
      if (o.from === 'msd') r = convertMsd(src, o.output, opts);
      else if (o.from === 'totalseg') r = convertTotalseg(src, o.output, opts);
      else fail('BAD_INPUT', `--from must be msd or totalseg, got '${o.from}'`);
      console.log(
        `wrote ${r.dir} (${r.cases} training cases); check it with: stunet dataset validate ${r.dir}`,
      );
    });
}
