/**
 * The queue's throughput (issue 13): a cohort of phantom crops and the fixture model, on a redis-server of
 * its own (AOF, fsync at every write), computed by 1 and then 2 `stunet queue work` processes, against the
 * same cases predicted directly in one process (the model loaded once, as a worker holds it). Figures:
 * cases per minute, and the queue's overhead per case with 1 worker, two ways: against the direct run,
 * (span / cases) − (direct time / cases), and within the run itself, (span − Σ predict's own time per case)
 * / cases — what the queue adds around predict (the case process's fork and model load, Redis round trips),
 * free of the load the machine had during the direct run. A span runs from the first case's start to the
 * last one's end as Redis recorded them (worker start-up and the submit command are printed apart).
 * Prints figures; asserts nothing.
 *
 *   node --import tsx bench/queue.ts [--cases 12] [--size 32,32,16] [--threads 1] [--json]
 */
import { join } from 'node:path';
import { createPredictorNetwork } from '../src/jobs/network.js';
import { loadModelFrom } from '../src/node/model-source.js';
import { predictPaths } from '../src/node/predict-files.js';
import { parseRedisUrl } from '../src/node/queue/redis.js';
import { queueStatus, type CohortStatus } from '../src/node/queue/status.js';
import { nodeRuntime } from '../src/node/runtime.js';
import { tempDir } from '../test/cli/cli-helpers.js';
import {
  MODEL,
  runCliAsync,
  startRedis,
  startWorker,
  waitFor,
  writePhantoms,
  type TestRedis,
} from '../test/queue/queue-helpers.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}
const json = process.argv.includes('--json');
const cases = Number(arg('--cases', '12'));
const size = arg('--size', '32,32,16').split(',').map(Number) as [number, number, number];
const threads = Number(arg('--threads', '1'));

function report(measure: string, text: string, figures: Record<string, number | string>): void {
  console.log(text);
  if (json)
    console.log(
      JSON.stringify({ bench: 'queue', measure, cases, size: size.join('×'), threads, ...figures }),
    );
}

/** The cases in one process, one predictor, as `stunet predict` on the folder does after loading. */
async function direct(inDir: string, out: string): Promise<number> {
  const model = loadModelFrom(MODEL);
  const predictor = await createPredictorNetwork(model, 'ort', nodeRuntime, { threads });
  try {
    const t0 = performance.now();
    await predictPaths(inDir, out, model, predictor.network, { mirrorAxes: [] });
    return (performance.now() - t0) / 1000;
  } finally {
    await predictor.close();
  }
}

interface QueuedRun {
  /** First case's start → last case's end (s). */
  readonly span: number;
  /** Submit command → cohort complete (s). */
  readonly wall: number;
  /** Σ predict's own seconds per case. */
  readonly compute: number;
}

/** A cohort through `workers` worker processes. */
async function queued(redis: TestRedis, workers: number, inDir: string, out: string): Promise<QueuedRun> {
  const started = performance.now();
  const procs = Array.from({ length: workers }, () => startWorker(redis.url, ['--threads', String(threads)]));
  try {
    await waitFor('the workers to start', () =>
      procs.every((w) => w.output().includes(' thread(s) each')) ? true : undefined,
    );
    const ready = performance.now();
    const name = `bench-${workers}`;
    const sub = await runCliAsync([
      'queue',
      'submit',
      inDir,
      '-m',
      MODEL,
      '--no-tta',
      '--out',
      out,
      '--redis',
      redis.url,
      '--name',
      name,
    ]);
    if (sub.status !== 0) throw new Error(sub.stderr);
    const done = await waitFor(
      'the cohort',
      async (): Promise<CohortStatus | undefined> => {
        const [c] = await queueStatus(parseRedisUrl(redis.url), name);
        return c?.state === 'complete' ? c : undefined;
      },
      600_000,
    );
    const end = performance.now();
    if (done.counts.done !== cases) throw new Error(`${done.counts.failed} cases failed`);
    const first = Math.min(...done.cases.map((c) => c.startedAt ?? Infinity));
    const last = Math.max(...done.cases.map((c) => c.finishedAt ?? 0));
    const compute = done.cases.reduce((s, c) => s + (c.seconds ?? 0), 0);
    console.log(
      `  (${workers} worker(s) started in ${((ready - started) / 1000).toFixed(1)} s; submit → complete ` +
        `${((end - ready) / 1000).toFixed(1)} s; predict's own time ${(compute / cases).toFixed(2)} s per case)`,
    );
    return { span: (last - first) / 1000, wall: (end - ready) / 1000, compute };
  } finally {
    await Promise.all(procs.map((w) => w.stop()));
  }
}

const dir = tempDir();
const inDir = join(dir, 'in');
writePhantoms(inDir, cases, size);
console.log(
  `${cases} phantom crops of ${size.join('×')}, the fixture model T1, no TTA, ${threads} thread(s) per case`,
);
const directSeconds = await direct(inDir, join(dir, 'direct'));
const perCase = directSeconds / cases;
report(
  'direct',
  `direct predict (one process, model loaded once): ${directSeconds.toFixed(1)} s, ${perCase.toFixed(2)} s per case, ` +
    `${((60 * cases) / directSeconds).toFixed(0)} cases/min`,
  { seconds: directSeconds, secondsPerCase: perCase, casesPerMinute: (60 * cases) / directSeconds },
);
const redis = await startRedis(true);
try {
  for (const workers of [1, 2]) {
    const { span, wall, compute } = await queued(redis, workers, inDir, join(dir, `queue-${workers}`));
    const overDirect = span / cases - perCase;
    const around = (span - compute) / cases;
    report(
      `workers-${workers}`,
      `queue, ${workers} worker process(es): ${span.toFixed(1)} s first start → last end, ` +
        `${((60 * cases) / span).toFixed(0)} cases/min` +
        (workers === 1
          ? `; overhead per case ${overDirect.toFixed(2)} s over direct predict, ${around.toFixed(2)} s around predict`
          : ''),
      {
        workers,
        spanSeconds: span,
        submitToCompleteSeconds: wall,
        casesPerMinute: (60 * cases) / span,
        ...(workers === 1
          ? { overheadVsDirectSecondsPerCase: overDirect, overheadAroundPredictSecondsPerCase: around }
          : {}),
      },
    );
  }
} finally {
  await redis.stop();
}
