/**
 * `stunet queue submit`: one BullMQ flow per cohort — a parent job in COHORT_QUEUE, one child per case in
 * CASE_QUEUE. A case whose job id (src/node/queue/cohort-cases.ts) is already in the queue is not added
 * again: a finished one counts as done (and is recomputed only when its output files are gone), a failed
 * one stays failed (`queue retry` runs it again), a queued or running one is shared with its first
 * cohort. A resubmitted cohort therefore does no work for the cases it already has.
 */
import { FlowProducer, Job, Queue, type JobsOptions } from 'bullmq';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { fail } from '../../util/errors.js';
import { caseJobId, modelSha256, sourceSha256, type CohortCase } from './cohort-cases.js';
import {
  CASE_QUEUE,
  COHORT_QUEUE,
  JOB_FORMAT,
  type CaseJobData,
  type CaseModel,
  type CaseOptions,
  type CaseResult,
  type CohortJobData,
} from './jobs.js';
import type { RedisTarget } from './redis.js';

export interface CohortSubmission {
  readonly name: string;
  /** The output folder (absolute). */
  readonly out: string;
  /** -m as given, for status. */
  readonly modelArg: string;
  readonly model: CaseModel;
  readonly cases: readonly CohortCase[];
  readonly options: CaseOptions;
  readonly postprocessJson?: string;
  readonly skipExisting: boolean;
  /** BullMQ priority: 1 runs first (default DEFAULT_PRIORITY). */
  readonly priority?: number;
  /** Tries per case (transient errors), with exponential backoff from backoffMs. */
  readonly attempts: number;
  readonly backoffMs: number;
  /** Called as each case's inputs are hashed (they are read whole). */
  readonly onHashed?: (index: number, total: number) => void;
}

export interface SubmitResult {
  readonly cohortId: string;
  readonly cases: number;
  /** New case jobs. */
  readonly added: number;
  /** Cases already in the queue, by their state there (completed, failed, active, waiting…). */
  readonly existing: Readonly<Record<string, number>>;
  /** Completed cases whose output files were gone: queued again. */
  readonly rerun: number;
}

/** BullMQ's largest priority. */
export const MAX_PRIORITY = 2 ** 21;
/**
 * Every case gets a priority: BullMQ takes jobs without one before any prioritized job, so a default of
 * none would make `--priority` a way to run later only. 1000 leaves room on both sides.
 */
export const DEFAULT_PRIORITY = 1000;

/** `cohort-<name>-<time>-<random>`: unique per submission (ids may not hold ':'). */
function cohortId(name: string): string {
  const slug = name.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 80);
  return `cohort-${slug}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** The case jobs' options: retries with backoff, kept once finished, a failure does not block the cohort. */
function caseJobOptions(s: CohortSubmission, jobId: string): JobsOptions {
  return {
    jobId,
    attempts: s.attempts,
    backoff: { type: 'exponential', delay: s.backoffMs },
    priority: s.priority ?? DEFAULT_PRIORITY,
    ignoreDependencyOnFailure: true,
    removeOnComplete: false,
    removeOnFail: false,
  };
}

/** Whether a finished case's outputs are still all on disk. */
function outputsExist(result: unknown): boolean {
  const files = (result as Partial<CaseResult> | null)?.files;
  return Array.isArray(files) && files.every((f) => typeof f === 'string' && existsSync(f));
}

export async function submitCohort(target: RedisTarget, s: CohortSubmission): Promise<SubmitResult> {
  if (
    s.priority !== undefined &&
    !(Number.isInteger(s.priority) && s.priority >= 1 && s.priority <= MAX_PRIORITY)
  )
    fail('BAD_INPUT', `--priority: expected a whole number 1 (highest) … ${MAX_PRIORITY}, got ${s.priority}`);
  const id = cohortId(s.name);
  const model = modelSha256(s.model.members, s.model.plans);
  const optionsKey = {
    backend: s.model.backend,
    options: s.options,
    postprocess: s.postprocessJson ?? null,
  };
  const ids = s.cases.map((c, i) => {
    const jobId = caseJobId({ inputs: sourceSha256(c.source), model, options: optionsKey, output: c.output });
    s.onHashed?.(i, s.cases.length);
    return jobId;
  });
  const queue = new Queue(CASE_QUEUE, { connection: target.options });
  const flow = new FlowProducer({ connection: target.options });
  try {
    const existing: Record<string, number> = {};
    let rerun = 0;
    const fresh: { c: CohortCase; jobId: string }[] = [];
    const known = await Promise.all(ids.map((jobId) => Job.fromId(queue, jobId)));
    for (const [i, c] of s.cases.entries()) {
      const jobId = ids[i] ?? '';
      const job = known[i];
      if (job === undefined) {
        fresh.push({ c, jobId });
        continue;
      }
      const state = await job.getState();
      if (state === 'completed' && !outputsExist(job.returnvalue)) {
        await job.retry('completed');
        rerun++;
      } else existing[state] = (existing[state] ?? 0) + 1;
    }
    const cohort: CohortJobData = {
      format: JOB_FORMAT,
      name: s.name,
      submitted: new Date().toISOString(),
      out: s.out,
      model: s.modelArg,
      caseIds: ids,
    };
    await flow.add({
      name: s.name,
      queueName: COHORT_QUEUE,
      data: cohort,
      opts: { jobId: id, removeOnComplete: false, removeOnFail: false },
      children: fresh.map(({ c, jobId }) => {
        const data: CaseJobData = {
          format: JOB_FORMAT,
          cohort: id,
          name: c.name,
          source: c.source,
          sink: { kind: 'file', path: c.output },
          model: s.model,
          options: s.options,
          ...(s.postprocessJson === undefined ? {} : { postprocessJson: s.postprocessJson }),
          skipExisting: s.skipExisting,
        };
        return { name: c.name, queueName: CASE_QUEUE, data, opts: caseJobOptions(s, jobId) };
      }),
    });
    return { cohortId: id, cases: ids.length, added: fresh.length, existing, rerun };
  } finally {
    await flow.close();
    await queue.close();
  }
}
