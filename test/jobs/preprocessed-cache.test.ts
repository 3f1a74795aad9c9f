import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readDatasetDir } from '../../src/node/dataset-files.js';
import { removeStaleTemps } from '../../src/node/fs.js';
import {
  CachedCaseReader,
  loadCachedCase,
  preprocessDatasetToCache,
} from '../../src/node/preprocessed-cache.js';
import { plansIdentifier, sampleClassLocations } from '../../src/preprocessing/cache.js';
import { cropPadded } from '../../src/training/loader.js';
import { Rng } from '../../src/util/random.js';
import { tempDir } from '../cli/cli-helpers.js';
import { syntheticCase, writeDataset } from '../planning/synthetic-dataset.js';
import { TWO_CHANNEL_PLANS as PLANS } from '../preprocessing/fixtures.js';

function dataset(): string {
  const root = join(tempDir(), 'Dataset001_Cache');
  writeDataset(root, [syntheticCase('a', 1, [20, 24, 16], 2), syntheticCase('b', 2, [20, 24, 16], 2)]);
  return root;
}

test('cache: writes raw arrays + properties, skips done cases, redoes them for other plans', () => {
  const root = dataset();
  const { desc } = readDatasetDir(root);
  assert.ok(desc !== null);
  const out = join(tempDir(), 'cache');
  const r1 = preprocessDatasetToCache(root, desc, PLANS, out);
  assert.deepEqual([r1.made, r1.skipped], [2, 0]);
  assert.deepEqual(readdirSync(out).sort(), [
    'a.f32',
    'a.i8',
    'a.json',
    'b.f32',
    'b.i8',
    'b.json',
    'cache.json',
  ]);
  const r2 = preprocessDatasetToCache(root, desc, PLANS, out);
  assert.deepEqual([r2.made, r2.skipped], [0, 2]);
  const other = { ...PLANS, targetSpacing: [2, 2, 2] as const };
  assert.notEqual(plansIdentifier(other), plansIdentifier(PLANS));
  const r3 = preprocessDatasetToCache(root, desc, other, out);
  assert.deepEqual([r3.made, r3.skipped], [2, 0]);
  const c = loadCachedCase(out, 'a');
  // the body of case a (seed 1): k 1…14, j 2…22, i 2…17 → (14, 21, 16) voxels of 1 mm → at 2 mm
  // round-half-even (7, 10.5, 8) = (7, 10, 8)
  assert.deepEqual(c.shapeZYX, [7, 10, 8]);
  assert.equal(c.channels, 2);
});

test('cache: leftovers of a killed writer are removed, temporary files of a live one are kept', () => {
  const root = dataset();
  const { desc } = readDatasetDir(root);
  assert.ok(desc !== null);
  const out = join(tempDir(), 'cache');
  mkdirSync(out, { recursive: true });
  const gone = spawnSync(process.execPath, ['-e', '']).pid; // exited: its pid is free
  const dead = `.a.f32.${gone}-0123abcd.tmp`;
  const live = `.b.f32.${process.pid}-89abcdef.tmp`; // a run sharing the cache, still writing
  const foreign = '.notes.txt.tmp';
  for (const n of [dead, live, foreign]) writeFileSync(join(out, n), 'partial');
  preprocessDatasetToCache(root, desc, PLANS, out);
  const names = readdirSync(out);
  assert.ok(!names.includes(dead), 'the dead writer’s file is removed');
  assert.ok(names.includes(live) && names.includes(foreign));
  assert.equal(removeStaleTemps(join(out, 'absent')), 0);
});

test('cache: readBox reads the same box as cropPadded on the loaded case, also past the border', () => {
  const root = dataset();
  const { desc } = readDatasetDir(root);
  assert.ok(desc !== null);
  const out = join(tempDir(), 'cache');
  preprocessDatasetToCache(root, desc, PLANS, out);
  const whole = loadCachedCase(out, 'b');
  const reader = new CachedCaseReader(out, 'b');
  try {
    for (const lower of [
      [0, 0, 0],
      [-3, 4, -2],
      [5, -6, 9],
      [100, 0, 0],
    ] as const) {
      const box = reader.readBox(lower, [8, 9, 10]);
      const ref = cropPadded(whole, lower, [8, 9, 10]);
      assert.deepEqual(box.data, ref.data, `data at ${lower.join(',')}`);
      assert.deepEqual(box.seg, ref.seg, `seg at ${lower.join(',')}`);
    }
  } finally {
    reader.close();
  }
  // seg −1 outside the crop only where the body was cropped away; labels 1 and 2 have locations
  for (const k of [1, 2]) {
    const locs = whole.classLocations.get(k) ?? [];
    assert.ok(locs.length >= 3, `class ${k} has locations`);
    const [, Y, X] = whole.shapeZYX;
    for (let i = 0; i < locs.length; i += 3) {
      const v = ((locs[i] as number) * Y + (locs[i + 1] as number)) * X + (locs[i + 2] as number);
      assert.equal(whole.seg[v], k);
    }
  }
});

test('class locations: min(10000, n) but at least 1 % of the class, without replacement, seeded', () => {
  const shape = [10, 100, 100] as const;
  const seg = new Int8Array(100000);
  seg.fill(1, 0, 50000);
  seg.fill(2, 50000, 50005);
  const a = sampleClassLocations(seg, shape, [1, 2], new Rng(3));
  const b = sampleClassLocations(seg, shape, [1, 2], new Rng(3));
  assert.deepEqual(a, b);
  assert.equal((a['1'] ?? []).length / 3, 10000);
  assert.equal((a['2'] ?? []).length / 3, 5);
  const flat = new Set<number>();
  const l = a['1'] ?? [];
  for (let i = 0; i < l.length; i += 3)
    flat.add(((l[i] as number) * 100 + (l[i + 1] as number)) * 100 + (l[i + 2] as number));
  assert.equal(flat.size, 10000);
  const big = new Int8Array(2_000_000).fill(1);
  const c = sampleClassLocations(big, [200, 100, 100], [1], new Rng(1));
  assert.equal((c['1'] ?? []).length / 3, 20000);
});
