/**
 * The parts of the queue that need no Redis: a cohort's cases (folder, list file, image) and their
 * checks, job ids (what changes them and what does not), the ETA, and the text of status and results.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { caseJobId, canonicalJson, cohortCases, sourceSha256 } from '../../src/node/queue/cohort-cases.js';
import { parseRedisUrl } from '../../src/node/queue/redis.js';
import { describeCohort, formatDuration, resultsTable } from '../../src/node/queue/report.js';
import { cohortEta, type CaseStatus, type CohortStatus } from '../../src/node/queue/status.js';
import { tempDir } from '../cli/cli-helpers.js';
import { writePhantoms } from './queue-helpers.js';

test('a cohort from a folder (nnU-Net channels), a list file or one image; its errors', () => {
  const dir = tempDir();
  const [a = '', b = ''] = writePhantoms(join(dir, 'one'), 2);
  const two = join(dir, 'two');
  mkdirSync(two);
  for (const [i, f] of [a, b].entries()) copyFileSync(f, join(two, `x_000${i}.nii.gz`));
  assert.deepEqual(
    cohortCases(two, join(dir, 'out'), 2).map((c) => [c.name, c.source.paths, c.output]),
    [['x', [join(two, 'x_0000.nii.gz'), join(two, 'x_0001.nii.gz')], join(dir, 'out', 'x.nii.gz')]],
  );
  assert.throws(() => cohortCases(two, 'out', 1), /the model takes 1 input channel\(s\), case 'x' has 2/);

  const list = join(dir, 'list.txt');
  writeFileSync(list, '# cases\n\none/case_00.nii.gz\n  two/x_0000.nii.gz , two/x_0001.nii.gz\n');
  assert.throws(() => cohortCases(list, 'out', 1), /case 'x' has 2/);
  writeFileSync(list, 'one/case_00.nii.gz\none/case_01.nii.gz\n');
  assert.deepEqual(
    cohortCases(list, join(dir, 'o'), 1).map((c) => c.name),
    ['case_00', 'case_01'],
  );
  writeFileSync(list, 'one/case_00.nii.gz\n./one/case_00.nii.gz\n');
  assert.throws(() => cohortCases(list, 'o', 1), /two cases named 'case_00' would write the same output/);
  writeFileSync(list, 'one/missing.nii.gz\n');
  assert.throws(() => cohortCases(list, 'o', 1), /'.*missing\.nii\.gz' does not exist/);
  writeFileSync(list, 'one/notes.txt\n');
  assert.throws(
    () => cohortCases(list, 'o', 1),
    /list\.txt:1: '.*notes\.txt' is not a \.nii, \.nii\.gz or \.hdr file/,
  );
  assert.deepEqual(
    cohortCases(a, join(dir, 'o'), 1).map((c) => c.name),
    ['case_00'],
  );
  assert.throws(() => cohortCases(join(dir, 'nothing'), 'o', 1), /'.*nothing' does not exist/);
});

test('job ids: the same for equal inputs and options in any key order, new for a changed byte, option or output', () => {
  const dir = tempDir();
  const [a = '', b = ''] = writePhantoms(dir, 2);
  const copy = join(dir, 'copy.nii.gz');
  copyFileSync(a, copy);
  const inputs = sourceSha256({ kind: 'files', paths: [a] });
  assert.equal(sourceSha256({ kind: 'files', paths: [copy] }), inputs, 'content, not the path');
  assert.notEqual(sourceSha256({ kind: 'files', paths: [b] }), inputs);
  const id = caseJobId({ inputs, model: 'm', options: { stepSize: 0.5, tta: [] }, output: '/o/a.nii.gz' });
  assert.match(id, /^case-[0-9a-f]{64}$/);
  assert.equal(
    caseJobId({ output: '/o/a.nii.gz', options: { tta: [], stepSize: 0.5 }, model: 'm', inputs }),
    id,
  );
  assert.notEqual(
    caseJobId({ inputs, model: 'm', options: { stepSize: 1, tta: [] }, output: '/o/a.nii.gz' }),
    id,
  );
  assert.notEqual(
    caseJobId({ inputs, model: 'm2', options: { stepSize: 0.5, tta: [] }, output: '/o/a.nii.gz' }),
    id,
  );
  assert.notEqual(
    caseJobId({ inputs, model: 'm', options: { stepSize: 0.5, tta: [] }, output: '/p/a.nii.gz' }),
    id,
  );
  assert.equal(canonicalJson({ b: [{ y: 1, x: 2 }], a: null }), '{"a":null,"b":[{"x":2,"y":1}]}');
});

test('--redis URLs: host, port, database, password (hidden in messages), TLS', () => {
  const t = parseRedisUrl('rediss://user:p%40ss@queue.example:6380/3');
  assert.deepEqual(t.options, {
    host: 'queue.example',
    port: 6380,
    db: 3,
    username: 'user',
    password: 'p@ss',
    tls: {},
  });
  assert.equal(t.shown, 'rediss://user:***@queue.example:6380/3');
  assert.deepEqual(parseRedisUrl('redis://[::1]').options, { host: '::1', port: 6379, db: 0 });
  assert.throws(
    () => parseRedisUrl('localhost:6379'),
    /--redis: 'localhost:6379' is not a redis:\/\/ or rediss:\/\/ URL/,
  );
  assert.throws(() => parseRedisUrl('redis://h/x'), /the database in 'redis:\/\/h\/x' must be a number/);
});

const at = (s: number): number => Date.UTC(2026, 0, 1) + s * 1000;

function caseOf(
  name: string,
  state: CaseStatus['state'],
  start: number | null,
  end: number | null,
): CaseStatus {
  return {
    id: `case-${name}`,
    case: name,
    state,
    output: `/out/${name}.nii.gz`,
    seconds: state === 'done' && end !== null && start !== null ? end - start : null,
    statistics: null,
    error: state === 'failed' ? `'${name}.nii.gz': nifti: file is truncated` : null,
    attempts: start === null ? 0 : 1,
    worker: null,
    startedAt: start === null ? null : at(start),
    finishedAt: end === null ? null : at(end),
  };
}

test('ETA: the cases left at the rate this cohort has finished them; status and results as text', () => {
  // Submitted at 0; 3 cases ended by t = 30 s since the first started at 0; 6 left → 60 s.
  const cases = [
    caseOf('a', 'done', 0, 10),
    caseOf('b', 'done', 10, 20),
    caseOf('c', 'failed', 20, 21),
    caseOf('d', 'running', 21, null),
    ...['e', 'f', 'g', 'h', 'i'].map((n) => caseOf(n, 'waiting', null, null)),
  ];
  assert.equal(cohortEta(cases, at(0), 6, at(30)), 60);
  assert.equal(cohortEta(cases.slice(3), at(0), 6, at(30)), null, 'nothing finished yet');
  // Cases done by an earlier cohort (started before this one was submitted) do not count.
  assert.equal(cohortEta(cases, at(5), 6, at(30)), (6 * 20) / 2);
  assert.equal(cohortEta(cases, at(0), 0, at(30)), 0);
  assert.deepEqual(
    [formatDuration(75), formatDuration(3725), formatDuration(0)],
    ['1:15', '1:02:05', '0:00'],
  );

  const status: CohortStatus = {
    id: 'cohort-x-1-abc',
    name: 'x',
    submitted: new Date(at(0)).toISOString(),
    model: 'S',
    out: '/out',
    cancelled: null,
    state: 'running',
    total: cases.length,
    counts: { done: 2, skipped: 0, failed: 1, running: 1, waiting: 5, cancelled: 0 },
    etaSeconds: 60,
    cases,
  };
  assert.deepEqual(describeCohort(status), [
    'cohort x (cohort-x-1-abc): running: 9 cases: 2 done, 1 failed, 1 running, 5 waiting; ETA 1:00',
    '  submitted 2026-01-01T00:00:00.000Z, model S, out /out',
    "  failed: c: 'c.nii.gz': nifti: file is truncated",
  ]);
  assert.deepEqual(resultsTable({ ...status, cases: cases.slice(1, 4) }), [
    'cohort x (cohort-x-1-abc): 2 of 9 done',
    'case  state    seconds  output         statistics',
    'b     done     10.0     /out/b.nii.gz  -',
    'c     failed   -        -              -',
    'd     running  -        -              -',
  ]);
});
