import type { Command } from 'commander';
import { join } from 'node:path';
import { divisibilityZYX } from '../model/architecture.js';
import { fail } from '../util/errors.js';
import { npyFromTensor, tensorFromNpy } from '../io/npy-tensor.js';
import { formatShape } from '../engine/tensor.js';
import { readNpy, writeNpy } from '../io/npy.js';
import { readBytes, writeAllAtomic } from '../node/fs.js';
import { loadModelFrom } from '../node/model-source.js';
import { createNetworkRunner } from '../jobs/network.js';
import { nodeRuntime } from '../node/runtime.js';
import { parsePositiveInt } from './args.js';

interface RunNetworkOptions {
  model: string;
  input: string;
  output: string;
  backend: string;
  deepSupervision?: boolean;
  threads?: string;
  plans?: string;
}

export function registerRunNetwork(program: Command): void {
  program
    .command('run-network')
    .description(
      'debug entry point: one forward pass of the network on a .npy input (N, C, D, H, W) → out_0.npy …',
    )
    .requiredOption('-m, --model <model>', 'stunet model folder, official v1 .model or v2 .pth')
    .requiredOption('--input <x.npy>', 'input array (float32/float64/int64/uint8), shape (N, C, D, H, W)')
    .requiredOption('-o, --output <dir>', 'output folder for out_<i>.npy (float32 logits)')
    .option('--backend <ort|ref>', 'executor: ONNX Runtime or the reference engine', 'ort')
    .option(
      '--deep-supervision',
      'write every deep-supervision head (one per decoder stage), full resolution first; default: that one only',
    )
    .option('--threads <n>', 'ONNX Runtime intra-op threads (default: all cores)')
    .option('--plans <plans.json>', 'v2: plans.json to use instead of the one beside the checkpoint')
    .action(async (o: RunNetworkOptions) => {
      if (o.backend !== 'ort' && o.backend !== 'ref')
        fail('BAD_INPUT', `--backend: use 'ort' or 'ref', got '${o.backend}'`);
      const model = loadModelFrom(o.model, o.plans === undefined ? {} : { plans: o.plans });
      const x = tensorFromNpy(readNpy(readBytes(o.input, 'input')));
      if (x.shape.length !== 5 || x.shape[1] !== model.arch.inputChannels) {
        fail(
          'SHAPE_MISMATCH',
          `input ${formatShape(x.shape)} must be (N, ${model.arch.inputChannels}, D, H, W) for this model`,
        );
      }
      const div = divisibilityZYX(model.arch);
      if (x.shape.slice(2).some((d, a) => d % (div[a] ?? 1) !== 0))
        fail(
          'SHAPE_MISMATCH',
          `input ${formatShape(x.shape)}: D, H, W must be divisible by the pools' product ` +
            `[${div.join(', ')}] of this network (pad or crop the input)`,
        );
      const runner = await createNetworkRunner(model, nodeRuntime, {
        executor: o.backend,
        deepSupervision: o.deepSupervision === true,
        ...(o.threads === undefined ? {} : { threads: parsePositiveInt('--threads', o.threads) }),
      });
      try {
        const t0 = performance.now();
        const outputs = await runner.run(x);
        const seconds = (performance.now() - t0) / 1000;
        writeAllAtomic(
          outputs.map((t, i) => ({ path: join(o.output, `out_${i}.npy`), data: writeNpy(npyFromTensor(t)) })),
        );
        outputs.forEach((t, i) => {
          console.log(`wrote ${join(o.output, `out_${i}.npy`)} ${formatShape(t.shape)}`);
        });
        console.log(`forward (${o.backend}) ${seconds.toFixed(3)} s`);
      } finally {
        await runner.close();
      }
    });
}
