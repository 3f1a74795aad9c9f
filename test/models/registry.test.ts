import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadNnunetV1 } from '../../src/checkpoint/nnunet-read.js';
import { labelNames } from '../../src/io/labels/index.js';
import { countModel } from '../../src/model/counting.js';
import { scaleArchitecture, TOTALSEG_POOLS } from '../../src/model/scales.js';
import { embeddedBytes } from '../../src/models/plan-files.js';
import { REGISTRY, findRegistryModel, sniffCheckpoint, sourceUrl } from '../../src/models/registry.js';
import { tempDir } from '../cli/cli-helpers.js';
import { writeTinyV1 } from './helpers.js';

test('registry: the four released scales with parameters as our network counts them, 105 classes, stunet104 labels', () => {
  assert.deepEqual(
    REGISTRY.map((m) => [m.name, m.scale, m.checkpoint.file]),
    [
      ['STU-Net-S', 'S', 'small_ep4k.model'],
      ['STU-Net-B', 'B', 'base_ep4k.model'],
      ['STU-Net-L', 'L', 'large_ep4k.model'],
      ['STU-Net-H', 'H', 'huge_ep4k.model'],
    ],
  );
  for (const m of REGISTRY) {
    assert.equal(m.parameters, countModel(scaleArchitecture(m.scale), [128, 128, 128]).parameters, m.name);
    assert.equal(labelNames(m.labels).length, m.numClasses);
    assert.equal(m.trainer, `STUNetTrainer_${m.checkpoint.file.split('_')[0] ?? ''}`);
    assert.ok(m.sources.some((s) => s.kind === 'huggingface'));
  }
  // only S has a published size and hash; the estimate of the others is 8 bytes per parameter
  const [small] = REGISTRY;
  assert.ok(small);
  assert.equal(small.checkpoint.bytes, 117_497_661);
  assert.match(String(small.checkpoint.sha256), /^[0-9a-f]{64}$/);
  assert.deepEqual(
    REGISTRY.slice(1).map((m) => [m.checkpoint.sha256, m.estimatedBytes]),
    REGISTRY.slice(1).map((m) => [null, m.parameters * 8]),
  );
});

test('registry: names, aliases and scale letters in any case; nothing else', () => {
  for (const [arg, name] of [
    ['S', 'STU-Net-S'],
    ['s', 'STU-Net-S'],
    ['base', 'STU-Net-B'],
    ['large_ep4k.model', 'STU-Net-L'],
    ['stu-net-h', 'STU-Net-H'],
    ['huge_ep4k', 'STU-Net-H'],
  ] as const)
    assert.equal(findRegistryModel(arg)?.name, name, arg);
  for (const arg of ['X', 'STU-Net', 'model.model', ''] as const)
    assert.equal(findRegistryModel(arg), null, arg);
});

test('registry: embedded plans files are the released bytes (sha256) and give the released pools', () => {
  for (const m of REGISTRY) {
    const bytes = embeddedBytes(m.plansFile.embedded);
    assert.equal(bytes.length, m.plansFile.embedded.bytes);
    assert.equal(createHash('sha256').update(bytes).digest('hex'), m.plansFile.embedded.sha256, m.name);
  }
  // An official-format checkpoint with the released S plans file: pools and patch from the plans.
  const ckpt = readFileSync(writeTinyV1(tempDir()));
  const model = loadNnunetV1(ckpt, embeddedBytes(REGISTRY[0]?.plansFile.embedded ?? assert.fail()), 'tiny');
  assert.deepEqual(model.arch.poolOpKernelSizes, TOTALSEG_POOLS);
  assert.deepEqual(model.meta.patchSizeZYX, [128, 128, 128]);
  assert.equal(model.meta.trainerName, 'STUNetTrainer_small');
  // and the file names of the four differ only in the trainer they name
  assert.equal(new Set(REGISTRY.map((m) => m.plansFile.embedded.sha256)).size, 4);
  assert.equal(REGISTRY[3]?.plansFile.file, 'huge_ep4k.model.pkl');
});

test('registry: source URLs (Hugging Face endpoint replaceable, Baidu by hand only)', () => {
  const [hf, drive, baidu] = REGISTRY[2]?.sources ?? [];
  assert.ok(hf && drive && baidu);
  assert.equal(sourceUrl(hf), 'https://huggingface.co/ziyanhuang/STU-Net/resolve/main/large_ep4k.model');
  assert.equal(
    sourceUrl(hf, 'http://127.0.0.1:9/'),
    'http://127.0.0.1:9/ziyanhuang/STU-Net/resolve/main/large_ep4k.model',
  );
  assert.match(
    sourceUrl(drive) ?? '',
    /^https:\/\/drive\.usercontent\.google\.com\/download\?id=1KA1eXWWf_xAoJg5KHYrxTmfiz7wxGhHS&/,
  );
  assert.equal(sourceUrl(baidu), null);
});

test('sniffCheckpoint: zip and pickle checkpoints, HTML pages, anything else', () => {
  const b = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
  assert.equal(sniffCheckpoint(b('PK\x03\x04rest')), 'zip');
  assert.equal(sniffCheckpoint(b('\x80\x02\x8a\x0al')), 'pickle');
  assert.equal(sniffCheckpoint(b('\n  <!DOCTYPE html><html>')), 'html');
  assert.equal(sniffCheckpoint(b('\xEF\xBB\xBF<html>')), 'html');
  assert.equal(sniffCheckpoint(b('%PDF-1.4')), 'unknown'); // STU-Net #7: "invalid load key '%'"
  assert.equal(sniffCheckpoint(b('')), 'unknown');
});
