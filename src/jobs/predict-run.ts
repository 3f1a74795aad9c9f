/**
 * `stunet predict` over many cases (issue 16, item 3: folders that survive): every case that can be checked
 * is checked before the first is computed; then `skipExisting` (`--continue`) skips cases whose complete
 * outputs exist, and `continueOnError` records a failed case and goes on. The outcome of every case feeds
 * the summary line and the `--report` JSON (src/jobs/predict-report.ts). Cancellation (the signal) still
 * stops the whole run.
 */
import type { NetworkFn } from '../inference/tta.js';
import type { LoadedModel } from '../model/loaded-model.js';
import { fail } from '../util/errors.js';
import { outputFileNames, relabelledNames } from './case-outputs.js';
import { checkCaseOptions, niftiStem, outputLabelNames } from './predict-case.js';
import { dicomCaseName, isDicomInput } from './dicom-input.js';
import {
  CHANNEL_SUFFIX,
  checkWritable,
  groupCaseFiles,
  listNiftiFiles,
  predictCaseFile,
  type CaseFiles,
  type PredictFileOptions,
  type PredictFileReport,
  type PredictHost,
} from './predict-files.js';
import type { FileStore } from './store.js';

export type CaseStatus = 'done' | 'skipped' | 'failed';

export interface CaseOutcome {
  /** The case's input files, comma-joined. */
  readonly input: string;
  readonly output: string;
  readonly status: CaseStatus;
  readonly seconds: number;
  /** Files written (done) or found complete (skipped). */
  readonly files: readonly string[];
  /** Why a failed case failed (one line). */
  readonly error?: string;
  readonly report?: PredictFileReport;
}

export interface PredictRunOptions extends PredictFileOptions {
  /** Skip cases whose complete outputs exist (`--continue`). */
  readonly skipExisting?: boolean;
  /** Record a failed case and go on (default: stop at the first error, as a library call expects). */
  readonly continueOnError?: boolean;
  readonly onCaseStart?: (input: string, index: number, total: number) => void;
  readonly onCase?: (report: PredictFileReport, index: number, total: number) => void;
  /** Called for every case as it ends: done, skipped or failed. */
  readonly onOutcome?: (outcome: CaseOutcome, index: number, total: number) => void;
}

export interface PredictRun {
  readonly cases: readonly CaseOutcome[];
  readonly done: number;
  readonly skipped: number;
  readonly failed: number;
  readonly seconds: number;
}

/** The files a case's run writes with these options (the label map, its names, and what was asked). */
export function expectedOutputs(
  store: FileStore,
  output: string,
  opts: PredictFileOptions,
): { files: string[]; classesDir: string | null } {
  const dir = store.dirname(output);
  const n = outputFileNames(store.basename(output));
  const types = opts.outputTypes ?? ['nifti'];
  const files = [...(types.includes('nifti') ? [output] : []), store.join(dir, n.names)];
  if (types.includes('dicom-seg')) files.push(store.join(dir, n.seg));
  if (types.includes('rtstruct')) files.push(store.join(dir, n.rtstruct));
  if (opts.statistics === true) files.push(store.join(dir, n.statistics));
  if (opts.preview === true) files.push(store.join(dir, n.preview));
  if (opts.saveProbabilities === true) files.push(store.join(dir, n.probabilities));
  return { files, classesDir: opts.perClass === true ? store.join(dir, n.classesDir) : null };
}

/** Whether every output of the case exists (a run writes a case's files all or none, then the .npz). */
function complete(store: FileStore, output: string, model: LoadedModel, opts: PredictFileOptions): boolean {
  const { files, classesDir } = expectedOutputs(store, output, opts);
  if (!files.every((f) => store.exists(f))) return false;
  if (classesDir === null) return true;
  // One mask per named class at least (labels present beyond the names add their own).
  const named = relabelledNames(outputLabelNames(model, undefined), opts).length - 1;
  return store.isDirectory(classesDir) && store.list(classesDir).length >= named;
}

/**
 * The cases of an input (a file, a folder, one case's channel files, or a DICOM series: a folder without
 * NIfTI files, a zip or a DICOM file), checked against the model and the output types.
 */
