import type { Command } from 'commander';
import { freemem } from 'node:os';
import { join } from 'node:path';
import { fail } from '../util/errors.js';
import type { Backend } from '../engine/backend.js';
import { refBackend } from '../engine/backends/ref/index.js';
import { tensorFromNpy } from '../io/npy-tensor.js';
import { formatShape } from '../engine/tensor.js';
import { readNpy } from '../io/npy.js';
import { readBytes, writeAllAtomic } from '../node/fs.js';
import { loadModelFrom, saveModelFolder } from '../node/model-source.js';
import { type LabelMap, downsampleSegForDs, labelMapFromNpy } from '../augmentation/deep-supervision.js';
import { deepSupervisionScales } from '../model/deep-supervision.js';
import { SgdOptimizer } from '../training/optimizer.js';
import { serializeSgd } from '../training/optimizer-state.js';
import { createTrainingState, trainStep } from '../training/train-step.js';
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

/** The wasm backend, when its module exists and exports createWasmBackend (loaded lazily). */
async function wasmBackend(): Promise<Backend & { close(): Promise<void> }> {
  const specifier = '../engine/backends/wasm/index.js';
  let mod: { createWasmBackend?: unknown };
  try {
    mod = (await import(specifier)) as { createWasmBackend?: unknown };
  } catch {
    fail(
      'UNSUPPORTED',
      "--backend wasm: the wasm backend is not available yet in this build; use '--backend ref'",
    );
  }
  if (typeof mod.createWasmBackend !== 'function')
    fail(
      'UNSUPPORTED',
      "--backend wasm: the wasm backend is not available yet in this build; use '--backend ref'",
    );
  return await (mod.createWasmBackend as () => Promise<Backend & { close(): Promise<void> }>)();
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
      if (x.shape.length !== 5 || x.shape[1] !== model.arch.inputChannels)
        fail(
          'SHAPE_MISMATCH',
          `input ${formatShape(x.shape)} must be (N, ${model.arch.inputChannels}, D, H, W) for this model`,
        );
      const full = readLabels(o.target);
      const targets =
        o.targetDs === undefined
          ? downsampleSegForDs(full, deepSupervisionScales(model.arch.poolOpKernelSizes))
          : [full, ...o.targetDs.split(',').map((p) => readLabels(p.trim()))];
      if (targets.length !== model.arch.poolOpKernelSizes.length)
        fail(
          'BAD_INPUT',
          `--target-ds: the model has ${model.arch.poolOpKernelSizes.length} outputs; give ${model.arch.poolOpKernelSizes.length - 1} downsampled targets`,
        );
      const backend = o.backend === 'wasm' ? await wasmBackend() : refBackend;
      try {
        const optimizer = new SgdOptimizer({
          lr: parseNumber('--lr', o.lr),
          momentum: parseNumber('--momentum', o.momentum),
          weightDecay: parseNumber('--weight-decay', o.weightDecay),
          nesterov: true,
        });
        const state = createTrainingState(model.arch, model.weights, backend, optimizer, {
          loss: { batchDice: o.batchDice === true },
          clipNorm: parseNumber('--clip', o.clip),
          memoryLimitBytes: freemem(),
        });
        const log: { step: number; loss: number; gradNorm: number; clipped: boolean; seconds: number }[] = [];
        for (let step = 1; step <= steps; step++) {
          const t0 = performance.now();
          const r = trainStep(state, x, targets);
          const seconds = (performance.now() - t0) / 1000;
          log.push({ step, loss: r.loss, gradNorm: r.gradNorm, clipped: r.clipped, seconds });
          console.log(
            `step ${step}: loss ${r.loss.toFixed(6)}, grad norm ${r.gradNorm.toFixed(6)}${r.clipped ? ' (clipped)' : ''}, ${seconds.toFixed(2)} s`,
          );
        }
        saveModelFolder(o.output, { ...model, weights: state.params });
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
        if ('close' in backend && typeof backend.close === 'function')
          await (backend.close as () => Promise<void>)();
      }
    });
}
