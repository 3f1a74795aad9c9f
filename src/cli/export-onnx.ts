import type { Command } from 'commander';
import { loadModelFrom } from '../node/model-source.js';
import { saveOnnx } from '../node/onnx-save.js';
import { exportStunetOnnx } from '../onnx/stunet-export.js';
import { basename } from 'node:path';

interface ExportOnnxOptions {
  model: string;
  output: string;
  deepSupervision?: boolean;
  plans?: string;
}

export function registerExportOnnx(program: Command): void {
  program
    .command('export-onnx')
    .description(
      'trace an STU-Net into an ONNX graph (size-generic N, D, H, W; external data for models over 1.5 GB)',
    )
    .requiredOption('-m, --model <model>', 'stunet model folder, official v1 .model or v2 .pth')
    .requiredOption('-o, --output <model.onnx>', 'output file')
    .option(
      '--deep-supervision',
      'output every deep-supervision head (one per decoder stage), full resolution first; default: that one only',
    )
    .option('--plans <plans.json>', 'v2: plans.json to use instead of the one beside the checkpoint')
    .action((o: ExportOnnxOptions) => {
      const model = loadModelFrom(o.model, o.plans === undefined ? {} : { plans: o.plans });
      const exported = exportStunetOnnx(model, {
        deepSupervision: o.deepSupervision === true,
        externalDataLocation: `${basename(o.output)}.data`,
      });
      const saved = saveOnnx(exported, o.output);
      console.log(
        `wrote ${saved.modelPath} (${exported.nodeCount} nodes, ${(exported.weightBytes / 1e6).toFixed(1)} MB of weights)`,
      );
      if (saved.externalDataPath !== undefined)
        console.log(`wrote ${saved.externalDataPath} (external weights; keep it beside the model)`);
    });
}
