import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { embeddedBytes } from '../../src/models/plan-files.js';
import { REGISTRY, type RegistryModel } from '../../src/models/registry.js';
import {
  listModels,
  modelPath,
  readManifest,
  resolveModelArg,
  verifyModels,
} from '../../src/node/model-cache.js';
import { downloadModel, installModel } from '../../src/node/model-install.js';
import { loadModelFrom, saveModelFolder } from '../../src/node/model-source.js';
import { StunetError } from '../../src/util/errors.js';
import { tempDir } from '../cli/cli-helpers.js';
import { serve, tinyModel, writeTinyV1 } from '../models/helpers.js';

const throwsCode = (fn: () => unknown, code: string, pattern: RegExp): void => {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof StunetError, String(e));
    assert.equal(e.code, code);
    assert.match(e.message, pattern);
    return true;
  });
};

/** Only the model folders (no staging or .old leftovers) under <home>/models. */
const modelFolders = (home: string): string[] =>
  existsSync(join(home, 'models')) ? readdirSync(join(home, 'models')).sort() : [];

test('install: a v1 checkpoint with its .pkl under a name; -m <name> loads it; list, path, verify', () => {
  const home = tempDir();
  const ckpt = writeTinyV1(tempDir());
  const r = installModel(ckpt, { home, name: 'tiny' });
  assert.equal(r.path, join(home, 'models', 'tiny', 'tiny.model'));
  assert.deepEqual(modelFolders(home), ['tiny']);
  const entry = readManifest(home).models['tiny'];
  assert.deepEqual(Object.keys(entry?.files ?? {}).sort(), ['tiny.model', 'tiny.model.pkl']);
  assert.equal(
    entry?.files['tiny.model']?.sha256,
    createHash('sha256').update(readFileSync(ckpt)).digest('hex'),
  );
  assert.equal(resolveModelArg('tiny', { home }), r.path);
  assert.equal(modelPath('tiny', { home }), r.path);
  const row = listModels({ home }).find((m) => m.name === 'tiny');
  assert.deepEqual([row?.cached, row?.kind, row?.path], [true, 'installed', r.path]);
  assert.deepEqual(
    listModels({ home })
      .filter((m) => m.kind === 'registry')
      .map((m) => m.cached),
    [false, false, false, false],
  );
  assert.deepEqual(verifyModels(undefined, { home }), [{ name: 'tiny', path: r.path, problems: [] }]);
});

test('-m: a name resolves through $STUNET_HOME in loadModelFrom; an existing path wins over a name', () => {
  const home = tempDir();
  installModel(writeTinyV1(tempDir()), { home, name: 'tiny' });
  const cwd = process.cwd();
  const saved = process.env['STUNET_HOME'];
  process.env['STUNET_HOME'] = home;
  const work = tempDir();
  try {
    process.chdir(work);
    assert.deepEqual(loadModelFrom('tiny').arch.dims, [2, 2, 2, 2, 2, 2]);
    saveModelFolder(join(work, 'tiny'), tinyModel(3)); // a folder called like the cached model
    assert.deepEqual(loadModelFrom('tiny').arch.dims, [3, 3, 3, 3, 3, 3]);
    assert.equal(resolveModelArg('tiny'), 'tiny');
  } finally {
    process.chdir(cwd);
    if (saved === undefined) delete process.env['STUNET_HOME'];
    else process.env['STUNET_HOME'] = saved;
  }
});

test('-m: a registry name not cached says how to get it; an unknown missing name is left to the loader', () => {
  const home = tempDir();
  throwsCode(
    () => resolveModelArg('L', { home }),
    'NOT_FOUND',
    /STU-Net-L \(large_ep4k\.model, ≈.*GiB\) is not in the model cache/,
  );
  throwsCode(
    () => resolveModelArg('large', { home }),
    'NOT_FOUND',
    /stunet models download L'.*drive\.google\.com.*pan\.baidu\.com.*models install <file> --name STU-Net-L/,
  );
  assert.equal(resolveModelArg('no-such-model.pth', { home }), 'no-such-model.pth');
  throwsCode(() => modelPath('nope', { home }), 'NOT_FOUND', /no model named 'nope'/);
});

