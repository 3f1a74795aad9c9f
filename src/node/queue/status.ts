/**
 * `stunet queue status | results`: each cohort's cases read back from Redis — done, failed (with the
 * error), running, waiting, cancelled — its ETA, and each finished case's output, seconds and statistics.
 */
import { Job, Queue, type JobType } from 'bullmq';
import { fail } from '../../util/errors.js';
import { CASE_QUEUE, COHORT_QUEUE, parseCohortJob, type CaseResult, type CohortJobData } from './jobs.js';
import type { RedisTarget } from './redis.js';

/** A case as status sees it: `retrying` waits out a backoff after a transient error. */
export type CaseState = 'done' | 'skipped' | 'failed' | 'running' | 'waiting' | 'retrying' | 'cancelled';

export interface CaseStatus {
  readonly id: string;
  readonly case: string;
  readonly state: CaseState;
  readonly output: string | null;
  /** Computing time (the case's own, as predict reports it). */
  readonly seconds: number | null;
  readonly statistics: string | null;
  readonly error: string | null;
  /** Tries started (a stalled try counts). */
  readonly attempts: number;
  readonly worker: string | null;
  /** When its last try started and ended (ms since the epoch). */
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
}

export interface CohortStatus {
  readonly id: string;
  readonly name: string;
  readonly submitted: string;
  readonly model: string;
  readonly out: string;
  readonly cancelled: string | null;
  /** complete: nothing left to run (some may have failed). */
  readonly state: 'complete' | 'running' | 'waiting' | 'cancelled';
  readonly total: number;
  /** done includes skipped (complete outputs found); waiting includes retrying. */
  readonly counts: Readonly<
    Record<'done' | 'skipped' | 'failed' | 'running' | 'waiting' | 'cancelled', number>
  >;
  /** Seconds until the last case ends at this cohort's rate so far; null before a case has finished. */
  readonly etaSeconds: number | null;
  readonly cases: readonly CaseStatus[];
}

const COHORT_STATES: JobType[] = [
  'waiting-children',
  'waiting',
  'prioritized',
  'active',
  'delayed',
  'completed',
  'failed',
];

/** Opens the two queues for a command and closes them after. */
export async function withQueues<T>(
  target: RedisTarget,
  work: (cases: Queue, cohorts: Queue) => Promise<T>,
): Promise<T> {
  const cases = new Queue(CASE_QUEUE, { connection: target.options });
  const cohorts = new Queue(COHORT_QUEUE, { connection: target.options });
  try {
    return await work(cases, cohorts);
  } finally {
    await Promise.all([cases.close(), cohorts.close()]);
  }
}

/** The cohort jobs, oldest first; `select` (an id or a name) keeps the matching ones, or fails. */
export async function cohortJobs(cohorts: Queue, select?: string): Promise<Job<CohortJobData>[]> {
  const jobs = (await cohorts.getJobs(COHORT_STATES, 0, -1, true)) as Job<CohortJobData>[];
  const all = jobs.filter((j) => j.id !== undefined).sort((a, b) => a.timestamp - b.timestamp);
  for (const j of all) parseCohortJob(j.data);
  if (select === undefined) return all;
  const chosen = all.filter((j) => j.id === select || j.data.name === select);
  if (chosen.length === 0) fail('NOT_FOUND', `queue: no cohort '${select}' (stunet queue status lists them)`);
  return chosen;
}

function caseState(state: string, result: CaseResult | null): CaseState {
  if (state === 'completed') return result?.status === 'skipped' ? 'skipped' : 'done';
  if (state === 'failed') return 'failed';
  if (state === 'active') return 'running';
  if (state === 'delayed') return 'retrying';
  if (state === 'unknown') return 'cancelled'; // removed from the queue (queue cancel)
  return 'waiting';
}

/** One case job read back (a job that is gone, removed by cancel, reads as cancelled). */
export async function caseStatus(cases: Queue, id: string): Promise<CaseStatus> {
  const job = await Job.fromId<{ name?: string; sink?: { path?: string } }>(cases, id);
  const state = job === undefined ? 'unknown' : await job.getState();
  const result = state === 'completed' ? ((job?.returnvalue ?? null) as CaseResult | null) : null;
  const s = caseState(state, result);
  return {
    id,
    case: job?.data.name ?? id,
    state: s,
    output: result?.output ?? job?.data.sink?.path ?? null,
    seconds: result?.seconds ?? null,
    statistics: result?.statistics ?? null,
    error: s === 'failed' || s === 'retrying' ? (job?.failedReason ?? null) : null,
    attempts: job?.attemptsStarted ?? 0,
    worker: result?.worker ?? job?.processedBy ?? null,
    startedAt: job?.processedOn ?? null,
    finishedAt: job?.finishedOn ?? null,
  };
}

/**
 * ETA from the cases this cohort ran itself (started after it was submitted): the rate of finished cases
 * over the time since the first of them started, applied to the cases left.
 */
export function cohortEta(
  cases: readonly CaseStatus[],
  submittedMs: number,
  left: number,
  now: number,
): number | null {
  if (left === 0) return 0;
  const ran = cases.filter(
    (c) => (c.state === 'done' || c.state === 'failed') && (c.startedAt ?? 0) >= submittedMs,
  );
  const first = Math.min(...ran.map((c) => c.startedAt ?? now));
  if (ran.length === 0 || now <= first) return null;
  return (left * (now - first)) / ran.length / 1000;
}

/** The status of every cohort (or those `select` names), oldest first. */
export async function queueStatus(target: RedisTarget, select?: string): Promise<CohortStatus[]> {
  return withQueues(target, async (cases, cohorts) => {
    const jobs = await cohortJobs(cohorts, select);
    const now = Date.now();
    return Promise.all(
      jobs.map(async (job): Promise<CohortStatus> => {
        const d = job.data;
        const cancelled = d.cancelled ?? null;
        const list = await Promise.all(d.caseIds.map((id) => caseStatus(cases, id)));
        const count = (...s: CaseState[]): number => list.filter((c) => s.includes(c.state)).length;
        const counts = {
          done: count('done', 'skipped'),
          skipped: count('skipped'),
          failed: count('failed'),
          running: count('running'),
          waiting: count('waiting', 'retrying'),
          cancelled: count('cancelled'),
        };
        const left = counts.running + counts.waiting;
        const state =
          left === 0
            ? cancelled === null
              ? 'complete'
              : 'cancelled'
            : counts.running > 0
              ? 'running'
              : 'waiting';
        return {
          id: job.id ?? '',
          name: d.name,
          submitted: d.submitted,
          model: d.model,
          out: d.out,
          cancelled,
          state,
          total: list.length,
          counts,
          etaSeconds: cohortEta(list, Date.parse(d.submitted), left, now),
          cases: list,
        };
      }),
    );
  });
}
