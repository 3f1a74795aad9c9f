import type { Command } from 'commander';
import { fail } from '../util/errors.js';
import type { SlidingWindowMode } from '../inference/sliding-window.js';
import {
  checkBackendDevice,
  createPredictorNetwork,
  type PredictBackend,
  type Predictor,
} from '../jobs/network.js';
import { describeRun, predictReport } from '../jobs/predict-report.js';
import type { LoadedModel } from '../model/loaded-model.js';
import { modelDefaults } from '../inference/model-defaults.js';
import { ortVersion } from '../onnx/session-node.js';
import { sha256File } from '../node/download.js';
import { stunetVersion } from '../node/doctor.js';
import { writeAtomic } from '../node/fs.js';
import { resolveModelArg } from '../node/model-cache.js';
import { toJsonValue, type JsonValue } from '../util/json.js';
import { parseDevice } from '../onnx/session.js';
import { availableMemoryBytes } from '../node/memory.js';
import { loadModelFrom } from '../node/model-source.js';
import { nodeStore } from '../node/file-store.js';
import {
  DEFAULT_RING_MEMORY_BYTES,
  largestInput,
  predictPaths,
  type NodePredictOptions,
} from '../node/predict-files.js';
import { checkPredictMemory, describePredictMemory, predictMemory } from '../jobs/predict-memory.js';
import { nodeRuntime } from '../node/runtime.js';
import { consoleProgress } from '../util/progress.js';
import { interruptible } from './interrupt.js';

interface PredictCliOptions {
  input: string;
  output: string;
  model: string;
  plans?: string;
  stepSize?: string;
  tta: boolean;
  fast?: boolean;
  mirrorAxes?: string;
  mode?: string;
  threads?: string;
  backend: string;
  device: string;
  perClass?: boolean;
  statistics?: boolean;
  preview?: boolean;
  reorient?: boolean;
  saveProbabilities?: boolean;
  map?: string;
  ttaMemoryGb?: string;
  maxMemoryGb?: string;
  lowMemory?: boolean;
  continue?: boolean;
  report?: string;
}

function parseStep(text: string): number {
  const v = Number(text);
  if (!(v > 0 && v <= 1)) fail('BAD_INPUT', `--step-size: expected a number in (0, 1], got '${text}'`);
  return v;
}

function parseAxes(text: string): number[] {
  const axes = text.split(',').map((s) => Number(s.trim()));
  if (axes.some((a) => a !== 0 && a !== 1 && a !== 2) || new Set(axes).size !== axes.length)
    fail('BAD_INPUT', `--mirror-axes: expected distinct axes among 0,1,2, got '${text}'`);
  return axes;
}

function parseOptions(
  o: PredictCliOptions,
): NodePredictOptions & { backend: PredictBackend; threads?: number } {
  if (o.backend !== 'ort' && o.backend !== 'wasm' && o.backend !== 'ref')
    fail('BAD_INPUT', `--backend: use 'ort', 'wasm' or 'ref', got '${o.backend}'`);
  const modes = ['v1', 'v2-stunet', 'v2-upstream'];
  if (o.mode !== undefined && !modes.includes(o.mode))
    fail('BAD_INPUT', `--mode: use ${modes.join(', ')}, got '${o.mode}'`);
  let threads: number | undefined;
  if (o.threads !== undefined) {
    threads = Number(o.threads);
    if (!Number.isInteger(threads) || threads < 1)
      fail('BAD_INPUT', `--threads: expected a positive integer, got '${o.threads}'`);
  }
  let ttaGb: number | undefined;
  if (o.ttaMemoryGb !== undefined) {
    ttaGb = Number(o.ttaMemoryGb);
    if (o.ttaMemoryGb.trim() === '' || !(ttaGb >= 0) || !Number.isFinite(ttaGb))
      fail('BAD_INPUT', `--tta-memory-gb: expected a number ≥ 0, got '${o.ttaMemoryGb}'`);
  }
  if (o.fast === true && (o.stepSize !== undefined || o.mirrorAxes !== undefined))
    fail('BAD_INPUT', '--fast sets --step-size 1 and --no-tta: give --fast or those options, not both');
  const tta = o.tta && o.fast !== true;
  if (!tta && o.mirrorAxes !== undefined)
    fail('BAD_INPUT', '--mirror-axes and --no-tta contradict each other: --no-tta mirrors no axis');
  const mirrorAxes = tta ? (o.mirrorAxes === undefined ? undefined : parseAxes(o.mirrorAxes)) : [];
  return {
    backend: o.backend,
    stepSize: o.fast === true ? 1 : parseStep(o.stepSize ?? '0.5'),
    ...(threads === undefined ? {} : { threads }),
    ...(mirrorAxes === undefined ? {} : { mirrorAxes }),
    ...(o.mode === undefined ? {} : { mode: o.mode as SlidingWindowMode }),
    ...(o.reorient === undefined ? {} : { reorient: o.reorient }),
    perClass: o.perClass === true,
    statistics: o.statistics === true,
    preview: o.preview === true,
    saveProbabilities: o.saveProbabilities === true,
    ...(o.map === undefined ? {} : { map: o.map }),
    ...(ttaGb === undefined ? {} : { ttaFeatureBudgetBytes: ttaGb * 2 ** 30 }),
  };
}

