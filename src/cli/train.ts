import type { Command } from 'commander';
import { fail } from '../util/errors.js';
import { isScaleName } from '../model/scales.js';
import { resolveModelArg } from '../node/model-cache.js';
import { trainRun, type TrainRunOptions } from '../node/train-host.js';
import { FINETUNE_LR } from '../training/finetune.js';
import { consoleProgress } from '../util/progress.js';
import { interruptible } from './interrupt.js';
import { parseIntList, parsePoolList, parsePositiveInt, parseVec3 } from './args.js';

interface TrainCliOptions {
  dataset: string;
  scale: string;
  depth?: string;
  dims?: string;
  pool?: string;
  epochs: string;
  iters: string;
  valBatches: string;
  fold: string;
  patch?: string;
  batch?: string;
  backend: string;
  threads?: string;
  workers?: string;
  continue?: boolean;
  pretrained?: string;
  lr?: string;
  seed: string;
  plans?: string;
  memoryGb?: string;
  casesIn: string;
  fingerprintSamples?: string;
  finalValidation: boolean;
  tta: boolean;
  output: string;
}

function positive(option: string, text: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || v <= 0)
    fail('BAD_INPUT', `${option}: expected a positive number, got '${text}'`);
  return v;
}

function nonNegativeInt(option: string, text: string): number {
  const v = Number(text);
  if (!Number.isInteger(v) || v < 0) fail('BAD_INPUT', `${option}: expected an integer ≥ 0, got '${text}'`);
  return v;
}

function toOptions(o: TrainCliOptions): TrainRunOptions {
  if (!isScaleName(o.scale)) fail('BAD_INPUT', `--scale must be S, B, L or H, got '${o.scale}'`);
  if (o.backend !== 'wasm' && o.backend !== 'ref')
    fail('BAD_INPUT', `--backend: use 'wasm' or 'ref', got '${o.backend}'`);
  const fold = o.fold === 'all' ? 'all' : nonNegativeInt('--fold', o.fold);
  if (fold !== 'all' && fold > 4) fail('BAD_INPUT', `--fold must be 0…4 or all, got '${o.fold}'`);
  const seed = nonNegativeInt('--seed', o.seed);
  if (o.casesIn !== 'auto' && o.casesIn !== 'memory' && o.casesIn !== 'disk')
    fail('BAD_INPUT', `--cases-in: use 'auto', 'memory' or 'disk', got '${o.casesIn}'`);
  return {
    datasetDir: o.dataset,
    outDir: o.output,
    scale: o.scale,
    fold,
    seed,
    backend: o.backend,
    epochs: parsePositiveInt('--epochs', o.epochs),
    iters: parsePositiveInt('--iters', o.iters),
    valBatches: nonNegativeInt('--val-batches', o.valBatches),
    continue: o.continue === true,
    finalValidation: o.finalValidation,
    validationTta: o.tta,
    ...(o.depth === undefined ? {} : { depth: parseIntList('--depth', o.depth) }),
    ...(o.dims === undefined ? {} : { dims: parseIntList('--dims', o.dims) }),
    ...(o.pool === undefined ? {} : { pools: parsePoolList('--pool', o.pool) }),
    ...(o.patch === undefined ? {} : { patch: parseVec3('--patch', o.patch) }),
    ...(o.batch === undefined ? {} : { batch: parsePositiveInt('--batch', o.batch) }),
    ...(o.threads === undefined ? {} : { threads: parsePositiveInt('--threads', o.threads) }),
    ...(o.workers === undefined ? {} : { workers: nonNegativeInt('--workers', o.workers) }),
    ...(o.pretrained === undefined ? {} : { pretrained: resolveModelArg(o.pretrained) }),
    ...(o.lr === undefined ? {} : { lr: positive('--lr', o.lr) }),
    ...(o.plans === undefined ? {} : { plansPath: o.plans }),
    ...(o.casesIn === 'auto' ? {} : { casesInMemory: o.casesIn === 'memory' }),
    ...(o.fingerprintSamples === undefined
      ? {}
      : {
          fingerprintSamples:
            o.fingerprintSamples === 'all'
              ? ('all' as const)
              : parsePositiveInt('--fingerprint-samples', o.fingerprintSamples),
        }),
    ...(o.memoryGb === undefined
      ? {}
      : { memoryLimitBytes: Math.floor(positive('--memory-gb', o.memoryGb) * 1024 ** 3) }),
  };
}

