import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultAugmentationParams } from '../../src/augmentation/pipeline.js';
import { WorkerBatchLoader, shareCases } from '../../src/node/loader-workers.js';
import { deepSupervisionScales } from '../../src/model/deep-supervision.js';
import { InlineBatchLoader, defaultLoaderConfig } from '../../src/training/loader.js';
import { syntheticCase } from '../augmentation/synthetic.js';

const cases = [syntheticCase('a', [20, 20, 20], 2), syntheticCase('b', [16, 20, 24], 2)];
const cfg = defaultLoaderConfig(
  [8, 8, 8],
  3,
  defaultAugmentationParams([8, 8, 8]),
  deepSupervisionScales([
    [2, 2, 2],
    [2, 2, 2],
  ]),
);

test('worker loader: the same batches as the inline loader, for 1 and 3 workers, in order', async () => {
  const inline = new InlineBatchLoader(cases, cfg, 7, 2);
  const expected = Array.from({ length: 6 }, () => inline.nextSync());
  for (const workers of [1, 3]) {
    const loader = WorkerBatchLoader.create({
      cases,
      config: cfg,
      seed: 7,
      workers,
      startBatch: 2,
      prefetch: 4,
    });
    try {
      for (const exp of expected) {
        const got = await loader.next();
        assert.deepEqual(got.shapeBCZYX, exp.shapeBCZYX);
        assert.deepEqual(got.data, exp.data, `workers ${workers}`);
        assert.deepEqual(
          got.targets.map((t) => Array.from(t.data)),
          exp.targets.map((t) => Array.from(t.data)),
        );
        assert.deepEqual(got.keys, exp.keys);
      }
    } finally {
      await loader.close();
    }
  }
});

test('worker loader: errors reach next() as StunetError; closed loaders refuse', async () => {
  const bad = [{ ...syntheticCase('bad', [6, 6, 6]), data: new Float32Array(3) }];
  const loader = WorkerBatchLoader.create({ cases: bad, config: cfg, seed: 1, workers: 1 });
  await assert.rejects(loader.next(), /batch 0: case bad/);
  await loader.close();
  await assert.rejects(loader.next(), /closed/);
});

test('shareCases: arrays move to SharedArrayBuffers with the same contents', () => {
  const [s] = shareCases([cases[0] ?? syntheticCase('x', [2, 2, 2])]);
  assert.ok(s?.data.buffer instanceof SharedArrayBuffer);
  assert.ok(s.seg.buffer instanceof SharedArrayBuffer);
  assert.deepEqual(Array.from(s.seg), Array.from(cases[0]?.seg ?? []));
});
