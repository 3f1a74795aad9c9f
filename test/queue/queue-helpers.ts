/**
 * What the queue tests share: a redis-server of their own (free loopback port, temporary folder, AOF
 * when asked), small phantom cohorts for the fixture model, and `stunet queue work` processes.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { generatePhantom, phantomNifti } from '../../src/demo/phantom.js';
import { cropNifti } from '../../src/io/nifti-crop.js';
import { readNifti, writeNifti, type NiftiImage } from '../../src/io/nifti.js';
import { checkRedis, parseRedisUrl, type RedisTarget } from '../../src/node/queue/redis.js';
import { queueStatus, type CohortStatus } from '../../src/node/queue/status.js';
import { ROOT, runCli, tempDir, type CliResult } from '../cli/cli-helpers.js';
import { fixturePath } from '../helpers.js';

/** The small v1 checkpoint of the fixtures (a 32×32×16 phantom crop: about a second on one thread). */
export const MODEL = fixturePath('stunet-forward', 'T1.model');

/** Predict's options of every queue test: no TTA, one thread (the reference run uses the same). */
export const PREDICT_OPTIONS = ['--no-tta'] as const;

export const sleep = (ms: number): Promise<void> =>
  new Promise((r) => {
    setTimeout(r, ms);
  });

/** Polls `check` until it returns a value (not undefined), or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 60_000,
  /** What to show when it times out (a worker's output). */
  detail?: () => string,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end)
      assert.fail(`timed out waiting for ${what}${detail === undefined ? '' : `: ${detail()}`}`);
    await sleep(200);
  }
}

/** Waits until the cohort (the first one, or `select`) has nothing left to run; times out showing `detail`. */
export function cohortComplete(
  target: RedisTarget,
  select?: string,
  detail?: () => string,
  timeoutMs = 90_000,
): Promise<CohortStatus> {
  return waitFor(
    `cohort ${select ?? ''} to complete`,
    async () => {
      const [c] = await queueStatus(target, select);
      return c?.state === 'complete' ? c : undefined;
    },
    timeoutMs,
    () => JSON.stringify(detail === undefined ? '' : detail()),
  );
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => {
        resolve(typeof a === 'object' && a !== null ? a.port : 0);
      });
    });
  });
}

export interface TestRedis {
  readonly url: string;
  readonly dir: string;
  /** SIGKILL (no shutdown save: what AOF with appendfsync always keeps is all there is). */
  kill(): Promise<void>;
  /** Starts it again on the same port and folder. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

function exited(p: ChildProcess): Promise<void> {
  return p.exitCode !== null || p.signalCode !== null
    ? Promise.resolve()
    : new Promise((r) =>
        p.once('exit', () => {
          r();
        }),
      );
}

/** A redis-server on a free loopback port in a temporary folder (AOF, fsync at every write, if `aof`). */
export async function startRedis(aof = false): Promise<TestRedis> {
  const port = await freePort();
  const dir = tempDir();
  const url = `redis://127.0.0.1:${port}`;
  let proc: ChildProcess | null = null;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''];
  args.push('--appendonly', aof ? 'yes' : 'no', '--appendfsync', 'always');
  const redis: TestRedis = {
    url,
    dir,
    async start() {
      proc = spawn('redis-server', args, { stdio: 'ignore' });
      await waitFor(
        'redis-server to answer',
        async () => {
          try {
            await checkRedis(parseRedisUrl(url), 500);
            return true;
          } catch {
            return undefined;
          }
        },
        10_000,
      );
    },
    async kill() {
      if (proc === null) return;
      proc.kill('SIGKILL');
      await exited(proc);
      proc = null;
    },
    async stop() {
      if (proc !== null) {
        proc.kill('SIGTERM');
        await exited(proc);
        proc = null;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await redis.start();
  return redis;
}

const phantoms = new Map<number, NiftiImage>();

/**
 * `n` cases in `dir`, as case_NN.nii.gz: crops (24×24×12 by default, half a second each on one thread) of
 * four of the demo's phantoms (about 4 mm voxels), each phantom cropped at shifted places.
 */
export function writePhantoms(
  dir: string,
  n: number,
  size: readonly [number, number, number] = [24, 24, 12],
): string[] {
  mkdirSync(dir, { recursive: true });
  return Array.from({ length: n }, (_, i) => {
    const seed = 1 + (i % 4);
    const image = phantoms.get(seed) ?? phantomNifti(generatePhantom(`p${seed}`, seed)).image;
    phantoms.set(seed, image);
    const [I = 0, J = 0, K = 0] = image.dims;
    const shift = 3 * Math.floor(i / 4);
    const from = [I, J, K].map((d, a) => Math.floor((d - (size[a] ?? 0)) / 2) + (a === 0 ? shift : 0));
    const path = join(dir, `case_${String(i).padStart(2, '0')}.nii.gz`);
    writeFileSync(path, writeNifti(cropNifti(image, [from[0] ?? 0, from[1] ?? 0, from[2] ?? 0], size)));
    return path;
  });
}

/** The label voxels of a written label map (the bytes compared between the queue and predict). */
export const labelBytes = (path: string): Uint8Array => readNifti(readFileSync(path)).raw as Uint8Array;

/** runCli without blocking this process (its output while workers run). */
export function runCliAsync(args: readonly string[]): Promise<CliResult> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'index.ts'), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => {
    proc.on('close', (status) => {
      resolve({ status, stdout, stderr });
    });
  });
}

/** `stunet queue submit <input> -m <model> --no-tta --out <out> --redis <url> …extra`; fails unless it exits 0. */
export function submitCli(
  redisUrl: string,
  input: string,
  out: string,
  extra: readonly string[] = [],
  model = MODEL,
): CliResult {
  const args = ['queue', 'submit', input, '-m', model, ...PREDICT_OPTIONS, '--out', out, '--redis', redisUrl];
  const r = runCli([...args, ...extra]);
  assert.equal(r.status, 0, r.stderr);
  return r;
}

/** Waits until every worker has printed its first line (connected, taking cases). */
export function workersStarted(...workers: readonly WorkerProcess[]): Promise<boolean> {
  return waitFor('the workers to start', () =>
    workers.every((w) => w.output().includes(' thread(s) each')) ? true : undefined,
  );
}

export interface WorkerProcess {
  readonly proc: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  /** SIGTERM (finishes its running case), waits for the exit. */
  stop(): Promise<void>;
  kill(): Promise<void>;
}

/** `stunet queue work` as a separate process, from source as `npx stunet` runs the built copy. */
export function startWorker(redisUrl: string, extra: readonly string[] = []): WorkerProcess {
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'src', 'cli', 'index.ts'),
      'queue',
      'work',
      '--redis',
      redisUrl,
      '--threads',
      '1',
      ...extra,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let text = '';
  proc.stdout.on('data', (d: Buffer) => (text += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (text += d.toString()));
  return {
    proc,
    output: () => text,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited(proc);
    },
    async kill() {
      proc.kill('SIGKILL');
      await exited(proc);
    },
  };
}
