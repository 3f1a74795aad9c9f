/**
 * Issue 13: a corrupt case fails at its first try with its error recorded (bad input is permanent) while
 * the others complete; resubmitting the cohort does no work; `queue retry` runs the case again once its
 * file is repaired.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseRedisUrl } from '../../src/node/queue/redis.js';
import type { CohortStatus } from '../../src/node/queue/status.js';
import type { SubmitResult } from '../../src/node/queue/submit.js';
import { runCli, tempDir } from '../cli/cli-helpers.js';
import { cohortComplete, sleep, startRedis, startWorker, submitCli, writePhantoms } from './queue-helpers.js';

test('a corrupt case fails permanently with its error, the others complete; resubmitting does no work', async () => {
  const redis = await startRedis();
  const target = parseRedisUrl(redis.url);
  const dir = tempDir();
  const inDir = join(dir, 'in');
  const out = join(dir, 'out');
  const [, , bad = ''] = writePhantoms(inDir, 4);
  const good = readFileSync(bad);
  writeFileSync(bad, good.subarray(0, 300)); // truncated
  const worker = startWorker(redis.url);
  const submit = (): SubmitResult => {
    const r = submitCli(redis.url, inDir, out, ['--name', 'mixed', '--backoff', '1', '--json']);
    return JSON.parse(r.stdout) as SubmitResult;
  };
  const complete = (id: string): Promise<CohortStatus> => cohortComplete(target, id, () => worker.output());
  try {
    const first = submit();
    assert.deepEqual([first.cases, first.added], [4, 4]);
    const done = await complete(first.cohortId);
    assert.deepEqual(done.counts, { done: 3, skipped: 0, failed: 1, running: 0, waiting: 0, cancelled: 0 });
    const failed = done.cases.find((c) => c.state === 'failed');
    assert.equal(failed?.case, 'case_02');
    assert.equal(failed.attempts, 1, 'bad input is not tried again');
    assert.match(failed.error ?? '', /case_02\.nii\.gz'?: nifti: .*truncated/);
    assert.match(worker.output(), /^case_02: failed \(try 1 of 3, for good\): .*case_02\.nii\.gz/m);
    // status names the failed case and its error
    const status = runCli(['queue', 'status', first.cohortId, '--redis', redis.url]);
    assert.equal(status.status, 0, status.stderr);
    assert.match(status.stdout, /: complete: 4 cases: 3 done, 1 failed, 0 running, 0 waiting\n/);
    assert.match(status.stdout, /^ {2}failed: case_02: .*truncated/m);
    const table = runCli(['queue', 'results', first.cohortId, '--redis', redis.url]);
    assert.match(table.stdout, /^case +state +seconds +output +statistics$/m);
    assert.match(table.stdout, /^case_02 +failed +- +- +-$/m);
    assert.match(table.stdout, /^case_03 +done +\d+\.\d +\S+case_03\.nii\.gz +-$/m);

    // The same cohort again: every case is found in the queue, none is computed.
    const startedBefore = worker.output().match(/: started/g)?.length;
    const second = submit();
    assert.deepEqual([second.added, second.existing, second.rerun], [0, { completed: 3, failed: 1 }, 0]);
    const again = await complete(second.cohortId);
    assert.deepEqual([again.counts.done, again.counts.failed], [3, 1]);
    await sleep(1000);
    assert.equal(worker.output().match(/: started/g)?.length, startedBefore);

    // Repaired, `queue retry` runs it again.
    writeFileSync(bad, good);
    const retry = runCli(['queue', 'retry', first.cohortId, '--redis', redis.url]);
    assert.equal(retry.status, 0, retry.stderr);
    assert.match(retry.stdout, /: 1 queued again: case_02/);
    const fixed = await complete(first.cohortId);
    assert.deepEqual([fixed.counts.done, fixed.counts.failed], [4, 0]);
  } finally {
    await worker.stop();
    await redis.stop();
  }
});
