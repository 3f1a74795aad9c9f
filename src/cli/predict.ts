import type { Command } from 'commander';
import { fail } from '../util/errors.js';
import { checkBackendDevice, type Predictor } from '../jobs/network.js';
import { describeDicomInput, describeRoi, describeRun, predictReport } from '../jobs/predict-report.js';
import { isDicomInput } from '../jobs/dicom-input.js';
import { relabelledNames } from '../jobs/case-outputs.js';
import { checkWritable } from '../jobs/predict-files.js';
import { outputLabelNames } from '../jobs/predict-case.js';
import type { LoadedModel } from '../model/loaded-model.js';
import { modelDefaults } from '../inference/model-defaults.js';
import { ortVersion } from '../onnx/session-node.js';
import { sha256File } from '../node/download.js';
import { stunetVersion } from '../node/doctor.js';
import { writeAtomic } from '../node/fs.js';
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
import { consoleProgress } from '../util/progress.js';
import { interruptible } from './interrupt.js';
import { addDicomWebOptions, dicomWebInput, storeOutputs } from './predict-dicomweb.js';
import type { PredictRun } from '../jobs/predict-run.js';
import { redact } from '../io/dicom/web/url.js';
import { loadPredictors, parseFolds, probeMembers } from './predict-models.js';
import { addPredictOptions, parseOptions, type PredictCliOptions } from './predict-options.js';

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
  const dir = nodeStore.basename(path) === 'model.json' ? nodeStore.dirname(path) : path;
  const file = nodeStore.isDirectory(dir) ? nodeStore.join(dir, 'weights.safetensors') : dir;
  return nodeStore.exists(file) && !nodeStore.isDirectory(file) ? sha256File(file) : null;
}

