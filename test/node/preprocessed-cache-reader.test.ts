import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { defaultAugmentationParams, type TrainingBatch } from '../../src/augmentation/pipeline.js';
import { WorkerBatchLoader } from '../../src/node/loader-workers.js';
import { readDatasetDir } from '../../src/node/dataset-files.js';
import {
  CachedCaseReader,
  CachedCaseSource,
  cachedCaseInfo,
  loadCachedCase,
  preprocessDatasetToCache,
} from '../../src/node/preprocessed-cache.js';
import { deepSupervisionScales } from '../../src/model/deep-supervision.js';
import { InlineBatchLoader, cropPadded, defaultLoaderConfig, makeBatch } from '../../src/training/loader.js';
import { Rng } from '../../src/util/random.js';
import { tempDir } from '../cli/cli-helpers.js';
import { syntheticCase, writeDataset } from '../planning/synthetic-dataset.js';
import { TWO_CHANNEL_PLANS as PLANS } from '../preprocessing/fixtures.js';

const KEYS = ['a', 'b', 'c'];

/** A 2-channel cache of three cases of about (14, 20, 16) voxels. */
function cache(): string {
  const root = join(tempDir(), 'Dataset005_Source');
  writeDataset(
    root,
    KEYS.map((k, i) => syntheticCase(k, i + 1, [20, 24, 16], 2)),
  );
  const { desc } = readDatasetDir(root);
  assert.ok(desc !== null);
  const out = join(tempDir(), 'cache');
  preprocessDatasetToCache(root, desc, PLANS, out);
  return out;
}

const dir = cache();
const memory = KEYS.map((k) => loadCachedCase(dir, k));
const infos = KEYS.map((k) => cachedCaseInfo(dir, k));
const disk = infos.map((i) => new CachedCaseSource(i));
const cfg = defaultLoaderConfig(
  [8, 8, 8],
  3,
  defaultAugmentationParams([8, 8, 8]),
  deepSupervisionScales([
    [2, 2, 2],
    [2, 2, 2],
  ]),
);

function assertSameBatch(got: TrainingBatch, exp: TrainingBatch, what: string): void {
  assert.deepEqual(got.keys, exp.keys, what);
  assert.deepEqual(got.shapeBCZYX, exp.shapeBCZYX, what);
  assert.ok(Buffer.from(got.data.buffer).equals(Buffer.from(exp.data.buffer)), `${what}: data differs`);
  assert.deepEqual(
    got.targets.map((t) => Array.from(t.data)),
    exp.targets.map((t) => Array.from(t.data)),
    what,
  );
}

test('disk source: random boxes (row reads and block reads, past every border) equal cropPadded', () => {
  const rng = new Rng(3);
  const reader = new CachedCaseReader(dir, 'b', 0); // one read per row unless the box spans whole rows
  const [c, d] = [memory[1], disk[1]];
  assert.ok(c !== undefined && d !== undefined);
  assert.deepEqual(d.shapeZYX, c.shapeZYX);
  try {
    for (let i = 0; i < 200; i++) {
      const size = [0, 1, 2].map(() => 1 + Math.floor(rng.next() * 24)) as [number, number, number];
      const lower = [0, 1, 2].map(
        (d) =>
          Math.floor(rng.next() * ((c.shapeZYX[d] as number) + 16)) - 8 - Math.floor((size[d] as number) / 2),
      ) as [number, number, number];
      const ref = cropPadded(c, lower, size);
      for (const got of [reader.readBox(lower, size), d.readBox(lower, size)]) {
        assert.deepEqual(got.data, ref.data, `data at ${lower.join(',')} size ${size.join(',')}`);
        assert.deepEqual(got.seg, ref.seg, `seg at ${lower.join(',')} size ${size.join(',')}`);
      }
    }
  } finally {
    reader.close();
  }
  const flat = (m: ReadonlyMap<number, ArrayLike<number>>): [number, number[]][] =>
    [...m].map(([k, v]) => [k, Array.from(v)]);
  for (const [i, source] of disk.entries()) {
    const m = memory[i];
    assert.ok(m !== undefined);
    assert.deepEqual(flat(source.classLocations()), flat(m.classLocations));
  }
});

test('disk source: the same batches as the cases in memory, inline and from worker threads', async () => {
  const valCfg = defaultLoaderConfig([8, 8, 8], 2, null, []);
  for (let b = 0; b < 6; b++) {
    assertSameBatch(makeBatch(disk, cfg, 9, b), makeBatch(memory, cfg, 9, b), `train batch ${b}`);
    assertSameBatch(makeBatch(disk, valCfg, 9, b), makeBatch(memory, valCfg, 9, b), `val batch ${b}`);
  }
  const inline = new InlineBatchLoader(memory, cfg, 4, 1);
  const loader = WorkerBatchLoader.create({ cases: infos, config: cfg, seed: 4, workers: 2, startBatch: 1 });
  try {
    for (let b = 1; b < 6; b++) assertSameBatch(await loader.next(), inline.nextSync(), `worker batch ${b}`);
  } finally {
    await loader.close();
  }
});