/** GiB from --max-memory-gb, else what the machine has available now. */
function memoryBudget(text: string | undefined): number {
  if (text === undefined) return availableMemoryBytes();
  const gb = Number(text);
  if (text.trim() === '' || !(gb > 0) || !Number.isFinite(gb))
    fail('BAD_INPUT', `--max-memory-gb: expected a number > 0, got '${text}'`);
  return gb * 2 ** 30;
}

/** The sha256 of the model's weights file (a checkpoint, or a model folder's weights.safetensors). */
function modelSha256(path: string): string | null {
  const file = nodeStore.isDirectory(path) ? nodeStore.join(path, 'weights.safetensors') : path;
  return nodeStore.exists(file) && !nodeStore.isDirectory(file) ? sha256File(file) : null;
}

/** Predicts every case (a folder goes on past a failed case), prints the summary, writes --report. */
async function runCases(
  o: PredictCliOptions,
  input: string | string[],
  model: LoadedModel,
  predictor: Predictor,
  caseOpts: NodePredictOptions,
): Promise<void> {
  const started = new Date().toISOString();
  const hint = 'stopped; the cases finished so far are written whole, the one in progress left nothing';
  const run = await interruptible(hint, (signal) =>
    predictPaths(input, o.output, model, predictor.network, {
      ...caseOpts,
      skipExisting: o.continue === true,
      // A folder goes on past a failed case; one case fails with its one error line.
      continueOnError: typeof input === 'string' && nodeStore.isDirectory(input),
      signal,
      onProgress: consoleProgress(process.stderr),
      onCaseStart: (file, i, n) => {
        if (n > 1) console.log(`case ${i + 1}/${n}: ${file}`);
      },
      onOutcome: (c) => {
        if (c.status === 'skipped') console.log(`${c.input}: skipped, its outputs are complete (--continue)`);
        if (c.status === 'failed') console.error(`${c.input}: failed: ${c.error ?? ''}`);
      },
      onCase: (r) => {
        console.log(
          `${r.input}: ${r.shape.join('×')}, ${r.reoriented ? 'predicted in RAS (closest canonical) orientation' : 'predicted as stored'}, ` +
            `${r.classesPresent} classes found, ${r.seconds.toFixed(1)} s → ${r.files.join(', ')}`,
        );
      },
    }),
  );
  if (run.cases.length > 1 || run.failed > 0 || run.skipped > 0) console.log(describeRun(run));
  if (o.report !== undefined) {
    const modelPath = resolveModelArg(o.model);
    const report = predictReport(run, {
      versions: { stunet: stunetVersion(), node: process.versions.node, onnxruntime: ortVersion() },
      device: predictor.device,
      model: { path: modelPath, sha256: modelSha256(modelPath) },
      options: toJsonValue({ ...o }) as Record<string, JsonValue>,
      started,
    });
    writeAtomic(o.report, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`report: ${o.report}`);
  }
  if (run.failed > 0)
    fail(
      'RUNTIME',
      `${run.failed} of ${run.cases.length} cases failed (named above${o.report === undefined ? '' : ` and in ${o.report}`})`,
    );
}