/** Predicts every case (a folder goes on past a failed case), prints the summary, writes --report. */
async function runCases(
  o: PredictCliOptions,
  input: string | string[],
  model: LoadedModel,
  predictor: Predictor,
  caseOpts: NodePredictOptions,
  members: readonly string[],
): Promise<PredictRun> {
  const started = new Date().toISOString();
  const hint = 'stopped; the cases finished so far are written whole, the one in progress left nothing';
  const output = o.output ?? fail('BAD_INPUT', 'predict: no -o');
  const run = await interruptible(hint, (signal) =>
    predictPaths(input, output, model, predictor.network, {
      ...caseOpts,
      skipExisting: o.continue === true,
      // A folder goes on past a failed case; one case fails with its one error line.
      continueOnError:
        typeof input === 'string' && nodeStore.isDirectory(input) && !isDicomInput(nodeStore, input),
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
        if (r.roi !== undefined) console.log(`  ${describeRoi(r.roi)}`);
        if (r.dicom !== undefined) console.log(`  ${describeDicomInput(r.dicom)}`);
      },
    }),
  );
  if (run.cases.length > 1 || run.failed > 0 || run.skipped > 0) console.log(describeRun(run));
  if (o.report !== undefined) {
    const modelPath = members.length === 1 ? (members[0] ?? o.model) : o.model;
    const report = predictReport(run, {
      versions: { stunet: stunetVersion(), node: process.versions.node, onnxruntime: ortVersion() },
      device: predictor.device,
      model: { path: modelPath, sha256: members.length === 1 ? modelSha256(modelPath) : null },
      ...(members.length > 1 ? { members: members.map((p) => ({ path: p, sha256: modelSha256(p) })) } : {}),
      // an address's user:password@ stays out of the report
      options: toJsonValue({
        ...o,
        ...(o.dicomweb === undefined ? {} : { dicomweb: redact(o.dicomweb) }),
      }) as Record<string, JsonValue>,
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
  return run;
}

/** `stunet predict`: the options, the input (a DICOMweb series fetched first), then the cases. */
async function predictAction(o: PredictCliOptions): Promise<void> {
  if (o.listClasses === true) {
    listClasses(o);
    return;
  }
  if (o.input === undefined && o.dicomweb === undefined)
    fail('BAD_INPUT', "predict: required option '-i, --input <file|folder|files>' (or --dicomweb) not given");
  if (o.output === undefined)
    fail('BAD_INPUT', "predict: required option '-o, --output <file|folder>' not given");
  const opts = parseOptions(o);
  if (o.report !== undefined) checkWritable(nodeStore, nodeStore.dirname(o.report), "--report's folder");
  const device = parseDevice(o.device);
  checkBackendDevice(opts.backend, device);
  const plans = o.plans === undefined ? {} : { plans: o.plans };
  // The models are found and probed (architectures, no weights) before a series is fetched.
  const members = probeMembers(o.model, parseFolds(o.folds), plans);
  const web = await interruptible('stopped while retrieving the series; nothing was written', (signal) =>
    dicomWebInput(o, opts.outputTypes, signal),
  );
  try {
    const given = o.input ?? '';
    const input = web?.folder ?? (given.includes(',') && !nodeStore.exists(given) ? given.split(',') : given);
    const run = await predictWith(o, input, opts, device, members);
    if (web !== null && o.store === true)
      await interruptible('stopped while storing', (signal) => storeOutputs(web, run, signal));
  } finally {
    web?.cleanup();
  }
}

/** The memory it needs (refused when it will not fit), the model, the predictor, then the cases. */
async function predictWith(
  o: PredictCliOptions,
  input: string | string[],
  opts: ReturnType<typeof parseOptions>,
  device: ReturnType<typeof parseDevice>,
  { paths, probes }: ReturnType<typeof probeMembers>,
): Promise<PredictRun> {
  const plans = o.plans === undefined ? {} : { plans: o.plans };
  const { backend, threads, ...caseOpts } = opts;
  // What it will take, from the architectures and the largest input's header, before any weight is read.
  const need = predictMemory(nodeStore, probes[0] ?? fail('BAD_INPUT', '-m names no model'), {
    file: largestInput(input),
    executor: backend === 'ort' ? 'ort' : 'wasm',
    ringBytes: DEFAULT_RING_MEMORY_BYTES,
    lowMemory: o.lowMemory === true,
    members: paths.length,
    ...(caseOpts.dicom === undefined ? {} : { dicom: caseOpts.dicom }),
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
  if (paths.length > 1)
    console.log(
      `ensemble of ${paths.length}: ${paths.join(', ')} (their probabilities are averaged, as nnU-Net does)`,
    );
  const { model, predictor } = await loadPredictors(paths, plans, backend, {
    device,
    lowMemory: o.lowMemory === true,
    ...(threads === undefined ? {} : { threads }),
  });
  if (predictor.fallback !== undefined) console.warn(`warning: ${predictor.fallback}; running on the CPU`);
  console.log(`device: ${predictor.device} (${backend === 'ort' ? 'ONNX Runtime' : `${backend} engine`})`);
  const passes = 2 ** (caseOpts.mirrorAxes ?? modelDefaults(model).mirrorAxes).length;
  if (passes > 1 && predictor.device === 'cpu')
    console.log(
      `note: mirror TTA runs ${passes} passes per tile (${passes}× the time); --no-tta skips it, --fast also strides whole tiles`,
    );
  try {
    return await runCases(
      o,
      input,
      model,
      predictor,
      { ...caseOpts, maxImageBytes: availableMemoryBytes() },
      paths,
    );
  } finally {
    await predictor.close();
  }
}

/** `--list-classes`: the model's classes (value, name), as --names would write them; no weight is read. */
function listClasses(o: PredictCliOptions): void {
  const model = loadModelFrom(o.model, {
    ...(o.plans === undefined ? {} : { plans: o.plans }),
    weights: false,
  });
  const modelNames = outputLabelNames(model, undefined);
  const opts = parseOptions(o);
  const names = relabelledNames(modelNames, opts);
  const scheme =
    opts.names === undefined ? (o.map === undefined ? 'the model' : o.map) : `--names ${o.names ?? ''}`;
  console.log(`${names.length - 1} classes (${scheme}):`);
  names.forEach((n, i) => {
    if (i > 0) console.log(`${String(i).padStart(4)}  ${n}`);
  });
}

export function registerPredict(program: Command): void {
  addDicomWebOptions(
    addPredictOptions(
      program
        .command('predict')
        .description(
          'segment NIfTI volumes or a DICOM series: preprocess, sliding window, resample back, write labels with names (NIfTI, DICOM-SEG, RTSTRUCT)',
        ),
    ),
  ).action(predictAction);
}
