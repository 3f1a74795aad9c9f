/**
 * The dependency order of docs/architecture.md, checked on the whole import graph (transitively, so a
 * Node module two hops away from the core entry is caught): no folder cycle, no upward import, nothing of
 * Node or onnxruntime reachable from the browser-safe entry `src/index.ts`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cycles, folderEdges, reachable, readSources, topFolder } from './graph.js';

/** Bottom to top. A file may import its own folder or any folder below it. */
export const LAYERS = [
  'util',
  'engine',
  'io',
  'model',
  'checkpoint',
  'models',
  'onnx',
  'preprocessing',
  'augmentation',
  'planning',
  'inference',
  'evaluation',
  'training',
  'demo',
  'jobs',
  'node',
  'cli',
] as const;

/** The entries: the core (browser-safe) and the Node host's. */
const CORE_ENTRY = 'src/index.ts';
const NODE_ENTRY = 'src/node/index.ts';

const files = readSources();

const rank = (path: string): number => {
  if (path === CORE_ENTRY) return LAYERS.indexOf('jobs'); // the core entry sits with the jobs
  const r = LAYERS.indexOf(topFolder(path) as (typeof LAYERS)[number]);
  assert.ok(r >= 0, `${path}: folder '${topFolder(path)}' has no place in LAYERS (docs/architecture.md)`);
  return r;
};

const isNodeModule = (spec: string): boolean =>
  spec.startsWith('node:') || /^(fs|path|os|zlib|crypto|worker_threads|child_process|url)$/.test(spec);

test('every source folder has a layer and every relative import resolves to a source file', () => {
  for (const f of files.values()) {
    rank(f.path);
    for (const t of f.imports)
      assert.ok(files.has(t) || t.endsWith('.json'), `${f.path} imports missing ${t}`);
  }
});

test('no folder import cycle (subfolders included)', () => {
  const sources = new Map([...files].filter(([p]) => p !== CORE_ENTRY && p !== NODE_ENTRY));
  assert.deepEqual(cycles(folderEdges(sources)), []);
});

test('imports only go down the layers', () => {
  const upward: string[] = [];
  for (const f of files.values())
    for (const t of f.imports) if (files.has(t) && rank(t) > rank(f.path)) upward.push(`${f.path} → ${t}`);
  assert.deepEqual(upward, []);
});

test('nothing of Node or onnxruntime is reachable from the core entry', () => {
  const reach = reachable(files, CORE_ENTRY);
  const leaks = [...reach].flatMap((p) =>
    (files.get(p)?.externals ?? [])
      .filter((s) => isNodeModule(s) || s.startsWith('onnxruntime'))
      .map((s) => `${p} imports ${s}`),
  );
  assert.deepEqual(leaks, []);
  // and the entry does reach the stages and the jobs it promises
  for (const p of [
    'src/jobs/predict-case.ts',
    'src/engine/backends/wasm/pool-web.ts',
    'src/checkpoint/nnunet-read.ts',
  ])
    assert.ok(reach.has(p), `${CORE_ENTRY} should reach ${p}`);
});

test('Node built-ins only in src/node, src/cli and the ORT adapter; onnxruntime only in src/onnx', () => {
  const nodeUsers = [...files.values()]
    .filter((f) => f.externals.some(isNodeModule))
    .map((f) => f.path)
    .filter(
      (p) => !p.startsWith('src/node/') && !p.startsWith('src/cli/') && p !== 'src/onnx/session-node.ts',
    );
  assert.deepEqual(nodeUsers, []);
  const ortUsers = [...files.values()]
    .filter((f) => f.externals.some((s) => s.startsWith('onnxruntime')))
    .map((f) => f.path);
  assert.deepEqual(ortUsers, ['src/onnx/session-node.ts']);
});

test('the Node entry reaches every Node adapter that the CLI does not own', () => {
  const reach = reachable(files, NODE_ENTRY);
  assert.ok(reach.has(CORE_ENTRY), 'stunet/node re-exports the core');
  for (const p of [
    'src/node/runtime.ts',
    'src/node/predict-files.ts',
    'src/node/train-host.ts',
    'src/node/demo-host.ts',
  ])
    assert.ok(reach.has(p), `${NODE_ENTRY} should reach ${p}`);
});
