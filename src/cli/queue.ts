/**
 * `stunet queue submit | work | status | results | retry | cancel`: cohorts as BullMQ jobs on Redis
 * (src/node/queue/, docs/queue.md). A case is computed by `stunet predict`'s code with predict's options,
 * parsed here by the same functions.
 */
import type { Command } from 'commander';
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { checkCaseOptions } from '../jobs/predict-case.js';
import { checkWritable } from '../jobs/predict-files.js';
import { nodeStore } from '../node/file-store.js';
import { cohortCases } from '../node/queue/cohort-cases.js';
import type { CaseOptions } from '../node/queue/jobs.js';
import { cancelCohorts, retryFailed, type CohortChange } from '../node/queue/manage.js';
import { checkRedis, parseRedisUrl, type RedisTarget } from '../node/queue/redis.js';
import { describeCohort, resultsTable } from '../node/queue/report.js';
import { queueStatus } from '../node/queue/status.js';
import { submitCohort } from '../node/queue/submit.js';
import { startQueueWorker, type WorkerEvent } from '../node/queue/worker.js';
import { parseDevice } from '../onnx/session.js';
import { fail } from '../util/errors.js';
import { Interrupted, interruptSignal } from './interrupt.js';
import { parseFolds, probeMembers } from './predict-models.js';
import { addPredictOptions, parseOptions, type PredictCliOptions } from './predict-options.js';

interface RedisCliOptions {
  redis?: string;
  json?: boolean;
}

interface SubmitCliOptions extends PredictCliOptions, RedisCliOptions {
  out: string;
  name?: string;
  priority?: string;
  attempts: string;
  backoff: string;
  overwrite?: boolean;
}

interface WorkCliOptions extends RedisCliOptions {
  concurrency: string;
  threads?: string;
  device?: string;
  lowMemory?: boolean;
  lockDuration?: string;
  stalledInterval?: string;
}

/** --redis, else $STUNET_REDIS. */
function redisTarget(o: RedisCliOptions): RedisTarget {
  const url = o.redis ?? process.env['STUNET_REDIS'];
  if (url === undefined) fail('BAD_INPUT', 'queue: give --redis redis://host:6379 (or set STUNET_REDIS)');
  return parseRedisUrl(url);
}

function wholeNumber(text: string, flag: string, min: number): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isInteger(v) || v < min)
    fail('BAD_INPUT', `${flag}: expected a whole number ≥ ${min}, got '${text}'`);
  return v;
}

function seconds(text: string, flag: string): number {
  const v = Number(text);
  if (text.trim() === '' || !(v >= 0) || !Number.isFinite(v))
    fail('BAD_INPUT', `${flag}: expected seconds ≥ 0, got '${text}'`);
  return v;
}

/** Predict's options that belong to `queue work` or have no meaning for a cohort. */
const NOT_FOR_SUBMIT: Record<string, string> = {
  input: 'give the cohort as the argument (a folder, an image or a list file)',
  output: 'give the output folder as --out',
  threads: 'threads are a worker setting: stunet queue work --threads',
  device: 'the device is a worker setting: stunet queue work --device',
  lowMemory: 'a worker setting: stunet queue work --low-memory',
  maxMemoryGb: 'not for the queue: each worker checks its memory per case',
  continue: 'the queue always skips cases whose complete outputs exist (--overwrite does not)',
  report: 'stunet queue results --json records every case',
  listClasses: 'use stunet predict --list-classes',
};

/** The job's options: predict's without the worker's (threads) and what travels as text (post-processing). */
function caseOptionsOf(parsed: ReturnType<typeof parseOptions>): CaseOptions {
  const notCarried = new Set(['threads', 'backend', 'postprocess']);
  const kept: CaseOptions = Object.fromEntries(Object.entries(parsed).filter(([k]) => !notCarried.has(k)));
  return kept;
}

