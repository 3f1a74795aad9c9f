/**
 * `stunet queue work`: a BullMQ worker for case jobs, each case in a sandboxed child process
 * (case-processor.ts; one per concurrent case, reused), and one for cohort jobs, which only sums up a
 * cohort when its last case has ended. Any number of these run on any number of machines.
 *
 * Stall detection: a worker holds a lock on each running case and renews it from its event loop (free,
 * as inference runs in the child). A worker that dies (kill -9, power) stops renewing; after
 * `lockDurationMs` any worker's stalled check (every `stalledIntervalMs`) puts the case back in the queue.
 */
import { Worker, type Job } from 'bullmq';
import { hostname } from 'node:os';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { workerHostEnv, type WorkerHost } from './case-run.js';
import {
  CASE_QUEUE,
  COHORT_QUEUE,
  parseCohortJob,
  type CaseJobData,
  type CaseResult,
  type CohortSummary,
} from './jobs.js';
import { checkRedis, type RedisTarget } from './redis.js';

export interface QueueWorkerOptions {
  /** Cases at once in this process (each in its own child process). */
  readonly concurrency: number;
  /** Threads, device, memory arena of every case here (WorkerHost; `worker` is set here). */
  readonly host: Omit<WorkerHost, 'worker'>;
  /** BullMQ's lock on a running case (default 30 s): a dead worker's case is free again after this. */
  readonly lockDurationMs?: number;
  /** How often this worker looks for stalled cases (default 30 s). */
  readonly stalledIntervalMs?: number;
  /** Stalls a case may survive before it fails (default 2). */
  readonly maxStalledCount?: number;
  readonly onEvent?: (event: WorkerEvent) => void;
}

export type WorkerEvent =
  | { readonly kind: 'active'; readonly case: string; readonly jobId: string; readonly attempt: number }
  | { readonly kind: 'completed'; readonly jobId: string; readonly result: CaseResult }
  | {
      readonly kind: 'failed';
      readonly case: string;
      readonly jobId: string;
      readonly error: string;
      readonly attempt: number;
      readonly attempts: number;
      /** Failed for good (bad input, or out of attempts); otherwise tried again after a backoff. */
      readonly final: boolean;
    }
  | { readonly kind: 'stalled'; readonly jobId: string }
  | { readonly kind: 'cohort'; readonly name: string; readonly summary: CohortSummary }
  | { readonly kind: 'error'; readonly message: string };

export interface QueueWorker {
  /** host:pid, as recorded in each case's result. */
  readonly name: string;
  /** Stops taking cases and waits for the running ones. */
  close(): Promise<void>;
}

/** The processor next to this module: .ts under tsx, .js in dist/. */
function processorFile(): string {
  const here = fileURLToPath(import.meta.url);
  return join(dirname(here), `case-processor${extname(here)}`);
}

/** A cohort job runs when its last case ended: how many were done and failed. */
async function summarizeCohort(job: Job): Promise<CohortSummary> {
  parseCohortJob(job.data);
  const done = Object.keys(await job.getChildrenValues()).length;
  const failed = Object.keys(await job.getIgnoredChildrenFailures()).length;
  return { done, failed };
}

export async function startQueueWorker(target: RedisTarget, o: QueueWorkerOptions): Promise<QueueWorker> {
  await checkRedis(target);
  const name = `${hostname()}:${process.pid}`;
  const emit = (e: WorkerEvent): void => o.onEvent?.(e);
  const cases = new Worker<CaseJobData, CaseResult>(CASE_QUEUE, processorFile(), {
    connection: target.options,
    name,
    concurrency: o.concurrency,
    lockDuration: o.lockDurationMs ?? 30_000,
    stalledInterval: o.stalledIntervalMs ?? 30_000,
    maxStalledCount: o.maxStalledCount ?? 2,
    useWorkerThreads: false,
    workerForkOptions: { env: { ...process.env, ...workerHostEnv({ ...o.host, worker: name }) } },
  });
  const cohorts = new Worker<unknown, CohortSummary>(COHORT_QUEUE, summarizeCohort, {
    connection: target.options,
    name,
    concurrency: 1,
    lockDuration: o.lockDurationMs ?? 30_000,
    stalledInterval: o.stalledIntervalMs ?? 30_000,
  });
  cases.on('active', (job) => {
    emit({ kind: 'active', case: job.data.name, jobId: job.id ?? '', attempt: job.attemptsMade + 1 });
  });
  cases.on('completed', (job, result) => {
    emit({ kind: 'completed', jobId: job.id ?? '', result });
  });
  cases.on('failed', (job, err) => {
    if (job === undefined) return;
    const attempts = job.opts.attempts ?? 1;
    emit({
      kind: 'failed',
      case: job.data.name,
      jobId: job.id ?? '',
      error: err.message,
      attempt: job.attemptsMade,
      attempts,
      final: err.name === 'UnrecoverableError' || job.attemptsMade >= attempts,
    });
  });
  cases.on('stalled', (jobId) => {
    emit({ kind: 'stalled', jobId });
  });
  cohorts.on('completed', (job, summary) => {
    emit({ kind: 'cohort', name: job.name, summary });
  });
  // Connection errors repeat while Redis is away (the workers reconnect): one line per distinct message.
  let lastError = '';
  const onError = (e: Error): void => {
    if (e.message === lastError) return;
    lastError = e.message;
    emit({ kind: 'error', message: e.message });
  };
  cases.on('error', onError);
  cohorts.on('error', onError);
  await Promise.all([cases.waitUntilReady(), cohorts.waitUntilReady()]);
  return {
    name,
    close: async () => {
      await Promise.all([cases.close(), cohorts.close()]);
    },
  };
}
