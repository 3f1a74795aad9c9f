/**
 * Kill -9 during `stunet train`, then `--continue`: the per-epoch log and the final weights equal an
 * uninterrupted run with the same seed, and no temporary or partial file is left behind. The kills hit
 * a random moment after a checkpoint, the creation of a checkpoint's `.partial` folder (mid-write), and
 * the creation of a temporary file (mid atomic write of log.jsonl / progress.png).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, watch } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { syntheticCase, writeDataset } from '../planning/synthetic-dataset.js';
import { runCli, tempDir } from './cli-helpers.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const EPOCHS = 8;
const ARGS = [
  ...['--scale', 'S', '--depth', '1,1,1', '--dims', '4,8,16', '--pool', '2,2,2/2,2,2'],
  ...['--patch', '16,16,16', '--batch', '2', '--epochs', String(EPOCHS), '--iters', '4'],
  ...['--val-batches', '1', '--backend', 'wasm', '--threads', '1', '--fingerprint-samples', 'all'],
  ...['--no-final-validation', '--seed', '11'],
];

type Trigger = 'random' | 'checkpoint-write' | 'temp-file';

/** Epochs completed in checkpoint_latest (or its .old twin), −1 when there is none yet. */
function checkpointEpoch(fold: string): number {
  for (const name of ['checkpoint_latest', 'checkpoint_latest.old']) {
    try {
      const s = JSON.parse(readFileSync(join(fold, name, 'trainer_state.json'), 'utf8')) as { epoch: number };
      return s.epoch;
    } catch {
      // absent, or just being moved
    }
  }
  return -1;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Starts the CLI and SIGKILLs it: 'random' at a random moment once checkpoint_latest holds more than
 * `after` epochs,
 * the others as soon as the fold folder sees a `.partial` folder or a `.tmp` file appear. Returns how
 * the kill went (for diagnostics).
 */
async function trainAndKill(args: string[], fold: string, after: number, trigger: Trigger): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'index.ts'), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((res) => {
    child.on('exit', (code, signal) => {
      res({ code, signal });
    });
  });
  const run = { done: false };
  void exited.then(() => {
    run.done = true;
  });
  let how = '';
  if (trigger === 'random') {
    while (!run.done && checkpointEpoch(fold) <= after) await sleep(5);
    const delay = Math.floor(Math.random() * 400);
    await sleep(delay);
    how = `random, ${delay} ms after a checkpoint of more than ${Math.max(0, after)} epoch(s)`;
    child.kill('SIGKILL');
  } else {
    // the fold folder exists: an earlier round wrote a checkpoint into it
    const want = trigger === 'checkpoint-write' ? /\.partial$/ : /\.tmp$/;
    await new Promise<void>((res) => {
      const w = watch(fold, (_event, name) => {
        if (name === null || !want.test(name)) return;
        child.kill('SIGKILL');
        how = `on '${name}'`;
        w.close();
        res();
      });
      void exited.then(() => {
        w.close();
        res();
      });
    });
  }
  const r = await exited;
  assert.equal(r.signal, 'SIGKILL', `the run ended before the kill (${trigger}): ${stderr}`);
  return `${how}; left: ${readdirSync(fold).sort().join(', ')}`;
}

/** log.jsonl without the wall-clock seconds. */
function losses(fold: string): Record<string, unknown>[] {
  return readFileSync(join(fold, 'log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => Object.fromEntries(Object.entries(JSON.parse(l) as object).filter(([k]) => k !== 'seconds')));
}

test('train: kill -9 (random moment, mid-checkpoint, mid-write) then --continue equals a straight run', async (t) => {
  const ds = join(tempDir(), 'Dataset004_Kill');
  writeDataset(
    ds,
    Array.from({ length: 5 }, (_, i) => syntheticCase(`c${i}`, i + 1, [24, 24, 24])),
  );
  const straight = join(tempDir(), 'straight');
  const a = runCli(['train', '--dataset', ds, ...ARGS, '--workers', '0', '-o', straight]);
  assert.equal(a.status, 0, a.stderr);

  const out = join(tempDir(), 'killed');
  const fold = join(out, 'fold_0');
  // the killed runs use a worker loader: the batch stream must not depend on it
  const args = ['train', '--dataset', ds, ...ARGS, '--workers', '1', '-o', out];
  const rounds: Trigger[] = ['random', 'checkpoint-write', 'temp-file', 'random'];
  for (const [i, trigger] of rounds.entries()) {
    const before = checkpointEpoch(fold);
    const how = await trainAndKill(i === 0 ? args : [...args, '--continue'], fold, before, trigger);
    t.diagnostic(`kill ${i + 1} (${trigger}): ${how}; checkpoint epoch ${checkpointEpoch(fold)}`);
    assert.ok(checkpointEpoch(fold) >= 1, 'a killed run left no usable checkpoint_latest');
    assert.ok(checkpointEpoch(fold) < EPOCHS, 'the run finished before it was killed');
  }
  const b = runCli([...args, '--continue']);
  assert.equal(b.status, 0, b.stderr);
  assert.match(b.stdout, /continuing after epoch \d+\/\d+/);

  const straightFold = join(straight, 'fold_0');
  assert.deepEqual(losses(fold), losses(straightFold));
  assert.equal(losses(fold).length, EPOCHS);
  for (const f of ['weights.safetensors', 'optimizer.safetensors']) {
    const x = readFileSync(join(fold, 'checkpoint_final', f));
    assert.ok(x.equals(readFileSync(join(straightFold, 'checkpoint_final', f))), `${f} differs`);
  }
  // nothing half-written left behind: no .partial/.old folder, no temporary file
  assert.deepEqual(readdirSync(fold).sort(), [
    'checkpoint_best',
    'checkpoint_final',
    'checkpoint_latest',
    'log.jsonl',
    'progress.png',
  ]);
  assert.deepEqual(
    readdirSync(out).filter((n) => n.endsWith('.tmp')),
    [],
  );
  assert.ok(!existsSync(join(fold, 'checkpoint_latest.partial')));
});
