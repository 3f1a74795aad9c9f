/**
 * The queue commands' edges: a bad or unreachable --redis is one error line within seconds; predict options
 * that belong to the worker are refused at submit; a list file of cases; priorities; cancel.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Job, Queue } from 'bullmq';
import { CASE_QUEUE } from '../../src/node/queue/jobs.js';
import { cancelCohorts } from '../../src/node/queue/manage.js';
import { parseRedisUrl } from '../../src/node/queue/redis.js';
import { queueStatus } from '../../src/node/queue/status.js';
import type { SubmitResult } from '../../src/node/queue/submit.js';
import { tempDir } from '../cli/cli-helpers.js';
import { MODEL, runCliAsync, startRedis, writePhantoms } from './queue-helpers.js';

test('a bad --redis URL, or a Redis that is not there: one error line, exit 1, within seconds', async () => {
  const t0 = Date.now();
  const [refused, notUrl] = await Promise.all([
    runCliAsync(['queue', 'status', '--redis', 'redis://127.0.0.1:1']),
    runCliAsync(['queue', 'work', '--redis', 'http://127.0.0.1:6379']),
  ]);
  assert.equal(refused.status, 1);
  assert.equal(
    refused.stderr,
    'error: cannot reach Redis at redis://127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1; ' +
      'is redis-server running there (docs/queue.md)?\n',
  );
  assert.equal(notUrl.status, 1);
  assert.equal(notUrl.stderr, "error: --redis: 'http://127.0.0.1:6379' is not a redis:// or rediss:// URL\n");
  assert.ok(Date.now() - t0 < 30_000, `${Date.now() - t0} ms`);
});

test('a list file with priority, options for the worker refused, cancel removes what has not started', async () => {
  const redis = await startRedis();
  const target = parseRedisUrl(redis.url);
  const dir = tempDir();
  const [a = ''] = writePhantoms(join(dir, 'images'), 2);
  const list = join(dir, 'cohort.txt');
  writeFileSync(list, `# two cases\n${a}\n\nimages/case_01.nii.gz\n`);
  const submit = (...extra: string[]) =>
    runCliAsync([
      'queue',
      'submit',
      list,
      '-m',
      MODEL,
      '--out',
      join(dir, 'out'),
      '--redis',
      redis.url,
      ...extra,
    ]);
  try {
    const [threads, sub] = await Promise.all([submit('--threads', '2'), submit('--priority', '5', '--json')]);
    assert.equal(threads.status, 1);
    assert.match(
      threads.stderr,
      /^error: queue submit: --threads: threads are a worker setting: stunet queue work --threads\n$/,
    );
    assert.equal(sub.status, 0, sub.stderr);
    const r = JSON.parse(sub.stdout) as SubmitResult;
    assert.deepEqual([r.cases, r.added], [2, 2]);
    const [cohort] = await queueStatus(target);
    assert.equal(cohort?.name, 'cohort');
    assert.deepEqual(
      cohort.cases.map((c) => [c.case, c.state, c.output]),
      [
        ['case_00', 'waiting', join(dir, 'out', 'case_00.nii.gz')],
        ['case_01', 'waiting', join(dir, 'out', 'case_01.nii.gz')],
      ],
    );
    const queue = new Queue(CASE_QUEUE, { connection: target.options });
    try {
      const job = await Job.fromId(queue, cohort.cases[0]?.id ?? '');
      assert.deepEqual([job?.opts.priority, job?.opts.attempts], [5, 3]);
    } finally {
      await queue.close();
    }

    const [cancelled] = await cancelCohorts(target, 'cohort');
    assert.deepEqual(cancelled?.cases, ['case_00', 'case_01']);
    const [after] = await queueStatus(target, r.cohortId);
    assert.equal(after?.state, 'cancelled');
    assert.deepEqual(after.counts, { done: 0, skipped: 0, failed: 0, running: 0, waiting: 0, cancelled: 2 });
  } finally {
    await redis.stop();
  }
});
