import assert from 'node:assert/strict';
import { test } from 'node:test';
import { consoleProgress, formatDuration } from '../../src/util/progress.js';
import { Rng } from '../../src/util/random.js';

test('plain progress lines carry counts and an ETA', () => {
  const lines: string[] = [];
  let t = 0;
  const p = consoleProgress({ write: (s: string) => lines.push(s) }, () => t);
  p({ stage: 'forward', done: 0, total: 4 });
  t = 2000;
  p({ stage: 'forward', done: 1, total: 4 });
  t = 8000;
  p({ stage: 'forward', done: 4, total: 4 });
  assert.deepEqual(lines, ['forward: 0/4 ETA ?\n', 'forward: 1/4 ETA 6s\n', 'forward: 4/4 in 8s\n']);
});

test('TTY progress redraws one line and ends it', () => {
  let out = '';
  const p = consoleProgress({ write: (s: string) => (out += s), isTTY: true }, () => 0);
  p({ stage: 's', done: 1, total: 2 });
  p({ stage: 's', done: 2, total: 2 });
  assert.ok(out.includes(`\r\u001b[2Ks [${'#'.repeat(12)}${'-'.repeat(12)}] 1/2`), JSON.stringify(out));
  assert.ok(out.endsWith('\n'));
  assert.equal(formatDuration(3725), '1h02m');
});

test('Rng is deterministic and roughly standard normal', () => {
  const a = new Rng(7);
  const b = new Rng(7);
  const xs = Array.from({ length: 20000 }, () => a.normal());
  assert.deepEqual(
    xs.slice(0, 5),
    Array.from({ length: 5 }, () => b.normal()),
  );
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length;
  assert.ok(Math.abs(mean) < 0.03, `mean ${mean}`);
  assert.ok(Math.abs(variance - 1) < 0.05, `variance ${variance}`);
});
