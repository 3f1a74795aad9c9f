/**
 * What the queue stores in Redis (BullMQ job data and return values): a cohort is a parent job in
 * COHORT_QUEUE, each case a child job in CASE_QUEUE. Everything here is plain JSON, written by `queue
 * submit` and read back by the workers and `queue status`, possibly of another stunet version — so it
 * carries a format version and is checked when read.
 */
import type { PredictBackend } from '../../jobs/network.js';
import type { NodePredictOptions } from '../predict-files.js';
import { fail } from '../../util/errors.js';

/** The queues (BullMQ prefixes them with `bull:` in Redis). */
export const CASE_QUEUE = 'stunet-cases';
export const COHORT_QUEUE = 'stunet-cohorts';

/** The job data's format; a worker refuses (permanently) a case of another format. */
export const JOB_FORMAT = 1;

/**
 * Where a case's images come from: files at paths every worker sees (a shared folder). A DICOMweb series
 * (`{ kind: 'dicomweb', url, study, series }`) is the next kind; the processor dispatches on `kind`.
 */
export interface FilesSource {
  readonly kind: 'files';
  /** One file per input channel, in channel order (absolute paths). */
  readonly paths: readonly string[];
}
export type CaseSource = FilesSource;

/** Where a case's outputs go: a label map path (its .json, statistics… beside it). DICOMweb STOW: next. */
export interface FileSink {
  readonly kind: 'file';
  readonly path: string;
}
export type CaseSink = FileSink;

/** The options of `stunet predict` a case carries: plain data (post-processing as its JSON text). */
export type CaseOptions = Omit<
  NodePredictOptions,
  | 'postprocess'
  | 'ringStore'
  | 'ringMemoryBytes'
  | 'signal'
  | 'onProgress'
  | 'onProbabilities'
  | 'dicomSource'
  | 'maxImageBytes'
>;

export interface CaseModel {
  /** The checkpoints (several: a fold ensemble), absolute paths every worker sees. */
  readonly members: readonly string[];
  readonly plans?: string;
  readonly backend: PredictBackend;
}

export interface CaseJobData {
  readonly format: typeof JOB_FORMAT;
  /** The id of the cohort submission that added the case. */
  readonly cohort: string;
  readonly name: string;
  readonly source: CaseSource;
  readonly sink: CaseSink;
  readonly model: CaseModel;
  readonly options: CaseOptions;
  /** A postprocessing.json's text (`--postprocess`), parsed by the worker. */
  readonly postprocessJson?: string;
  /** Do not recompute a case whose complete outputs exist (predict's `--continue`). */
  readonly skipExisting: boolean;
}

/** A case job's return value. */
export interface CaseResult {
  readonly case: string;
  /** 'skipped': its complete outputs existed. */
  readonly status: 'done' | 'skipped';
  readonly output: string;
  readonly files: readonly string[];
  readonly seconds: number;
  /** `<stem>_statistics.json` when --statistics was asked for. */
  readonly statistics: string | null;
  readonly classesPresent: number | null;
  /** host:pid of the worker process that computed it. */
  readonly worker: string;
}

export interface CohortJobData {
  readonly format: typeof JOB_FORMAT;
  readonly name: string;
  readonly submitted: string;
  readonly out: string;
  readonly model: string;
  /** Every case of the cohort, in input order: its new children and the cases it found already queued. */
  readonly caseIds: readonly string[];
  /** Set by `queue cancel`. */
  readonly cancelled?: string;
}

/** A cohort job's return value: when its last child ended. */
export interface CohortSummary {
  readonly done: number;
  readonly failed: number;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');

/** Checks the shape of a case job read from Redis (BAD_INPUT, a permanent failure, when it is not one). */
export function parseCaseJob(data: unknown): CaseJobData {
  const bad = (what: string): never =>
    fail(
      'BAD_INPUT',
      `queue: a case job with ${what}: submitted by another stunet version? (format ${JOB_FORMAT})`,
    );
  if (!isObject(data)) return bad('no data');
  if (data['format'] !== JOB_FORMAT) return bad(`format ${JSON.stringify(data['format'])}`);
  const { source, sink, model, options } = data;
  if (!isObject(source) || source['kind'] !== 'files' || !strings(source['paths']))
    return bad('an unknown source');
  if (!isObject(sink) || sink['kind'] !== 'file' || typeof sink['path'] !== 'string')
    return bad('an unknown sink');
  if (!isObject(model) || !strings(model['members']) || typeof model['backend'] !== 'string')
    return bad('no model');
  if (!isObject(options) || typeof data['name'] !== 'string' || typeof data['skipExisting'] !== 'boolean')
    return bad('missing fields');
  return data as unknown as CaseJobData;
}

/** Checks a cohort job's data. */
export function parseCohortJob(data: unknown): CohortJobData {
  if (!isObject(data) || data['format'] !== JOB_FORMAT || !strings(data['caseIds']))
    fail('BAD_INPUT', `queue: a cohort job of another format (this stunet reads format ${JOB_FORMAT})`);
  return data as unknown as CohortJobData;
}
