/**
 * Size limits of docs/architecture.md: no source file over 400 lines, no function over 100 lines except
 * the documented kernel/opcode switches below (one big switch reads better than a table of closures).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import ts from 'typescript';
import { readSources } from './graph.js';

const MAX_FILE_LINES = 400;
const MAX_FUNCTION_LINES = 100;
/** `path:function` → why it may be longer. */
const LONG_FUNCTIONS = new Map<string, string>([
  ['src/checkpoint/pickle.ts:unpickleAt', 'the pickle opcode switch (one case per opcode of protocols 0–5)'],
]);

const files = [...readSources().values()];

test(`no source file over ${MAX_FILE_LINES} lines`, () => {
  const long = files
    .map((f) => ({ path: f.path, lines: f.text.split('\n').length - (f.text.endsWith('\n') ? 1 : 0) }))
    .filter((f) => f.lines > MAX_FILE_LINES && !f.path.includes('/generated/'))
    .map((f) => `${f.path}: ${f.lines} lines`);
  assert.deepEqual(long, []);
});

function functionName(node: ts.Node): string {
  if ((ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node)) && node.name !== undefined)
    return node.name.getText();
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent))
    return parent.name.getText();
  return '(anonymous)';
}

test(`no function over ${MAX_FUNCTION_LINES} lines but the documented switches`, () => {
  const long: string[] = [];
  for (const f of files) {
    const sf = ts.createSourceFile(f.path, f.text, ts.ScriptTarget.ES2022, true);
    const visit = (node: ts.Node): void => {
      if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
        const body = node.body as ts.Node;
        const lines =
          sf.getLineAndCharacterOfPosition(body.getEnd()).line -
          sf.getLineAndCharacterOfPosition(body.getStart()).line +
          1;
        const key = `${f.path}:${functionName(node)}`;
        if (lines > MAX_FUNCTION_LINES && !LONG_FUNCTIONS.has(key)) long.push(`${key}: ${lines} lines`);
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  assert.deepEqual(long, []);
});
