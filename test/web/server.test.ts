/**
 * `stunet web`'s server: the built app's files with the cross-origin isolation headers (COOP/COEP) and
 * their content types (application/wasm for streaming compilation), nothing outside the app's folder,
 * and one clear error when the app is not built.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { ISOLATION_HEADERS, serveWebApp } from '../../src/cli/web.js';
import { StunetError } from '../../src/util/errors.js';
import { tempDir } from '../cli/cli-helpers.js';

/** A GET with the path sent as written (no URL normalisation on our side). */
function get(
  port: number,
  path: string,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((ok, ko) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        ok({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    req.on('error', ko);
    req.end();
  });
}

test('serves the app cross-origin isolated, with content types, and nothing outside its folder', async () => {
  const dir = tempDir();
  const app = join(dir, 'app');
  mkdirSync(join(app, 'assets'), { recursive: true });
  writeFileSync(join(app, 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(join(app, 'assets', 'k.wasm'), new Uint8Array([0, 97, 115, 109]));
  writeFileSync(join(dir, 'secret.txt'), 'not served');
  const server = await serveWebApp(app, 0);
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const index = await get(server.port, '/');
    assert.equal(index.status, 200);
    assert.match(String(index.headers['content-type']), /^text\/html/);
    for (const [k, v] of Object.entries(ISOLATION_HEADERS)) assert.equal(index.headers[k.toLowerCase()], v);
    const wasm = await get(server.port, '/assets/k.wasm');
    assert.equal(wasm.headers['content-type'], 'application/wasm');
    assert.equal(wasm.headers['cross-origin-embedder-policy'], 'require-corp');
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt']) {
      const r = await get(server.port, path);
      assert.ok(r.status === 403 || r.status === 404, `${path}: ${r.status}`);
      assert.doesNotMatch(r.body, /not served/);
    }
    assert.equal((await get(server.port, '/missing.js')).status, 404);
  } finally {
    await server.close();
  }
});

test('an app that is not built is one error naming the build command', async () => {
  await assert.rejects(serveWebApp(join(tempDir(), 'nothing')), (e: unknown) => {
    assert.ok(e instanceof StunetError);
    assert.match(e.message, /not built.*npm run build/);
    return true;
  });
});
