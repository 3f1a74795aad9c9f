import type { Command } from 'commander';
import { freemem } from 'node:os';
import { join } from 'node:path';
import { fail } from '../util/errors.js';
import { refBackend } from '../engine/backends/ref/index.js';
import { tensorFromNpy } from '../io/npy-tensor.js';
import { readNpy } from '../io/npy.js';
import { readBytes, writeAllAtomic } from '../node/fs.js';
import { loadModelFrom, saveModelFolder } from '../node/model-source.js';
import { type LabelMap, labelMapFromNpy } from '../augmentation/deep-supervision.js';
import { runTrainSteps } from '../jobs/train-steps.js';
import { createNodeWasmBackend } from '../node/wasm-pool.js';
import { serializeSgd } from '../training/optimizer-state.js';
import { parsePositiveInt } from './args.js';

interface TrainStepsOptions {
  model: string;
  input: string;
  target: string;
  targetDs?: string;
  steps: string;
  lr: string;
  momentum: string;
  weightDecay: string;
  clip: string;
  batchDice?: boolean;
  backend: string;
  output: string;
  plans?: string;
}

function parseNumber(option: string, text: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || v < 0)
    fail('BAD_INPUT', `${option}: expected a non-negative number, got '${text}'`);
  return v;
}

function readLabels(path: string): LabelMap {
  return labelMapFromNpy(readNpy(readBytes(path, 'target')));
}

export function registerTrainSteps(program: Command): void {
  program
    .command('train-steps')
    .description(
      'debug entry point: N training steps (nnU-Net v1 semantics) on one fixed batch → losses.json + weights',
    )
    .requiredOption(
      '-m, --model <model>',
      'stunet model folder, official v1 .model or v2 .pth (initial weights)',
    )
    .requiredOption('--input <x.npy>', 'input batch (N, C, D, H, W)')
    .requiredOption('--target <t.npy>', 'full-resolution label map (N, 1, D, H, W)')
    .option(
      '--target-ds <t1.npy,…>',
      'targets of outputs 1… (default: downsampled from --target as nnU-Net does)',
    )
    .option('--steps <n>', 'number of steps', '1')
    .option('--lr <lr>', 'learning rate', '0.01')
    .option('--momentum <m>', 'SGD Nesterov momentum', '0.99')
    .option('--weight-decay <wd>', 'SGD weight decay', '3e-5')
    .option('--clip <norm>', 'gradient-norm clipping (clip_grad_norm_)', '12')
    .option('--batch-dice', 'Dice over the whole batch (plans batch_dice)')
    .option('--backend <ref|wasm>', 'compute backend', 'ref')
    .option('--plans <plans.json>', 'v2: plans.json to use instead of the one beside the checkpoint')
    .requiredOption(
      '-o, --output <dir>',
      'output folder: losses.json, model.json, weights.safetensors, optimizer.safetensors',
    )
    .action(async (o: TrainStepsOptions) => {
      if (o.backend !== 'ref' && o.backend !== 'wasm')
        fail('BAD_INPUT', `--backend: use 'ref' or 'wasm', got '${o.backend}'`);
      const steps = parsePositiveInt('--steps', o.steps);
      const model = loadModelFrom(o.model, o.plans === undefined ? {} : { plans: o.plans });
      const x = tensorFromNpy(readNpy(readBytes(o.input, 'input')));
      const targetsDs = o.targetDs?.split(',').map((p) => readLabels(p.trim()));
      const wasm = o.backend === 'wasm' ? await createNodeWasmBackend() : null;
      const backend = wasm ?? refBackend;
      try {
        const { weights, optimizer, log } = runTrainSteps(model, x, readLabels(o.target), backend, {
          steps,
          lr: parseNumber('--lr', o.lr),
          momentum: parseNumber('--momentum', o.momentum),
          weightDecay: parseNumber('--weight-decay', o.weightDecay),
          clip: parseNumber('--clip', o.clip),
          batchDice: o.batchDice === true,
          memoryLimitBytes: freemem(),
          ...(targetsDs === undefined ? {} : { targetsDs }),
          onStep: (r) => {
            console.log(
              `step ${r.step}: loss ${r.loss.toFixed(6)}, grad norm ${r.gradNorm.toFixed(6)}${r.clipped ? ' (clipped)' : ''}, ${r.seconds.toFixed(2)} s`,
            );
          },
        });
        saveModelFolder(o.output, { ...model, weights });
        writeAllAtomic([
          {
            path: join(o.output, 'losses.json'),
            data: `${JSON.stringify({ backend: backend.name, steps: log }, null, 1)}\n`,
          },
          { path: join(o.output, 'optimizer.safetensors'), data: serializeSgd(optimizer) },
        ]);
        console.log(
          `wrote ${join(o.output, 'losses.json')} and the weights after step ${steps} to ${o.output}`,
        );
      } finally {
        await wasm?.close();
      }
    });
}