/** `stunet predict`: the memory it needs, the model, the predictor, then the cases. */
async function predictAction(o: PredictCliOptions): Promise<void> {
  const opts = parseOptions(o);
  const device = parseDevice(o.device);
  checkBackendDevice(opts.backend, device);
  const plans = o.plans === undefined ? {} : { plans: o.plans };
  const input = o.input.includes(',') && !nodeStore.exists(o.input) ? o.input.split(',') : o.input;
  const { backend, threads, ...caseOpts } = opts;
  // What it will take, from the architecture and the largest input's header, before any weight is read.
  const probe = loadModelFrom(o.model, { ...plans, weights: false });
  const need = predictMemory(nodeStore, probe, {
    file: largestInput(input),
    executor: backend === 'ort' ? 'ort' : 'wasm',
    ringBytes: DEFAULT_RING_MEMORY_BYTES,
    lowMemory: o.lowMemory === true,
  });
  const available = memoryBudget(o.maxMemoryGb);
  console.log(
    describePredictMemory(
      need,
      available,
      o.maxMemoryGb === undefined ? 'available' : 'allowed (--max-memory-gb)',
    ),
  );
  checkPredictMemory(need, available, o.model);
  let model = loadModelFrom(o.model, plans);
  const predictor = await createPredictorNetwork(model, backend, nodeRuntime, {
    device,
    lowMemory: o.lowMemory === true,
    ...(threads === undefined ? {} : { threads }),
  });
  // ONNX Runtime holds its own copy now; the cases need the model's meta only (H: 5.4 GiB let go).
  if (backend === 'ort') model = { ...model, weights: new Map() };
  if (predictor.fallback !== undefined) console.warn(`warning: ${predictor.fallback}; running on the CPU`);
  console.log(`device: ${predictor.device} (${backend === 'ort' ? 'ONNX Runtime' : `${backend} engine`})`);
  const passes = 2 ** (caseOpts.mirrorAxes ?? modelDefaults(model).mirrorAxes).length;
  if (passes > 1 && predictor.device === 'cpu')
    console.log(
      `note: mirror TTA runs ${passes} passes per tile (${passes}× the time); --no-tta skips it, --fast also strides whole tiles`,
    );
  try {
    await runCases(o, input, model, predictor, { ...caseOpts, maxImageBytes: availableMemoryBytes() });
  } finally {
    await predictor.close();
  }
}

export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description('segment NIfTI volumes: preprocess, sliding window, resample back, write labels with names')
    .requiredOption(
      '-i, --input <file|folder|files>',
      "a .nii/.nii.gz (or .hdr) case, a folder of cases (channels as case_0000, case_0001, …), or one case's channel files a,b",
    )
    .requiredOption('-o, --output <file|folder>', 'output .nii.gz (file input) or folder (folder input)')
    .requiredOption(
      '-m, --model <model>',
      'stunet model folder, training folder, official v1 .model or v2 .pth, or an .onnx from export-onnx',
    )
    .option('--plans <plans.json>', 'v2: plans.json to use instead of the one beside the checkpoint')
    .option('--step-size <f>', 'tile stride as a fraction of the patch (default: 0.5)')
    .option('--no-tta', 'no mirror test-time augmentation (8× faster)')
    .option(
      '--fast',
      'no TTA and tiles side by side, not overlapping (--no-tta --step-size 1)',
    )
    .option('--mirror-axes <axes>', "TTA axes, e.g. 0,1,2 (default: the model's)")
    .option(
      '--tta-memory-gb <n>',
      "TTA: hold a tile's mirrored feature maps together up to n GiB (v1's exact summation order) instead of adding each pass at once (default 0)",
    )
    .option('--mode <mode>', 'aggregation: v1, v2-stunet or v2-upstream (default: from the checkpoint)')
    .option(
      '--backend <ort|wasm|ref>',
      'executor: ONNX Runtime, the wasm engine, or the reference engine',
      'ort',
    )
    .option(
      '--device <cpu|cuda[:N]|webgpu>',
      "where ONNX Runtime runs the network (backend 'ort'); falls back to the CPU with a warning when it is not there",
      'cpu',
    )
    .option('--threads <n>', 'compute threads (default: all cores)')
    .option('--per-class', 'also write one mask file per class (<stem>_classes/<name>.nii.gz)')
    .option('--statistics', 'write volume (mL) and mean intensity per class (<stem>_statistics.json)')
    .option('--preview', 'write a PNG with three orthogonal slices and the overlay (<stem>_preview.png)')
    .option(
      '--reorient',
      "predict in the closest canonical (RAS) orientation, write in the input's (default for STU-Net's " +
        'TotalSegmentator 104-class models, as TotalSegmentator does)',
    )
    .option('--no-reorient', 'predict in the stored orientation (default for other models, as nnU-Net does)')
    .option(
      '--save-probabilities',
      'also write <stem>_probabilities.npz: float32 (K, Z, Y, X) on the cropped grid with bbox_used_for_cropping, shape_before_cropping and spacing',
    )
    .option('--map <dataset>', "map the 104-class prediction to a downstream dataset's labels")
    .option(
      '--continue',
      'skip cases whose outputs (all those asked for) exist: resume an interrupted folder',
    )
    .option(
      '--report <file.json>',
      'write versions, device, model sha256, options and each case: status, seconds, files, error',
    )
    .option(
      '--low-memory',
      'ONNX Runtime without its memory arena: less memory (one 128³ tile of L: 4.3 instead of 6.0 GB), may be slower',
    )
    .option(
      '--max-memory-gb <n>',
      'refuse to start when the memory predict will need (printed first) exceeds n GiB (default: the available memory)',
    )
    .action(predictAction);
}
