import type { Command } from 'commander';
import { fail } from '../util/errors.js';
import { loadModelFrom, saveModelFolder, saveTorchCheckpoint } from '../node/model-source.js';

interface ConvertOptions {
  output: string;
  to?: string;
  plans?: string;
  fold: string;
}

const TARGETS = ['folder', 'torch-v1', 'torch-v2'] as const;
type Target = (typeof TARGETS)[number];

export function registerConvert(program: Command): void {
  program
    .command('convert')
    .description(
      'official v1 (.model + .model.pkl) / v2 (.pth + plans.json) checkpoint ↔ stunet model folder ↔ PyTorch-loadable checkpoint',
    )
    .argument(
      '<checkpoint>',
      'official v1 .model, v2 .pth, a stunet model folder, or a training folder with one fold',
    )
    .requiredOption(
      '-o, --output <path>',
      'folder: a model folder; torch-v1/-v2: a trainer folder (nnU-Net layout fold_N/…) or a .model / .pth file',
    )
    .option('--fold <n|all>', 'torch-v1/-v2 into a trainer folder: the fold folder to write', '0')
    .option('--to <target>', `${TARGETS.join(' | ')} (default: folder for official input)`)
    .option('--plans <plans.json>', 'v2: plans.json to use instead of the one beside the checkpoint')
    .action((input: string, o: ConvertOptions) => {
      const target = (o.to ?? 'folder') as Target;
      if (!TARGETS.includes(target))
        fail('BAD_INPUT', `--to: unknown target '${o.to ?? ''}': use ${TARGETS.join(', ')}`);
      const model = loadModelFrom(input, o.plans === undefined ? {} : { plans: o.plans });
      if (target === 'folder') {
        for (const f of saveModelFolder(o.output, model)) console.log(`wrote ${f}`);
        return;
      }
      const fold = o.fold === 'all' ? 'all' : Number(o.fold);
      if (fold !== 'all' && !(Number.isInteger(fold) && fold >= 0))
        fail('BAD_INPUT', `--fold: expected a fold number or 'all', got '${o.fold}'`);
      const written = saveTorchCheckpoint(model, o.output, target, fold);
      for (const f of written.files) console.log(`wrote ${f}`);
      const version = target === 'torch-v1' ? 'v1' : 'v2';
      if (!/\.(model|pth)$/.test(o.output))
        console.log(
          `an nnU-Net ${version} trainer folder: the official predictor opens '${o.output}' with fold ${fold}`,
        );
      if (written.plansSynthesized) {
        console.log(
          'note: the source has no plans of this nnU-Net version; minimal plans were written that make the official ' +
            'STUNetTrainer build this network. Review their preprocessing fields (spacing, normalization) before training.',
        );
      }
    });
}
