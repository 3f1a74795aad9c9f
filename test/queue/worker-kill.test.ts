/**
 * Issue 13: a worker killed with SIGKILL in the middle of a case. Its case process stops with it (no
 * orphan finishes the case), the lock it held expires, the other worker's stalled check puts the case
 * back, and that worker completes it — once, with the outputs `stunet predict` writes and nothing else.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseRedisUrl } from '../../src/node/queue/redis.js';
import { queueStatus } from '../../src/node/queue/status.js';
import { runCli, tempDir } from '../cli/cli-helpers.js';
import {
  cohortComplete,
  labelBytes,
  MODEL,
  PREDICT_OPTIONS,
  sleep,
  startRedis,
  startWorker,
  submitCli,
  waitFor,
  workersStarted,
  writePhantoms,
} from './queue-helpers.js';

/**
 * A dead worker's case is free again 3 s after its last lock renewal (renewed every 1.5 s: at least 1.5 s
 * after the kill); the survivor looks every second.
 */
const QUICK_STALLS = ['--lock-duration', '3000', '--stalled-interval', '1000'];

test('a worker SIGKILLed mid-case: the other worker completes the case once, no partial or duplicate output', async () => {
  const redis = await startRedis();
  const target = parseRedisUrl(redis.url);
  const dir = tempDir();
  const inDir = join(dir, 'in');
  const out = join(dir, 'out');
  writePhantoms(inDir, 4, [32, 32, 16]);
  const a = startWorker(redis.url, QUICK_STALLS);
  const b = startWorker(redis.url, QUICK_STALLS);
  try {
    await workersStarted(a, b);
    submitCli(redis.url, inDir, out);
    const nameA = `${hostname()}:${a.proc.pid ?? ''}`;
    const victim = await waitFor('a case running on worker A', async () => {
      const [c] = await queueStatus(target);
      return c?.cases.find((x) => x.state === 'running' && x.worker === nameA);
    });
    await sleep(300);
    await a.kill();
    // Still running as far as Redis knows (A's lock has not expired): the kill came mid-case.
    const [afterKill] = await queueStatus(target);
    assert.equal(afterKill?.cases.find((c) => c.id === victim.id)?.state, 'running');
    // A's case process ended with A: nothing of the case is written before its lock expires.
    await sleep(1000);
    assert.equal(existsSync(join(out, `${victim.case}.nii.gz`)), false);

    const nameB = `${hostname()}:${b.proc.pid ?? ''}`;
    const done = await cohortComplete(target, undefined, () => `A:\n${a.output()}\nB:\n${b.output()}`);
    assert.deepEqual(done.counts, { done: 4, skipped: 0, failed: 0, running: 0, waiting: 0, cancelled: 0 });
    const again = done.cases.find((c) => c.id === victim.id);
    assert.equal(again?.worker, nameB);
    assert.equal(again.attempts, 2, 'started by A, then by B');
    assert.match(b.output(), new RegExp(`${victim.id}: its worker stopped; back in the queue`));
    // Completed once: B computed it once, A never finished it.
    const doneLine = new RegExp(`^${victim.case}: done in`, 'gm');
    assert.equal(b.output().match(doneLine)?.length, 1, b.output());
    assert.equal(a.output().match(doneLine), null);

    // The outputs: a label map and names per case, no temporary file left, the victim as predict writes it.
    assert.deepEqual(
      readdirSync(out).sort(),
      done.cases.flatMap((c) => [`${c.case}.json`, `${c.case}.nii.gz`]).sort(),
    );
    const ref = join(dir, 'ref.nii.gz');
    const input = join(inDir, `${victim.case}.nii.gz`);
    const r = runCli(['predict', '-i', input, '-o', ref, '-m', MODEL, ...PREDICT_OPTIONS, '--threads', '1']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(labelBytes(join(out, `${victim.case}.nii.gz`)), labelBytes(ref));
  } finally {
    await a.stop();
    await b.stop();
    await redis.stop();
  }
});