function addTrainOptions(cmd: Command, finetune: boolean): Command {
  cmd
    .requiredOption('--dataset <dir>', 'nnU-Net v2 raw dataset (imagesTr, labelsTr, dataset.json)')
    .option('--scale <S|B|L|H>', 'STU-Net scale', 'S')
    .option('--depth <n,…>', 'residual blocks per stage (overrides the scale)')
    .option('--dims <n,…>', 'channels per stage (overrides the scale; stages = entries)')
    .option('--pool <z,y,x/…>', 'pools between stages (default: from the plans, truncated/padded)')
    .option('--epochs <n>', 'epochs', '1000')
    .option('--iters <n>', 'iterations per epoch', '250')
    .option('--val-batches <n>', 'validation batches per epoch for the pseudo-Dice (0: none)', '50')
    .option('--fold <0-4|all>', "fold of nnU-Net's 5-fold split (seed 12345), or all", '0')
    .option('--patch <z,y,x>', 'patch size (default: the plans)')
    .option('--batch <n>', 'batch size (default: the plans)')
    .option('--backend <wasm|ref>', 'compute backend', 'wasm')
    .option('--threads <n>', 'compute threads (wasm)')
    .option('--workers <n>', 'loader/augmentation worker threads (0: same thread)')
    .option('--continue', 'continue from checkpoint_latest of this fold')
    .option('--lr <lr>', `initial learning rate (default ${finetune ? FINETUNE_LR : 0.01})`)
    .option('--seed <n>', 'seed of initialisation, sampling and augmentation', '0')
    .option('--plans <plans.json>', 'use these plans instead of planning the dataset')
    .option('--memory-gb <n>', 'memory available for training (default: free memory)')
    .option(
      '--cases-in <auto|memory|disk>',
      "where the loader reads the fold's cases: all in memory, or patch by patch from the preprocessed cache (auto: memory below 1 GiB)",
      'auto',
    )
    .option(
      '--fingerprint-samples <n|all>',
      "foreground voxels sampled per case when planning (default nnU-Net's 10e7 / cases)",
    )
    .option('--no-final-validation', 'skip the sliding-window validation at the end')
    .option('--no-tta', 'final validation without mirror TTA')
    .requiredOption('-o, --output <dir>', 'output folder (plans, cache, fold_N/checkpoint_*)');
  if (finetune)
    cmd.requiredOption('--pretrained <model>', 'pre-trained model: our folder, v1 .model or v2 .pth');
  else cmd.option('--pretrained <model>', 'start from a pre-trained model (fine-tuning; lr default 1e-3)');
  return cmd;
}

async function run(o: TrainCliOptions): Promise<void> {
  const options = toOptions(o);
  const resume = [...process.argv.slice(2).filter((a) => a !== '--continue'), '--continue'].join(' ');
  const hint = `stopped; the last finished epoch is in checkpoint_latest: resume with stunet ${resume}`;
  const r = await interruptible(hint, (signal) =>
    trainRun({
      ...options,
      signal,
      onProgress: consoleProgress(process.stderr),
      log: (line) => {
        console.log(line);
      },
    }),
  );
  console.log(`model: ${r.modelDir} (stunet predict -m ${r.modelDir})`);
  if (r.summaryPath !== null) console.log(`validation: ${r.summaryPath}`);
}

export function registerTrain(program: Command): void {
  addTrainOptions(
    program
      .command('train')
      .description('plan, preprocess and train an STU-Net on an nnU-Net v2 dataset (nnU-Net schedule)'),
    false,
  ).action(run);
  addTrainOptions(
    program
      .command('finetune')
      .description(
        'train from a pre-trained STU-Net (heads re-initialised, stem repeated over channels, lr 1e-3)',
      ),
    true,
  ).action(run);
}
