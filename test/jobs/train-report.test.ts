import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeEpoch, estimatingProgress } from '../../src/jobs/train-report.js';
import type { RunSetup } from '../../src/jobs/train-setup.js';

const epoch = {
  epoch: 2,
  trainLoss: -0.5,
  meanPseudoDice: null,
  emaPseudoDice: null,
  lr: 0.01,
  seconds: 3.2,
  pseudoDice: [],
};

test('epoch lines count from 1 as the progress bar does, and say nothing of a pseudo-Dice that was not measured', () => {
  const line = describeEpoch(epoch, 10);
  assert.equal(line, 'epoch 3/10: train loss -0.5000, lr 1.000e-2, 3.2 s');
  const withDice = describeEpoch({ ...epoch, meanPseudoDice: 0.5, emaPseudoDice: 0.25 }, 10);
  assert.match(withDice, /pseudo-Dice 0\.5000 \(EMA 0\.2500\)/);
});

test('the estimate times the iterations after the first, is logged once, and warns when the run takes days', () => {
  const s = {
    cfg: { epochs: 1000, itersPerEpoch: 250, valBatches: 50, initialLr: 0.01 },
  } as unknown as RunSetup;
  const lines: string[] = [];
  let t = 0;
  const events: string[] = [];
  const p = estimatingProgress(
    s,
    0,
    (l) => lines.push(l),
    (e) => events.push(e.stage),
    () => t,
  );
  p({ stage: 'preprocess', done: 1, total: 2 });
  t = 9000; // the first iteration is slow (loader start, warm-up) and is not timed
  p({ stage: 'epoch 1/1000', done: 1, total: 250 });
  for (let i = 2; i <= 7; i++) {
    t += 2000; // then 2 s per iteration: 550 s per epoch, 6.4 days
    p({ stage: 'epoch 1/1000', done: i, total: 250 });
  }
  assert.equal(events.length, 8, 'events pass through');
  assert.equal(lines.length, 2);
  assert.match(
    lines[0] ?? '',
    /^estimated: 2\.00 s per iteration, 9m10s per epoch, 6d08h for the 1000 epoch\(s\) to go$/,
  );
  assert.match(lines[1] ?? '', /^warning: this run takes about 6\.4 days/);
});
