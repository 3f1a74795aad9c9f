/**
 * Issue 13: a 12-case cohort on two `stunet queue work` processes completes, and every case's outputs are
 * those of a single-process `stunet predict` on the same folder (label voxels byte for byte, names file).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseRedisUrl } from '../../src/node/queue/redis.js';
import type { CohortStatus } from '../../src/node/queue/status.js';
import { runCli, tempDir } from '../cli/cli-helpers.js';
import {
  cohortComplete,
  labelBytes,
  MODEL,
  PREDICT_OPTIONS,
  runCliAsync,
  startRedis,
  startWorker,
  submitCli,
  workersStarted,
  writePhantoms,
} from './queue-helpers.js';

test('a 12-case cohort on 2 worker processes equals a single-process stunet predict', async () => {
  const redis = await startRedis();
  const target = parseRedisUrl(redis.url);
  const dir = tempDir();
  const inDir = join(dir, 'in');
  writePhantoms(inDir, 12);
  const workers = [startWorker(redis.url), startWorker(redis.url)];
  // The reference, alongside the workers.
  const refDir = join(dir, 'predict');
  const reference = runCliAsync([
    'predict',
    '-i',
    inDir,
    '-o',
    refDir,
    '-m',
    MODEL,
    ...PREDICT_OPTIONS,
    '--threads',
    '1',
  ]);
  try {
    await workersStarted(...workers);
    const out = join(dir, 'queue');
    const sub = submitCli(redis.url, inDir, out, ['--name', 'twelve']);
    assert.match(sub.stdout, /cohort twelve \(cohort-twelve-[0-9a-z]+-[0-9a-f]{6}\): 12 cases queued/);

    const done = await cohortComplete(target, 'twelve', () => workers.map((w) => w.output()).join('\n'));
    assert.deepEqual(done.counts, { done: 12, skipped: 0, failed: 0, running: 0, waiting: 0, cancelled: 0 });
    assert.equal(done.etaSeconds, 0);
    const names = done.cases.map((c) => c.case);
    assert.deepEqual(
      names,
      Array.from({ length: 12 }, (_, i) => `case_${String(i).padStart(2, '0')}`),
    );
    // Both processes computed cases, each case once (its one try).
    assert.equal(new Set(done.cases.map((c) => c.worker)).size, 2, JSON.stringify(done.cases));
    assert.ok(done.cases.every((c) => c.attempts === 1 && c.seconds !== null && c.seconds > 0));

    const ref = await reference;
    assert.equal(ref.status, 0, ref.stderr);
    // Every output: the same files as predict writes, the same label voxels and names, nothing else.
    assert.deepEqual(readdirSync(out).sort(), readdirSync(refDir).sort());
    assert.equal(readdirSync(out).length, 24);
    for (const name of names) {
      assert.deepEqual(
        labelBytes(join(out, `${name}.nii.gz`)),
        labelBytes(join(refDir, `${name}.nii.gz`)),
        name,
      );
      assert.equal(
        readFileSync(join(out, `${name}.json`), 'utf8'),
        readFileSync(join(refDir, `${name}.json`), 'utf8'),
      );
    }

    // What `queue results --json` prints.
    const results = runCli(['queue', 'results', '--redis', redis.url, '--json']);
    assert.equal(results.status, 0, results.stderr);
    const parsed = JSON.parse(results.stdout) as CohortStatus[];
    assert.deepEqual(
      parsed[0]?.cases.map((c) => [c.case, c.state, c.output]),
      names.map((n) => [n, 'done', join(out, `${n}.nii.gz`)]),
    );
    // A worker printed its cases and the cohort's end.
    assert.match(workers.map((w) => w.output()).join(''), /cohort twelve complete: 12 done, 0 failed/);
  } finally {
    await reference;
    await Promise.all(workers.map((w) => w.stop()));
    await redis.stop();
  }
});