test('install: checks that it loads as an STU-Net and, under a registry name, that it is that model; nothing left on failure', () => {
  const home = tempDir();
  const dir = tempDir();
  const junk = join(dir, 'junk.pth');
  writeFileSync(junk, 'PK\x03\x04 not really a zip');
  throwsCode(
    () => installModel(junk, { home, name: 'junk' }),
    'BAD_INPUT',
    /'.*junk\.pth' does not load as an STU-Net/,
  );
  const html = join(dir, 'page.pth');
  writeFileSync(html, '<!DOCTYPE html><html></html>');
  throwsCode(
    () => installModel(html, { home, name: 'page' }),
    'BAD_INPUT',
    /does not load as an STU-Net: .*not a PyTorch checkpoint/,
  );
  const lonely = join(dir, 'lonely.model');
  copyFileSync(writeTinyV1(dir), lonely);
  throwsCode(
    () => installModel(lonely, { home, name: 'lonely' }),
    'NOT_FOUND',
    /needs its plans file '.*lonely\.model\.pkl'/,
  );
  // a bare .model named like a release: the embedded plans file is used, then the scale is checked
  const bare = join(dir, 'base_ep4k.model');
  copyFileSync(writeTinyV1(dir), bare);
  throwsCode(
    () => installModel(bare, { home }),
    'BAD_INPUT',
    /dims \[2,2,2,2,2,2\] and 105 classes, not STU-Net-B .*--name/,
  );
  throwsCode(() => installModel(writeTinyV1(dir), { home }), 'BAD_INPUT', /name the model/);
  throwsCode(() => installModel(writeTinyV1(dir), { home, name: '../x' }), 'BAD_INPUT', /model name/);
  assert.deepEqual(modelFolders(home), []);
  assert.deepEqual(readManifest(home).models, {});
});

test('verify and -m notice a changed file: a different size at once, a different byte by re-hashing', () => {
  const home = tempDir();
  const r = installModel(writeTinyV1(tempDir()), { home, name: 'tiny' });
  const bytes = readFileSync(r.path);
  bytes[bytes.length - 1] = (bytes.at(-1) ?? 0) ^ 0xff;
  writeFileSync(r.path, bytes);
  assert.equal(resolveModelArg('tiny', { home }), r.path); // same size: the quick check passes
  assert.match(
    verifyModels('tiny', { home })[0]?.problems.join() ?? '',
    /tiny\.model: sha256 [0-9a-f]{64}, recorded/,
  );
  truncateSync(r.path, 10);
  throwsCode(() => resolveModelArg('tiny', { home }), 'BAD_INPUT', /damaged \(tiny\.model has 10 bytes/);
  assert.match(verifyModels(undefined, { home })[0]?.problems.join() ?? '', /has 10 bytes/);
});

test('download: a registry model from a (loopback) source into the cache with its plans file; recorded, then cached', async () => {
  const ckpt = readFileSync(writeTinyV1(tempDir()));
  const server = await serve(ckpt);
  const base = REGISTRY[1] as RegistryModel;
  const registry: RegistryModel[] = [
    {
      ...base,
      sources: [{ kind: 'huggingface', repo: 'x/y', file: 'base_ep4k.model' }, ...base.sources.slice(2)],
    },
  ];
  const home = tempDir();
  try {
    const o = { home, registry, hfEndpoint: server.url };
    const r = await downloadModel('b', o);
    assert.equal(r.path, join(home, 'models', 'STU-Net-B', 'base_ep4k.model'));
    assert.equal(r.source, `${server.url}/x/y/resolve/main/base_ep4k.model`);
    assert.deepEqual(new Uint8Array(readFileSync(`${r.path}.pkl`)), embeddedBytes(base.plansFile.embedded));
    assert.equal(readManifest(home).models['STU-Net-B']?.files['base_ep4k.model']?.sha256, r.sha256);
    assert.equal(r.sha256, createHash('sha256').update(ckpt).digest('hex'));
    assert.equal(resolveModelArg('B', o), r.path);
    assert.deepEqual(
      modelFolders(home),
      ['.downloads', 'STU-Net-B'].filter((d) => existsSync(join(home, 'models', d))),
    );
    const again = await downloadModel('STU-Net-B', o);
    assert.deepEqual([again.alreadyCached, server.ranges.length], [true, 1]);
    // an HTML page from every source: one error naming it and the way by hand; the cached copy stays
    server.mode = 'html';
    rmSync(join(home, 'models', 'STU-Net-B'), { recursive: true });
    await assert.rejects(
      downloadModel('B', { ...o, force: true }),
      /could not download STU-Net-B: .*HTML page.*pan\.baidu\.com/,
    );
    assert.deepEqual(
      modelFolders(home).filter((d) => d !== '.downloads'),
      [],
    );
  } finally {
    await server.close();
  }
});
