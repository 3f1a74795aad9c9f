/**
 * `stunet demo`: the whole workflow on an embedded default (src/jobs/demo.ts, on disk through src/node/demo-host.ts): synthetic CT phantoms
 * → plan → preprocess → train a small STU-Net on CPU → predict the held-out phantoms → evaluate → files
 * in --out. No downloads.
 */
import type { Command } from 'commander';
import { join } from 'node:path';
import { PHANTOM_LABELS } from '../demo/phantom.js';
import { fail } from '../util/errors.js';
import { DEMO_DEFAULTS } from '../jobs/demo.js';
import { runDemoOnDisk } from '../node/demo-host.js';
import { consoleProgress, formatDuration } from '../util/progress.js';
import { interruptible } from './interrupt.js';
import { parsePositiveInt } from './args.js';

interface DemoCliOptions {
  out: string;
  onlyData?: boolean;
  epochs?: string;
  iters?: string;
  trainCases?: string;
  testCases?: string;
  threads?: string;
  seed?: string;
}

async function run(o: DemoCliOptions): Promise<void> {
  const t0 = performance.now();
  const optional = (key: string, flag: string, v: string | undefined): Record<string, number> =>
    v === undefined ? {} : { [key]: parsePositiveInt(flag, v) };
  const seed = o.seed === undefined ? 0 : Number(o.seed);
  if (!Number.isInteger(seed) || seed < 0)
    fail('BAD_INPUT', `--seed: expected an integer ≥ 0, got '${o.seed}'`);
  const hint = 'stopped; run stunet demo again to start over (the phantom dataset is kept and reused)';
  const r = await interruptible(hint, (signal) =>
    runDemoOnDisk({
      signal,
      out: o.out,
      onlyData: o.onlyData === true,
      seed,
      ...optional('epochs', '--epochs', o.epochs),
      ...optional('iters', '--iters', o.iters),
      ...optional('numTraining', '--train-cases', o.trainCases),
      ...optional('numTest', '--test-cases', o.testCases),
      ...optional('threads', '--threads', o.threads),
      onProgress: consoleProgress(process.stderr),
      log: (line) => {
        console.log(line);
      },
    }),
  );
  const total = formatDuration((performance.now() - t0) / 1000);
  if (r.summary === null) {
    console.log(`phantom dataset written in ${total}: ${r.dataset.root}`);
    console.log(`try: stunet train --dataset ${r.dataset.root} --scale S -o <dir>`);
    return;
  }
  console.log('held-out phantoms (mean over cases):');
  for (const m of r.summary.mean) {
    const name = PHANTOM_LABELS[Number(m.key)] ?? m.key;
    const nsd = m.metrics.NSD;
    console.log(
      `  ${name.padEnd(8)} Dice ${(m.metrics.Dice ?? NaN).toFixed(3)}` +
        (nsd === undefined ? '' : `  NSD@${DEMO_DEFAULTS.nsdToleranceMm}mm ${nsd.toFixed(3)}`),
    );
  }
  console.log(`mean Dice ${(r.meanDice ?? NaN).toFixed(3)} — total ${total}`);
  console.log(`results in ${r.out}:`);
  console.log(`  summary.json        per-case and mean Dice / IoU / NSD (nnU-Net's layout)`);
  console.log(`  progress.png        training loss and pseudo-Dice per epoch`);
  console.log(`  predictions/        label NIfTIs, names (.json), statistics and *_preview.png`);
  console.log(`  train/              plans.json, preprocessed cache, fold_all/ checkpoints and log.jsonl`);
  console.log(`  model-torch-v1/     the trained model as an official nnU-Net v1 checkpoint`);
  console.log(`  data/               the phantom dataset (nnU-Net v2 raw layout)`);
  console.log(
    `predict with it: stunet predict -i <ct.nii.gz> -o <out.nii.gz> -m ${r.modelDir ?? join(r.out, 'train')}`,
  );
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'the whole workflow on synthetic CT phantoms: dataset → plan → preprocess → train → predict → evaluate (CPU, no downloads)',
    )
    .option('--out <dir>', 'output folder', './stunet-demo')
    .option('--only-data', 'stop after writing the phantom dataset (nnU-Net v2 layout)')
    .option('--epochs <n>', `training epochs (default ${DEMO_DEFAULTS.epochs})`)
    .option('--iters <n>', `iterations per epoch (default ${DEMO_DEFAULTS.iters})`)
    .option('--train-cases <n>', `training phantoms (default ${DEMO_DEFAULTS.numTraining})`)
    .option('--test-cases <n>', `held-out phantoms (default ${DEMO_DEFAULTS.numTest})`)
    .option('--threads <n>', 'compute threads (default: all cores)')
    .option('--seed <n>', 'seed of the phantoms, initialisation and augmentation', '0')
    .action(run);
}
