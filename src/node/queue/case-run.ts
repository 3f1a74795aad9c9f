/**
 * One case of the queue, computed by the code `stunet predict` runs (node/predict-files.ts predictPaths →
 * jobs/predict-run.ts): the same outputs, written all or none, and a case whose complete outputs exist is
 * skipped. The process keeps the last model loaded, so a worker's cases of one cohort load it once.
 *
 * Errors are sorted for BullMQ: what the input or the job itself gets wrong (StunetError BAD_INPUT,
 * NOT_FOUND, SHAPE_MISMATCH, UNSUPPORTED, UNSAFE_PICKLE) fails the case at once, as trying again gives the
 * same answer; anything else (RUNTIME, a crash, a model this worker cannot load) is tried again later.
 */
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { parsePostprocessingJson } from '../../evaluation/postprocessing-json.js';
import { outputFileNames } from '../../jobs/case-outputs.js';
import { ensemblePredictor } from '../../jobs/ensemble-models.js';
import { checkBackendDevice, createPredictorNetwork, type Predictor } from '../../jobs/network.js';
import type { LoadedModel } from '../../model/loaded-model.js';
import { parseDevice, type OnnxDevice } from '../../onnx/session.js';
import { StunetError, type StunetErrorCode } from '../../util/errors.js';
import { availableMemoryBytes } from '../memory.js';
import { loadModelFrom } from '../model-source.js';
import { predictPaths } from '../predict-files.js';
import { nodeRuntime } from '../runtime.js';
import { canonicalJson } from './cohort-cases.js';
import type { CaseJobData, CaseModel, CaseResult } from './jobs.js';

/** What the worker machine decides (not the job): threads, device, memory arena. */
export interface WorkerHost {
  readonly threads?: number;
  readonly device?: string;
  readonly lowMemory?: boolean;
  /** Shown in results: host:pid of the `queue work` process. */
  readonly worker?: string;
}

const ENV = 'STUNET_QUEUE_HOST';

/** The host settings for the case processes, through their environment. */
export const workerHostEnv = (host: WorkerHost): Record<string, string> => ({ [ENV]: JSON.stringify(host) });

export function workerHostFromEnv(env: NodeJS.ProcessEnv = process.env): WorkerHost {
  const text = env[ENV];
  return text === undefined ? {} : (JSON.parse(text) as WorkerHost);
}

const PERMANENT: ReadonlySet<StunetErrorCode> = new Set([
  'BAD_INPUT',
  'NOT_FOUND',
  'SHAPE_MISMATCH',
  'UNSUPPORTED',
  'UNSAFE_PICKLE',
]);

/** Whether trying the case again cannot help (bad input); cancellation is not. */
export function isPermanent(e: unknown): boolean {
  return e instanceof StunetError && e.name !== 'AbortError' && PERMANENT.has(e.code);
}

/** A failure to load the model is this worker's (a path not mounted, memory): try again, maybe elsewhere. */
class ModelLoadError extends Error {
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.name = 'ModelLoadError';
  }
}

let loaded: { key: string; model: LoadedModel; predictor: Predictor } | null = null;

/** The members loaded one at a time into one predictor, as `stunet predict -m` does (ORT keeps the weights). */
async function loadPredictor(
  m: CaseModel,
  host: WorkerHost,
): Promise<{ model: LoadedModel; predictor: Predictor }> {
  const device: OnnxDevice | undefined = host.device === undefined ? undefined : parseDevice(host.device);
  checkBackendDevice(m.backend, device);
  const predictors: Predictor[] = [];
  let meta: LoadedModel | null = null;
  try {
    for (const path of m.members) {
      const model = loadModelFrom(path, m.plans === undefined ? {} : { plans: m.plans });
      predictors.push(
        await createPredictorNetwork(model, m.backend, nodeRuntime, {
          ...(device === undefined ? {} : { device }),
          ...(host.threads === undefined ? {} : { threads: host.threads }),
          lowMemory: host.lowMemory === true,
        }),
      );
      meta ??= m.backend === 'ort' ? { ...model, weights: new Map() } : model;
    }
  } catch (e) {
    for (const p of predictors) await p.close();
    throw e;
  }
  if (meta === null) throw new StunetError('BAD_INPUT', 'queue: a case job names no model');
  return { model: meta, predictor: ensemblePredictor(predictors) };
}

async function predictorFor(
  m: CaseModel,
  host: WorkerHost,
): Promise<{ model: LoadedModel; predictor: Predictor }> {
  const key = canonicalJson({ m, host });
  if (loaded?.key === key) return loaded;
  await closeCaseModel();
  try {
    loaded = { key, ...(await loadPredictor(m, host)) };
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new ModelLoadError(
      `worker ${host.worker ?? hostname()}: cannot load ${m.members.join(', ')}: ${why}`,
      e,
    );
  }
  return loaded;
}

/** Lets go of the model held between cases. */
export async function closeCaseModel(): Promise<void> {
  const held = loaded;
  loaded = null;
  await held?.predictor.close();
}

/** Predicts one case job; throws what predict throws (see isPermanent). */
export async function runCase(
  data: CaseJobData,
  host: WorkerHost,
  signal?: AbortSignal,
): Promise<CaseResult> {
  const { model, predictor } = await predictorFor(data.model, host);
  const output = data.sink.path;
  const run = await predictPaths(data.source.paths, output, model, predictor.network, {
    ...data.options,
    ...(data.postprocessJson === undefined
      ? {}
      : { postprocess: parsePostprocessingJson(data.postprocessJson) }),
    skipExisting: data.skipExisting,
    maxImageBytes: availableMemoryBytes(),
    ...(signal === undefined ? {} : { signal }),
  });
  const outcome = run.cases[0];
  if (outcome === undefined) throw new StunetError('BAD_INPUT', `queue: case '${data.name}' has no input`);
  const stats = join(dirname(output), outputFileNames(basename(output)).statistics);
  return {
    case: data.name,
    status: outcome.status === 'skipped' ? 'skipped' : 'done',
    output,
    files: outcome.files,
    seconds: outcome.seconds,
    statistics: data.options.statistics === true ? stats : null,
    classesPresent: outcome.report?.classesPresent ?? null,
    worker: host.worker ?? `${hostname()}:${process.ppid}`,
  };
}
