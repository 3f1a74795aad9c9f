/**
 * Issue 13: Redis killed with SIGKILL mid-cohort and started again on its append-only file (fsync at every
 * write): the worker reconnects and the cohort completes, every case once.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseRedisUrl } from '../../src/node/queue/redis.js';
import { queueStatus } from '../../src/node/queue/status.js';
import { tempDir } from '../cli/cli-helpers.js';
import {
  cohortComplete,
  sleep,
  startRedis,
  startWorker,
  submitCli,
  waitFor,
  workersStarted,
  writePhantoms,
} from './queue-helpers.js';

test('Redis SIGKILLed and restarted with AOF mid-cohort: the cohort completes', async () => {
  const redis = await startRedis(true);
  const target = parseRedisUrl(redis.url);
  const dir = tempDir();
  const inDir = join(dir, 'in');
  const out = join(dir, 'out');
  writePhantoms(inDir, 8);
  const worker = startWorker(redis.url);
  try {
    await workersStarted(worker);
    submitCli(redis.url, inDir, out);
    const before = await waitFor('two cases done', async () => {
      const [c] = await queueStatus(target);
      return c !== undefined && c.counts.done >= 2 ? c : undefined;
    });
    assert.ok(before.counts.done < 8, `Redis goes down mid-cohort: ${JSON.stringify(before.counts)}`);
    await redis.kill();
    // Down longer than the workers' first reconnection delay (1 s), so that they see it fail.
    await sleep(2000);
    await redis.start();

    const done = await cohortComplete(target, undefined, () => worker.output());
    const log = worker.output();
    assert.deepEqual(
      done.counts,
      { done: 8, skipped: 0, failed: 0, running: 0, waiting: 0, cancelled: 0 },
      log,
    );
    assert.equal(readdirSync(out).length, 16, readdirSync(out).join(', '));
    // The worker saw Redis go and carried on.
    assert.match(log, /^redis: .*\(reconnecting\)$/m);
    assert.match(log, /cohort in complete: 8 done, 0 failed/);
  } finally {
    await worker.stop();
    await redis.stop();
  }
});