function casesOf(
  store: FileStore,
  input: string | readonly string[],
  model: LoadedModel,
  opts: PredictRunOptions,
): CaseFiles[] {
  const list = typeof input === 'string' ? [input] : input;
  const only = list.length === 1 ? (list[0] ?? '') : null;
  const dicom = only !== null && isDicomInput(store, only);
  const dicomTypes = (opts.outputTypes ?? []).filter((t) => t !== 'nifti');
  if (dicomTypes.length > 0 && !dicom)
    fail(
      'BAD_INPUT',
      `--output-type ${dicomTypes.join(',')} needs a DICOM input (a folder of a series, a zip or a DICOM file) whose instances the output references; '${list.join(',')}' is NIfTI`,
    );
  if (dicom) {
    if (model.arch.inputChannels !== 1)
      fail(
        'BAD_INPUT',
        `predict: a DICOM series is one channel, and this model takes ${model.arch.inputChannels}; give NIfTI files, one per channel`,
      );
    return [{ name: dicomCaseName(store, only), files: [only] }];
  }
  const folder = only !== null && store.isDirectory(only);
  const cases = folder
    ? groupCaseFiles(store, listNiftiFiles(store, list[0] ?? ''))
    : [{ name: niftiStem(list[0] ?? '').replace(CHANNEL_SUFFIX, '$1'), files: list }];
  for (const c of cases) {
    for (const f of c.files)
      if (!store.exists(f)) fail('NOT_FOUND', `predict: input image '${f}' does not exist`);
    if (c.files.length !== model.arch.inputChannels)
      fail(
        'BAD_INPUT',
        `predict: the model takes ${model.arch.inputChannels} input channel(s), case '${c.name}' has ` +
          `${c.files.length} (${c.files.join(', ')}); give one file per channel: a folder of ` +
          `<case>_0000…, or -i a.nii.gz,b.nii.gz`,
      );
  }
  return cases;
}

const isAbort = (e: unknown): boolean => e instanceof Error && e.name === 'AbortError';

/**
 * `input`: a file, a folder of cases, or several files (the channels of one case, in order); `output` a
 * .nii(.gz) path for one case, else a folder. Checks the cases, their channel counts, `--map` and the
 * output folder before the first case is computed.
 */
export async function predictRun(
  host: PredictHost,
  input: string | readonly string[],
  output: string,
  model: LoadedModel,
  network: NetworkFn,
  opts: PredictRunOptions = {},
): Promise<PredictRun> {
  const t0 = performance.now();
  const { store } = host;
  const list = typeof input === 'string' ? [input] : input;
  const cases = casesOf(store, input, model, opts);
  const folder = list.length === 1 && store.isDirectory(list[0] ?? '') && !isDicomInput(store, list[0] ?? '');
  checkCaseOptions(model, opts);
  const toFolder = folder || store.isDirectory(output) || !/\.nii(\.gz)?$/i.test(output);
  checkWritable(store, toFolder ? output : store.dirname(output));
  const outcomes: CaseOutcome[] = [];
  for (const [i, c] of cases.entries()) {
    const out = toFolder ? store.join(output, `${c.name}.nii.gz`) : output;
    const caseInput = c.files.join(',');
    const started = performance.now();
    let outcome: CaseOutcome;
    if (opts.skipExisting === true && complete(store, out, model, opts)) {
      const files = expectedOutputs(store, out, opts).files;
      outcome = { input: caseInput, output: out, status: 'skipped', seconds: 0, files };
    } else {
      opts.onCaseStart?.(caseInput, i, cases.length);
      try {
        const report = await predictCaseFile(host, c.files, out, model, network, opts);
        opts.onCase?.(report, i, cases.length);
        outcome = {
          input: caseInput,
          output: out,
          status: 'done',
          seconds: report.seconds,
          files: report.files,
          report,
        };
      } catch (e) {
        if (opts.continueOnError !== true || isAbort(e)) throw e;
        const error = e instanceof Error ? e.message : String(e);
        const seconds = (performance.now() - started) / 1000;
        outcome = { input: caseInput, output: out, status: 'failed', seconds, files: [], error };
      }
    }
    outcomes.push(outcome);
    opts.onOutcome?.(outcome, i, cases.length);
  }
  const count = (s: CaseStatus): number => outcomes.filter((o) => o.status === s).length;
  return {
    cases: outcomes,
    done: count('done'),
    skipped: count('skipped'),
    failed: count('failed'),
    seconds: (performance.now() - t0) / 1000,
  };
}

/** predictRun that stops at the first failure and returns the cases' reports, in input order. */
export async function predictFiles(
  host: PredictHost,
  input: string | readonly string[],
  output: string,
  model: LoadedModel,
  network: NetworkFn,
  opts: Omit<PredictRunOptions, 'continueOnError'> = {},
): Promise<PredictFileReport[]> {
  const run = await predictRun(host, input, output, model, network, opts);
  return run.cases.flatMap((c) => (c.report === undefined ? [] : [c.report]));
}
