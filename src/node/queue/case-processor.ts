/**
 * BullMQ's sandboxed processor for case jobs: loaded in a child process that BullMQ forks per concurrent
 * case (and reuses), so that inference, which holds the event loop, never stops the worker renewing its
 * locks. It runs as TypeScript under `--import tsx` (tests, the execArgv carries over) or from dist/.
 */
import { setFlagsFromString } from 'node:v8';
import { UnrecoverableError, type SandboxedJob } from 'bullmq';
import { closeCaseModel, isPermanent, runCase, workerHostFromEnv } from './case-run.js';
import { parseCaseJob, type CaseResult } from './jobs.js';

// As the CLI does: Node 20's V8 has relaxed SIMD behind a flag (the wasm backend uses it when it validates).
if (process.versions.node.startsWith('20.')) setFlagsFromString('--experimental-wasm-relaxed-simd');

// The worker process died (kill -9, a crash): stop now. Its case goes back to the queue when its lock
// expires and another worker runs it; this orphan must not finish it a second time.
process.on('disconnect', () => {
  process.exit(1);
});
process.on('beforeExit', () => {
  void closeCaseModel();
});

export default async function processCase(
  job: SandboxedJob<unknown, CaseResult>,
  _token?: string,
  signal?: AbortSignal,
): Promise<CaseResult> {
  try {
    return await runCase(parseCaseJob(job.data), workerHostFromEnv(), signal);
  } catch (e) {
    if (isPermanent(e)) throw new UnrecoverableError((e as Error).message);
    throw e;
  }
}
