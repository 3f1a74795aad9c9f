#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';
import { Command, CommanderError } from 'commander';
import { StunetError } from '../util/errors.js';
import { registerConvert } from './convert.js';
import { installInterruptHandler, Interrupted } from './interrupt.js';
import { registerDataset } from './dataset.js';
import { registerDemo } from './demo.js';
import { registerDoctor } from './doctor.js';
import { registerEnsemble } from './ensemble.js';
import { registerEvaluate } from './evaluate.js';
import { registerExportOnnx } from './export-onnx.js';
import { registerModelInfo } from './model-info.js';
import { registerModels } from './models.js';
import { registerPredict } from './predict.js';
import { registerPlan } from './plan.js';
import { registerPostprocess } from './postprocess.js';
import { registerPreprocess } from './preprocess.js';
import { registerQueue } from './queue.js';
import { registerWeb } from './web.js';
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
  // An option typo gets commander's one-line suggestion ("Did you mean --input?"), not the whole help.
  .showSuggestionAfterError()
  .exitOverride();

registerDemo(program);
registerModelInfo(program);
registerModels(program);
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
registerEnsemble(program);
registerPostprocess(program);
registerDoctor(program);
registerQueue(program);
registerWeb(program);

// Commander reports a missing required option before an unknown one, so a typo such as `--inptu` read
// "required option '-i' not specified". Unknown options are named first, with the closest known one.
program.hook('preSubcommand', (_, sub) => {
  if (sub.commands.length > 0) return; // a group (dataset): commander checks its leaf commands itself
  const known = new Set(sub.options.flatMap((o) => [o.long, o.short]).concat(['--help', '-h']));
  const args = process.argv.slice(process.argv.indexOf(sub.name()) + 1);
  for (const a of args) {
    const flag = a.startsWith('--') ? a.split('=')[0] : undefined;
    if (flag === undefined || flag === '--' || known.has(flag)) continue;
    const close = [...known]
      .filter((k): k is string => k?.startsWith('--') === true)
      .sort((x, y) => editDistance(flag, x) - editDistance(flag, y))[0];
    const hint = close !== undefined && editDistance(flag, close) <= 3 ? ` (did you mean ${close}?)` : '';
    throw new StunetError(
      'BAD_INPUT',
      `unknown option '${flag}' for stunet ${sub.name()}${hint}; see stunet ${sub.name()} --help`,
    );
  }
});

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

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row.push(
        Math.min(
          (prev[j] ?? 0) + 1,
          (row[j - 1] ?? 0) + 1,
          (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
        ),
      );
    prev = row;
  }
  return prev[b.length] ?? 0;
}
