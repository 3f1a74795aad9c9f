import type { Command } from 'commander';
import { fail } from '../util/errors.js';
import { loadModelFrom, saveModelFolder, saveTorchCheckpoint } from '../node/model-source.js';

interface ConvertOptions {
  output: string;
  to?: string;
  plans?: string;
}

const TARGETS = ['folder', 'torch-v1', 'torch-v2'] as const;
type Target = (typeof TARGETS)[number];

export function registerConvert(program: Command): void {
  program
    .command('convert')
    .description(
      'official v1 (.model + .model.pkl) / v2 (.pth + plans.json) checkpoint ↔ stunet model folder ↔ PyTorch-loadable checkpoint',
    )
    .argument('<checkpoint>', 'official v1 .model, v2 .pth, or a stunet model folder')
    .requiredOption('-o, --output <path>', 'output: a folder (folder, torch-v2) or a .model path (torch-v1)')
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
      const written = saveTorchCheckpoint(model, o.output, target);
      for (const f of written.files) console.log(`wrote ${f}`);
      if (written.plansSynthesized) {
        console.log(
          'note: the source has no plans of this nnU-Net version; minimal plans were written that make the official ' +
            'STUNetTrainer build this network. Review their preprocessing fields (spacing, normalization) before training.',
        );
      }
    });
}
