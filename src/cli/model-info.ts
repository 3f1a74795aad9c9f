import type { Command } from 'commander';
import { countModel } from '../model/counting.js';
import { scaleArchitecture } from '../model/scales.js';
import { parseIntList, parsePoolList, parsePositiveInt, parseVec3 } from './args.js';

interface ModelInfoOptions {
  scale: string;
  depth?: string;
  dims?: string;
  inChannels: string;
  classes: string;
  pool?: string;
  patch: string;
  json?: boolean;
}

export function registerModelInfo(program: Command): void {
  program
    .command('model-info')
    .description('parameters and conv multiply-accumulates of an STU-Net (released scale or custom)')
    .option('--scale <S|B|L|H>', 'released scale preset', 'B')
    .option('--depth <list>', 'residual blocks per stage, e.g. 1,1,1,1,1,1')
    .option('--dims <list>', 'channels per stage, e.g. 16,32,64,128,256,256')
    .option('--in-channels <n>', 'input channels', '1')
    .option('--classes <n>', 'output classes (incl. background)', '105')
    .option(
      '--pool <list>',
      'pool kernel sizes, e.g. 2,2,2/2,2,2/2,2,2/2,2,2/1,1,2 (default: released TotalSegmentator plans)',
    )
    .option('--patch <Z,Y,X>', 'patch size for the MAC count', '128,128,128')
    .option('--json', 'print {"parameters": N, "convMacs": N}')
    .action((o: ModelInfoOptions) => {
      const dims = o.dims === undefined ? undefined : parseIntList('--dims', o.dims);
      const pools = o.pool === undefined ? undefined : parsePoolList('--pool', o.pool);
      const arch = scaleArchitecture(o.scale, {
        inputChannels: parsePositiveInt('--in-channels', o.inChannels),
        numClasses: parsePositiveInt('--classes', o.classes),
        ...(o.depth === undefined ? {} : { depth: parseIntList('--depth', o.depth) }),
        ...(dims === undefined ? {} : { dims }),
        ...(pools === undefined ? {} : { poolOpKernelSizes: pools }),
      });
      const patch = parseVec3('--patch', o.patch);
      const c = countModel(arch, patch);
      if (o.json === true) {
        console.log(JSON.stringify({ parameters: c.parameters, convMacs: c.convMacs }));
        return;
      }
      console.log(`STU-Net depth [${arch.depth.join(', ')}] dims [${arch.dims.join(', ')}]`);
      console.log(`  parameters   ${c.parameters.toLocaleString('en-US')}`);
      console.log(
        `  conv MACs    ${c.convMacs.toExponential(4)} at ${patch.join('×')} (≈ ${((2 * c.convMacs) / 1e12).toFixed(2)} TFLOP per forward)`,
      );
      console.log(`  outputs      ${c.outputShapes.map((s) => `[${s.join(', ')}]`).join(' ')}`);
    });
}
