/**
 * `stunet web [--port N]`: serves the browser app (web/, built into dist/web by `npm run build`) on
 * localhost with the headers that make the page cross-origin isolated (COOP same-origin, COEP
 * require-corp), which SharedArrayBuffer and so multi-threaded WASM need. Static files only, read from
 * the app's folder; nothing is uploaded anywhere (the app never sends the image or the model).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { fail } from '../util/errors.js';
import { interruptSignal } from './interrupt.js';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/** The headers of every answer: cross-origin isolation, and no caching of a rebuilt app's index. */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
};

/** dist/web of this package: found from this file, whether it runs from src/cli (tsx) or dist/src/cli. */
export function defaultWebDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'dist', 'web');
    dir = dirname(dir);
  }
  return resolve('dist', 'web');
}

function answer(root: string, req: IncomingMessage, res: ServerResponse): void {
  const send = (status: number, body: string | Buffer, type = 'text/plain; charset=utf-8'): void => {
    res.writeHead(status, { ...ISOLATION_HEADERS, 'Content-Type': type, 'Content-Length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(405, 'GET or HEAD only\n');
    return;
  }
  let path: string;
  try {
    path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
  } catch {
    send(400, 'bad path\n');
    return;
  }
  const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
  if (file !== root && !file.startsWith(root + sep)) {
    send(403, 'outside the app\n');
    return;
  }
  let isFile = false;
  try {
    isFile = statSync(file).isFile();
  } catch {
    // missing
  }
  if (!isFile) {
    send(404, `not found: ${path}\n`);
    return;
  }
  const type = TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
  const cache = type.startsWith('text/html') ? 'no-cache' : 'max-age=3600';
  const body = readFileSync(file);
  res.writeHead(200, {
    ...ISOLATION_HEADERS,
    'Content-Type': type,
    'Content-Length': body.length,
    'Cache-Control': cache,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

export interface WebServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Serves `dir` (a built app: index.html at its top) on `host:port` (port 0: a free one). */
export async function serveWebApp(dir: string, port = 0, host = '127.0.0.1'): Promise<WebServer> {
  const root = resolve(dir);
  if (!existsSync(join(root, 'index.html')))
    fail(
      'NOT_FOUND',
      `the browser app is not built: no ${join(root, 'index.html')} (run \`npm run build\` or \`npm run build:web\` in the stunet checkout)`,
    );
  const server: Server = createServer((req, res) => {
    answer(root, req, res);
  });
  await new Promise<void>((ok, ko) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      ko(e.code === 'EADDRINUSE' ? new Error(`port ${port} is in use: pick another with --port`) : e);
    });
    server.listen(port, host, ok);
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://${host === '0.0.0.0' ? 'localhost' : host}:${bound}/`,
    port: bound,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => {
          ok();
        });
      }),
  };
}

function parsePort(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    fail('BAD_INPUT', `--port: expected 0…65535, got '${text}'`);
  return n;
}

export function registerWeb(program: Command): void {
  program
    .command('web')
    .description('serve the browser app on localhost (cross-origin isolated: WASM threads); Ctrl-C stops it')
    .option('--port <n>', 'port (0: a free one)', '8765')
    .option('--dir <folder>', 'the built app to serve (default: dist/web of this package)')
    .action(async (o: { port: string; dir?: string }) => {
      const server = await serveWebApp(o.dir ?? defaultWebDir(), parsePort(o.port));
      console.log(`stunet web: ${server.url} (Ctrl-C stops it; images and models stay in the browser)`);
      await new Promise<void>((ok) => {
        if (interruptSignal.aborted) ok();
        interruptSignal.addEventListener('abort', () => {
          ok();
        });
      });
      await server.close();
    });
}
