import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { initWeightsHe } from '../../src/model/init.js';
import { defaultMeta } from '../../src/model/loaded-model.js';
import { StuNet } from '../../src/model/stunet.js';
import { checkpointDir, removeLeftovers, saveCheckpoint } from '../../src/jobs/train-checkpoints.js';
import { nodeStore } from '../../src/node/file-store.js';
import { initialTrainerState, parseTrainerState } from '../../src/training/checkpointing.js';
import { niceStep, renderCurve } from '../../src/training/curve.js';
import { SgdOptimizer } from '../../src/training/optimizer.js';
import { decodePng } from '../../src/io/png.js';
import { tempDir } from '../cli/cli-helpers.js';

const arch = {
  inputChannels: 1,
  numClasses: 2,
  depth: [1, 1],
  dims: [2, 4],
  poolOpKernelSizes: [[2, 2, 2]] as [number, number, number][],
  convKernelSizes: [
    [3, 3, 3],
    [3, 3, 3],
  ] as [number, number, number][],
};

test('checkpoints: folder swap leaves no partial folder; a crash between the moves falls back to .old', () => {
  const fold = tempDir();
  const model = { arch, weights: initWeightsHe(new StuNet(arch), 0), meta: defaultMeta() };
  const s0 = initialTrainerState(3, 2, 1);
  saveCheckpoint(nodeStore, fold, 'checkpoint_latest', model, new SgdOptimizer(), s0);
  saveCheckpoint(nodeStore, fold, 'checkpoint_latest', model, new SgdOptimizer(), { ...s0, epoch: 1 });
  assert.deepEqual(readdirSync(fold), ['checkpoint_latest']);
  const dir = checkpointDir(nodeStore, fold, 'checkpoint_latest');
  assert.equal(parseTrainerState(readFileSync(join(dir, 'trainer_state.json'), 'utf8')).epoch, 1);
  // simulate a kill after "move the old one away" and before "move the new one in"
  renameSync(join(fold, 'checkpoint_latest'), join(fold, 'checkpoint_latest.old'));
  mkdirSync(join(fold, 'checkpoint_latest.partial'));
  assert.equal(checkpointDir(nodeStore, fold, 'checkpoint_latest'), join(fold, 'checkpoint_latest.old'));
  saveCheckpoint(nodeStore, fold, 'checkpoint_latest', model, new SgdOptimizer(), { ...s0, epoch: 2 });
  assert.ok(!existsSync(join(fold, 'checkpoint_latest.partial')));
  assert.throws(() => checkpointDir(nodeStore, fold, 'checkpoint_best'), /no checkpoint_best/);
});

test('leftovers of a killed run: temporaries and .partial go, a lone .old moves back, a stale .old goes', () => {
  const fold = tempDir();
  const model = { arch, weights: initWeightsHe(new StuNet(arch), 0), meta: defaultMeta() };
  const s0 = initialTrainerState(3, 2, 1);
  saveCheckpoint(nodeStore, fold, 'checkpoint_latest', model, new SgdOptimizer(), { ...s0, epoch: 2 });
  saveCheckpoint(nodeStore, fold, 'checkpoint_best', model, new SgdOptimizer(), { ...s0, epoch: 1 });
  // killed between the moves of checkpoint_latest, and after the second move of checkpoint_best
  renameSync(join(fold, 'checkpoint_latest'), join(fold, 'checkpoint_latest.old'));
  mkdirSync(join(fold, 'checkpoint_latest.partial'));
  cpSync(join(fold, 'checkpoint_best'), join(fold, 'checkpoint_best.old'), { recursive: true });
  writeFileSync(join(fold, '.log.jsonl.0123abcd.tmp'), '{"epoch"');
  mkdirSync(join(fold, 'validation'));
  writeFileSync(join(fold, 'validation', '.summary.json.0123abcd.tmp'), '');
  writeFileSync(join(fold, 'log.jsonl'), '');
  removeLeftovers(nodeStore, fold);
  assert.deepEqual(readdirSync(fold).sort(), [
    'checkpoint_best',
    'checkpoint_latest',
    'log.jsonl',
    'validation',
  ]);
  assert.deepEqual(readdirSync(join(fold, 'validation')), []);
  const dir = checkpointDir(nodeStore, fold, 'checkpoint_latest');
  assert.equal(dir, join(fold, 'checkpoint_latest'));
  assert.equal(parseTrainerState(readFileSync(join(dir, 'trainer_state.json'), 'utf8')).epoch, 2);
  removeLeftovers(nodeStore, join(fold, 'absent')); // quiet when there is nothing
});

test('curve: a PNG with the three series drawn in their colours', () => {
  const log = [0, 1, 2].map((epoch) => ({
    epoch,
    trainLoss: 1 - epoch * 0.3,
    pseudoDice: [0.2 * epoch],
    meanPseudoDice: 0.2 * epoch,
    emaPseudoDice: 0.1 * epoch,
    lr: 0.01,
    seconds: 1,
  }));
  const png = decodePng(renderCurve(log, 200, 100));
  // below the legend swatches (rows 6…15): only the plotted lines carry these colours
  const colours = new Set<string>();
  for (let i = 20 * png.width; i < png.width * png.height; i++)
    colours.add(Array.from(png.rgba.subarray(i * 4, i * 4 + 3)).join(','));
  for (const c of ['31,119,180', '44,160,44', '214,39,40']) assert.ok(colours.has(c), c);
});

test('curve: tick labels on both axes, epoch labels and a legend in text', () => {
  const log = Array.from({ length: 30 }, (_, epoch) => ({
    epoch,
    trainLoss: -0.2 - epoch * 0.02,
    pseudoDice: [epoch / 30],
    meanPseudoDice: epoch / 30,
    emaPseudoDice: epoch / 40,
    lr: 0.01,
    seconds: 1,
  }));
  const png = decodePng(renderCurve(log, 640, 360));
  const ink = (x0: number, y0: number, x1: number, y1: number): number => {
    let n = 0;
    for (let y = y0; y < y1; y++)
      for (let x = x0; x < x1; x++) {
        const o = (y * png.width + x) * 4;
        if (png.rgba[o] === 60 && png.rgba[o + 1] === 60 && png.rgba[o + 2] === 60) n++;
      }
    return n;
  };
  assert.ok(ink(0, 24, 44, 330) > 50, 'loss tick labels left of the plot');
  assert.ok(ink(604, 20, 640, 334) > 50, 'Dice tick labels right of the plot');
  assert.ok(ink(40, 334, 604, 348) > 30, 'epoch labels under the plot');
  assert.ok(ink(48, 6, 400, 16) > 50, 'legend text');
  assert.equal(ink(52, 40, 596, 320), 0, 'no text inside the plot');
  assert.equal(niceStep(29, 11), 5);
  assert.equal(niceStep(0.7, 5), 0.2);
  assert.equal(niceStep(0, 5), 1);
});
