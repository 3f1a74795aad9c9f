/**
 * Issue 15, item 2: a released-size checkpoint (zip64, past 4 GiB, most of it optimizer state) is read
 * with bounded memory: the zip directory, the pickle and the weights only, piece by piece.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { torchV1Value } from '../../src/checkpoint/nnunet-write.js';
import type { SaveValue } from '../../src/checkpoint/pickle-writer.js';
import { PyDict } from '../../src/checkpoint/py-values.js';
import { ZipReader } from '../../src/checkpoint/zip.js';
import { defaultMeta, type LoadedModel } from '../../src/model/loaded-model.js';
import { initWeightsHe } from '../../src/model/init.js';
import { StuNet } from '../../src/model/stunet.js';
import { saveTorchFile } from '../../src/node/checkpoint-file.js';
import { readRange } from '../../src/node/fs.js';
import { tinyArchitecture } from '../helpers.js';
import { ROOT, tempDir } from '../cli/cli-helpers.js';

const GiB = 2 ** 30;

test('a 4.6 GB zip64 v1 checkpoint loads its weights with a peak RSS far below the file size', () => {
  const arch = tinyArchitecture(3);
  const model: LoadedModel = { arch, weights: initWeightsHe(new StuNet(arch), 7), meta: defaultMeta() };
  const { value, pkl } = torchV1Value(model);
  // Four 1.08 GiB momentum-like buffers over one lazily zeroed buffer (never touched, so never resident),
  // saved before the state dict: the weights then lie past 4 GiB, behind zip64 offsets.
  const zeros = new Float32Array((1.08 * GiB) / 4);
  const state = new PyDict<SaveValue>(false);
  for (let i = 0; i < 4; i++)
    state.set(
      i,
      PyDict.ordered<SaveValue>([
        ['momentum_buffer', { dtype: 'float32', shape: [zeros.length], data: zeros }],
      ]),
    );
  const ckpt = value as PyDict;
  const big = PyDict.ordered<SaveValue>([
    ['optimizer_state_dict', PyDict.ordered<SaveValue>([['state', state]])],
    ...[...ckpt].filter(([k]) => k !== 'optimizer_state_dict'),
  ]);
  const dir = tempDir();
  const path = join(dir, 'big.model');
  try {
    saveTorchFile(path, big);
    writeFileSync(`${path}.pkl`, pkl);
    const size = statSync(path).size;
    assert.ok(size > 4.25 * GiB, `${size} bytes`);
    const zip = new ZipReader({ size, read: (o, n) => readRange(path, o, n) });
    // Entries are in name order (data/0, data/1, data/10, …, data/3, data/30, …): those after the last
    // buffer (key 3) are weights beyond 4 GiB.
    const beyond = zip.entries.filter((e) => {
      const key = /\/data\/(\d+)$/.exec(e.name)?.[1];
      return key !== undefined && Number(key) >= 4 && e.localHeaderOffset > 4 * GiB;
    });
    assert.ok(beyond.length >= 5, `${beyond.length} weight records lie behind zip64 offsets`);

    const script = `
      import { loadModelFrom } from './src/node/model-source.ts';
      const m = loadModelFrom(${JSON.stringify(path)});
      const sum = [...m.weights.values()].reduce((a, t) => a + t.data.reduce((x, y) => x + y, 0), 0);
      console.log(JSON.stringify({ keys: m.weights.size, sum, maxRssBytes: process.resourceUsage().maxRSS * 1024 }));
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as {
      keys: number;
      sum: number;
      maxRssBytes: number;
    };
    const expectedSum = [...model.weights.values()].reduce(
      (a, t) => a + t.data.reduce((x, y) => x + y, 0),
      0,
    );
    assert.equal(out.keys, model.weights.size);
    assert.equal(out.sum, expectedSum);
    assert.ok(
      out.maxRssBytes < 0.5 * GiB,
      `peak RSS ${(out.maxRssBytes / 2 ** 20).toFixed(0)} MiB for a ${(size / GiB).toFixed(1)} GiB file`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