async function submitAction(input: string, o: SubmitCliOptions, cmd: Command): Promise<void> {
  for (const [key, why] of Object.entries(NOT_FOR_SUBMIT))
    if (cmd.getOptionValueSource(key) === 'cli')
      fail('BAD_INPUT', `queue submit: --${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${why}`);
  const target = redisTarget(o);
  const parsed = parseOptions(o);
  const { backend, postprocess } = parsed;
  const options: CaseOptions = caseOptionsOf(parsed);
  const plans = o.plans === undefined ? {} : { plans: resolve(o.plans) };
  const { paths, probes } = probeMembers(o.model, parseFolds(o.folds), plans);
  const probe = probes[0] ?? fail('BAD_INPUT', '-m names no model');
  checkCaseOptions(probe, { ...options, ...(postprocess === undefined ? {} : { postprocess }) });
  const cases = cohortCases(input, o.out, probe.arch.inputChannels);
  const out = resolve(o.out);
  checkWritable(nodeStore, out);
  await checkRedis(target);
  const name = o.name ?? basename(resolve(input)).replace(/\.(txt|nii(\.gz)?|hdr)$/i, '');
  if (o.json !== true)
    console.log(`cohort ${name}: ${cases.length} cases; hashing their inputs and the model (job ids)`);
  const r = await submitCohort(target, {
    name,
    out,
    modelArg: o.model,
    model: { members: paths.map((p) => resolve(p)), ...plans, backend },
    cases,
    options,
    ...(o.postprocess === undefined ? {} : { postprocessJson: readFileSync(o.postprocess, 'utf8') }),
    skipExisting: o.overwrite !== true,
    ...(o.priority === undefined ? {} : { priority: wholeNumber(o.priority, '--priority', 1) }),
    attempts: wholeNumber(o.attempts, '--attempts', 1),
    backoffMs: seconds(o.backoff, '--backoff') * 1000,
  });
  if (o.json === true) {
    console.log(JSON.stringify(r));
    return;
  }
  const existing = Object.entries(r.existing).map(([s, n]) => `${n} ${s}`);
  console.log(
    `cohort ${name} (${r.cohortId}): ${r.added} cases queued` +
      (existing.length > 0 ? `, already in the queue: ${existing.join(', ')}` : '') +
      (r.rerun > 0 ? `, ${r.rerun} done before but their outputs are gone: queued again` : ''),
  );
  console.log(`progress: stunet queue status ${name} --redis ${target.shown}`);
}

function describeEvent(e: WorkerEvent): string {
  switch (e.kind) {
    case 'active':
      return `${e.case}: started${e.attempt > 1 ? ` (try ${e.attempt})` : ''}`;
    case 'completed':
      return `${e.result.case}: ${e.result.status === 'skipped' ? 'complete outputs exist, skipped' : `done in ${e.result.seconds.toFixed(1)} s`} → ${e.result.output}`;
    case 'failed':
      return `${e.case}: failed (try ${e.attempt} of ${e.attempts}${e.final ? ', for good' : ', tried again later'}): ${e.error}`;
    case 'stalled':
      return `${e.jobId}: its worker stopped; back in the queue`;
    case 'cohort':
      return `cohort ${e.name} complete: ${e.summary.done} done, ${e.summary.failed} failed`;
    case 'error':
      return `redis: ${e.message} (reconnecting)`;
  }
}

async function workAction(o: WorkCliOptions): Promise<void> {
  const target = redisTarget(o);
  const concurrency = wholeNumber(o.concurrency, '--concurrency', 1);
  const threads =
    o.threads === undefined
      ? Math.max(1, Math.floor(availableParallelism() / concurrency))
      : wholeNumber(o.threads, '--threads', 1);
  if (o.device !== undefined) parseDevice(o.device);
  const worker = await startQueueWorker(target, {
    concurrency,
    host: {
      threads,
      ...(o.device === undefined ? {} : { device: o.device }),
      ...(o.lowMemory === true ? { lowMemory: true } : {}),
    },
    ...(o.lockDuration === undefined
      ? {}
      : { lockDurationMs: wholeNumber(o.lockDuration, '--lock-duration', 100) }),
    ...(o.stalledInterval === undefined
      ? {}
      : { stalledIntervalMs: wholeNumber(o.stalledInterval, '--stalled-interval', 100) }),
    onEvent: (e) => {
      (e.kind === 'failed' || e.kind === 'error' ? console.error : console.log)(describeEvent(e));
    },
  });
  console.log(
    `worker ${worker.name} on ${target.shown}: ${concurrency} case(s) at a time, ${threads} thread(s) each; ` +
      'Ctrl-C stops after the running cases',
  );
  await new Promise<void>((done) => {
    if (interruptSignal.aborted) done();
    interruptSignal.addEventListener('abort', () => {
      done();
    });
  });
  console.log('stopping: waiting for the running cases (Ctrl-C again stops now; they then run elsewhere)');
  await worker.close();
  throw new Interrupted('worker stopped; cases not started stay in the queue');
}

