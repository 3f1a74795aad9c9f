/**
 * A transient failure (here the worker cannot load the model: its folder is away, as an unmounted share
 * would be) is tried again after a backoff, and the case completes once the model is back.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseRedisUrl } from '../../src/node/queue/redis.js';
import { queueStatus } from '../../src/node/queue/status.js';
import { tempDir } from '../cli/cli-helpers.js';
import {
  cohortComplete,
  MODEL,
  startRedis,
  startWorker,
  submitCli,
  waitFor,
  writePhantoms,
} from './queue-helpers.js';

test('a model the worker cannot load: the case is tried again after a backoff and completes', async () => {
  const redis = await startRedis();
  const target = parseRedisUrl(redis.url);
  const dir = tempDir();
  const models = join(dir, 'models');
  mkdirSync(models);
  for (const ext of ['', '.pkl']) copyFileSync(`${MODEL}${ext}`, join(models, `T1.model${ext}`));
  writePhantoms(join(dir, 'in'), 1);
  const out = join(dir, 'out');
  submitCli(redis.url, join(dir, 'in'), out, ['--backoff', '4'], join(models, 'T1.model'));
  renameSync(models, `${models}-away`);
  const worker = startWorker(redis.url);
  try {
    await waitFor('a failed first try', () =>
      /^case_00: failed \(try 1 of 3, tried again later\): worker .*: cannot load .*T1\.model/m.test(
        worker.output(),
      )
        ? true
        : undefined,
    );
    const [waiting] = await queueStatus(target);
    assert.equal(waiting?.cases[0]?.state, 'retrying');
    assert.match(waiting.cases[0].error ?? '', /cannot load/);
    renameSync(`${models}-away`, models);
    const done = await cohortComplete(target, undefined, () => worker.output());
    assert.deepEqual([done.counts.done, done.counts.failed, done.cases[0]?.attempts], [1, 0, 2]);
  } finally {
    await worker.stop();
    await redis.stop();
  }
});
