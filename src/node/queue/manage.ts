/**
 * `stunet queue retry | cancel`. Retry puts a cohort's failed cases back in the queue (their attempts
 * start again). Cancel removes the cases of a cohort that have not started (those it added, not cases it
 * shares with an earlier cohort) and marks it cancelled; running cases finish.
 */
import { Job } from 'bullmq';
import { parseCaseJob, type CohortJobData } from './jobs.js';
import type { RedisTarget } from './redis.js';
import { cohortJobs, withQueues } from './status.js';

export interface CohortChange {
  readonly cohort: string;
  readonly name: string;
  /** The cases retried, or removed by cancel. */
  readonly cases: readonly string[];
  /** Cancel: cases left running (they finish). */
  readonly running: readonly string[];
}

/** The failed cases of the selected cohorts (every cohort without `select`) back in the queue. */
export async function retryFailed(target: RedisTarget, select?: string): Promise<CohortChange[]> {
  return withQueues(target, async (cases, cohorts) => {
    const out: CohortChange[] = [];
    const retried = new Set<string>();
    for (const cohort of await cohortJobs(cohorts, select)) {
      const names: string[] = [];
      for (const id of cohort.data.caseIds) {
        const job = await Job.fromId(cases, id);
        if (job === undefined || retried.has(id) || (await job.getState()) !== 'failed') continue;
        await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
        retried.add(id);
        names.push(parseCaseJob(job.data).name);
      }
      out.push({ cohort: cohort.id ?? '', name: cohort.data.name, cases: names, running: [] });
    }
    return out;
  });
}

const NOT_STARTED = new Set(['waiting', 'prioritized', 'delayed', 'waiting-children']);

/** Removes the selected cohorts' cases that have not started; marks the cohorts cancelled. */
export async function cancelCohorts(target: RedisTarget, select: string): Promise<CohortChange[]> {
  return withQueues(target, async (cases, cohorts) => {
    const out: CohortChange[] = [];
    for (const cohort of await cohortJobs(cohorts, select)) {
      const id = cohort.id ?? '';
      const removed: string[] = [];
      const running: string[] = [];
      for (const caseId of cohort.data.caseIds) {
        const job = await Job.fromId(cases, caseId);
        if (job === undefined) continue;
        const data = parseCaseJob(job.data);
        const state = await job.getState();
        if (state === 'active') running.push(data.name);
        if (data.cohort !== id || !NOT_STARTED.has(state)) continue;
        await job.remove();
        removed.push(data.name);
      }
      const data: CohortJobData = { ...cohort.data, cancelled: new Date().toISOString() };
      await cohort.updateData(data);
      out.push({ cohort: id, name: cohort.data.name, cases: removed, running });
    }
    return out;
  });
}
