#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';
import { Command, CommanderError } from 'commander';
import { StunetError } from '../util/errors.js';
import { registerConvert } from './convert.js';
import { installInterruptHandler, Interrupted } from './interrupt.js';
import { registerDataset } from './dataset.js';
import { registerDemo } from './demo.js';
import { registerEvaluate } from './evaluate.js';
import { registerExportOnnx } from './export-onnx.js';
import { registerModelInfo } from './model-info.js';
import { registerPredict } from './predict.js';
import { registerPlan } from './plan.js';
import { registerPreprocess } from './preprocess.js';
import { registerRunNetwork } from './run-network.js';
import { registerTrain } from './train.js';
import { registerTrainSteps } from './train-steps.js';

// Node 20's V8 has relaxed SIMD (FMA) behind a flag; the wasm backend uses it when it validates.
// Set before any wasm is compiled. Later Node versions ship it enabled.
if (process.versions.node.startsWith('20.')) setFlagsFromString('--experimental-wasm-relaxed-simd');

const program = new Command();
program
  .name('stunet')
  .description(
    'STU-Net (scalable 3D U-Nets on nnU-Net) in TypeScript: official checkpoints in, ONNX Runtime inference out',
  )
  .version('0.1.0')
  .showHelpAfterError()
  .exitOverride();

registerDemo(program);
registerModelInfo(program);
registerConvert(program);
registerExportOnnx(program);
registerRunNetwork(program);
registerTrainSteps(program);
registerPredict(program);
registerDataset(program);
registerPlan(program);
registerPreprocess(program);
registerTrain(program);
registerEvaluate(program);

installInterruptHandler();
try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof Interrupted) {
    // one line, on a line of its own when a progress bar is drawn
    console.error(`${process.stderr.isTTY ? '\n' : ''}interrupted: ${e.hint}`);
    process.exitCode = 130;
    setTimeout(() => process.exit(130), 3000).unref(); // should a worker linger
  } else if (e instanceof CommanderError) {
    // commander already printed its message; --help and --version exit 0.
    process.exitCode = e.exitCode;
  } else if (e instanceof StunetError) {
    console.error(`error: ${e.message}`);
    process.exitCode = 1;
  } else {
    console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
    if (process.env['STUNET_DEBUG'] !== undefined && e instanceof Error) console.error(e.stack);
    process.exitCode = 1;
  }
}