async function statusAction(cohort: string | undefined, o: RedisCliOptions, results: boolean): Promise<void> {
  const target = redisTarget(o);
  await checkRedis(target);
  const cohorts = await queueStatus(target, cohort);
  if (o.json === true) {
    console.log(JSON.stringify(cohorts, null, 2));
    return;
  }
  if (cohorts.length === 0) console.log(`no cohorts in ${target.shown}`);
  for (const c of cohorts)
    for (const line of results ? resultsTable(c) : describeCohort(c)) console.log(line);
}

async function changeAction(
  cohort: string | undefined,
  o: RedisCliOptions,
  what: 'retry' | 'cancel',
): Promise<void> {
  const target = redisTarget(o);
  await checkRedis(target);
  const changes: CohortChange[] =
    what === 'retry'
      ? await retryFailed(target, cohort)
      : await cancelCohorts(target, cohort ?? fail('BAD_INPUT', 'queue cancel: name the cohort'));
  if (o.json === true) {
    console.log(JSON.stringify(changes, null, 2));
    return;
  }
  for (const c of changes) {
    const verb = what === 'retry' ? 'queued again' : 'removed (not started)';
    console.log(
      `cohort ${c.name} (${c.cohort}): ${c.cases.length} ${verb}${c.cases.length > 0 ? `: ${c.cases.join(', ')}` : ''}`,
    );
    if (c.running.length > 0) console.log(`  still running (they finish): ${c.running.join(', ')}`);
  }
}

const redisOption = (cmd: Command): Command =>
  cmd.option(
    '--redis <url>',
    'Redis: redis://[:password@]host:6379[/db], rediss:// for TLS (default $STUNET_REDIS)',
  );
const withRedis = (cmd: Command): Command => redisOption(cmd).option('--json', 'print JSON');

export function registerQueue(program: Command): void {
  const queue = program
    .command('queue')
    .description('segment cohorts on any number of machines: BullMQ jobs on Redis (docs/queue.md)');
  addPredictOptions(
    withRedis(
      queue
        .command('submit')
        .description('queue a cohort: one job per case, the options of stunet predict')
        .argument(
          '<cohort>',
          'a folder of cases, an image, or a list file (one case per line: its channel files, comma-separated)',
        ),
    ),
  )
    .requiredOption('--out <dir>', 'output folder (<case>.nii.gz …), on a path every worker sees')
    .option('--name <cohort>', "the cohort's name (default: the folder or list file's)")
    .option(
      '--priority <n>',
      '1 runs first, 2097152 last (default 1000); same priority: in the order submitted',
    )
    .option('--attempts <n>', 'tries per case on transient errors (bad input fails at once)', '3')
    .option('--backoff <seconds>', 'wait before the first retry, doubling each time', '10')
    .option('--overwrite', 'compute cases even when their complete outputs exist')
    .action(submitAction);
  redisOption(queue.command('work').description('run cases: each in a child process, any number of workers'))
    .option('--concurrency <n>', 'cases at once in this worker', '1')
    .option('--threads <n>', 'compute threads per case (default: the cores / --concurrency)')
    .option('--device <cpu|cuda[:N]|webgpu>', "where ONNX Runtime runs the network (backend 'ort')")
    .option('--low-memory', 'ONNX Runtime without its memory arena (less memory, may be slower)')
    .option('--lock-duration <ms>', "a dead worker's case is free again after this (default 30000)")
    .option('--stalled-interval <ms>', 'how often to look for cases of dead workers (default 30000)')
    .action(workAction);
  withRedis(queue.command('status').description('each cohort: done, failed, running, waiting; ETA; errors'))
    .argument('[cohort]', 'a cohort name or id (default: all)')
    .action((c: string | undefined, o: RedisCliOptions) => statusAction(c, o, false));
  withRedis(queue.command('results').description('each case: state, seconds, output, statistics'))
    .argument('[cohort]', 'a cohort name or id (default: all)')
    .action((c: string | undefined, o: RedisCliOptions) => statusAction(c, o, true));
  withRedis(queue.command('retry').description('queue the failed cases again'))
    .argument('[cohort]', 'a cohort name or id (default: all)')
    .action((c: string | undefined, o: RedisCliOptions) => changeAction(c, o, 'retry'));
  withRedis(queue.command('cancel').description('remove the cases not started; running ones finish'))
    .argument('<cohort>', 'a cohort name or id')
    .action((c: string, o: RedisCliOptions) => changeAction(c, o, 'cancel'));
}
