/**
 * House rules from DESIGN.md, checked on the source text: only src/onnx/session-node.ts imports
 * onnxruntime; core modules import no Node built-ins (they must run in a browser), except the thin Node
 * adapters (src/node, src/cli, *-node.ts files, src/onnx/save.ts); kernels live only in src/engine/backends.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');
const files = (readdirSync(SRC, { recursive: true }) as string[])
  .filter((f) => f.endsWith('.ts'))
  .map((f) => ({
    path: relative(join(SRC, '..'), join(SRC, f)).replaceAll('\\', '/'),
    text: readFileSync(join(SRC, f), 'utf8'),
  }));

const isNodeAdapter = (p: string): boolean =>
  p.startsWith('src/node/') ||
  p.startsWith('src/cli/') ||
  p.endsWith('-node.ts') ||
  p === 'src/onnx/save.ts' ||
  p === 'src/onnx/node.ts' ||
  p === 'src/index.ts';

test('only src/onnx/session-node.ts imports onnxruntime', () => {
  const importers = files
    .filter((f) => /from '(onnxruntime-[a-z]+)'|import\('onnxruntime/.test(f.text))
    .map((f) => f.path);
  assert.deepEqual(importers, ['src/onnx/session-node.ts']);
});

test('core modules import no Node built-ins (browser-safe)', () => {
  const offenders = files
    .filter((f) => !isNodeAdapter(f.path) && /from 'node:|from '(fs|path|os|zlib|crypto)'/.test(f.text))
    .map((f) => f.path);
  assert.deepEqual(offenders, []);
});

test('src/onnx/index.ts and src/checkpoint/index.ts re-export no Node adapter', () => {
  for (const index of ['src/onnx/index.ts', 'src/checkpoint/index.ts']) {
    const text = files.find((f) => f.path === index)?.text ?? '';
    assert.doesNotMatch(text, /-node\.js'|\.\/save\.js'|\/node\//, index);
  }
});
