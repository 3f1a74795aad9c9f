import assert from 'node:assert/strict';
import { test } from 'node:test';
import { consoleProgress, formatDuration } from '../../src/util/progress.js';
import { Rng } from '../../src/util/random.js';

test('plain progress lines carry counts and an ETA', () => {
  const lines: string[] = [];
  let t = 0;
  const p = consoleProgress({ write: (s: string) => lines.push(s) }, () => t, 0);
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

test('plain lines are rate-limited per stage: first, last, and one per interval', () => {
  const lines: string[] = [];
  let t = 0;
  const p = consoleProgress({ write: (s: string) => lines.push(s) }, () => t, 10_000);
  for (let i = 0; i <= 1000; i++) {
    t = i * 100; // 100 s in all, one event per 0.1 s
    p({ stage: 'epoch 1/1', done: i, total: 1000 });
  }
  assert.equal(lines.length, 11, lines.join('')); // 0 s, then every 10 s up to 90 s, then the last at 100 s
  assert.match(lines[0] ?? '', /^epoch 1\/1: 0\/1000/);
  assert.match(lines[10] ?? '', /^epoch 1\/1: 1000\/1000 in 1m40s/);
});

test('TTY: a bar of another stage starts on its own line instead of overwriting the open one', () => {
  let out = '';
  const p = consoleProgress({ write: (s: string) => (out += s), isTTY: true }, () => 0);
  p({ stage: 'epoch 1/2', done: 3, total: 10 });
  p({ stage: 'validation', done: 1, total: 2 });
  p({ stage: 'validation', done: 2, total: 2 });
  p({ stage: 'epoch 1/2', done: 4, total: 10 });
  const rows = out.split('\n');
  assert.match(rows[0] ?? '', /epoch 1\/2 .* 3\/10/);
  assert.match(rows[1] ?? '', /validation .* 2\/2 in/);
  assert.match(rows[2] ?? '', /epoch 1\/2 .* 4\/10/);
});
