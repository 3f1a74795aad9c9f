/** Test helpers for the model registry and cache: a tiny official-format checkpoint and a loopback server. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { StuNet } from '../../src/model/stunet.js';
import { initWeightsHe } from '../../src/model/init.js';
import { defaultMeta, type LoadedModel } from '../../src/model/loaded-model.js';
import { TOTALSEG_POOLS } from '../../src/model/scales.js';
import { saveTorchCheckpoint } from '../../src/node/model-source.js';
import { tinyArchitecture } from '../helpers.js';

/** A six-stage STU-Net of width 2 with 105 classes and the released pools (loads with the released .pkl). */
export function tinyModel(width = 2, seed = 0): LoadedModel {
  const arch = {
    ...tinyArchitecture(105, [width, width, width, width, width, width]),
    poolOpKernelSizes: TOTALSEG_POOLS,
  };
  return { arch, weights: initWeightsHe(new StuNet(arch), seed), meta: defaultMeta() };
}

/** Writes `<dir>/<name>` (nnU-Net v1 `.model`) and its `.pkl`; returns the checkpoint path. */
export function writeTinyV1(dir: string, name = 'tiny.model', width = 2): string {
  const path = join(dir, name);
  saveTorchCheckpoint(tinyModel(width), path, 'torch-v1');
  return path;
}

export type Mode = 'full' | 'drop' | 'html' | 'html-bytes' | 'chunked-short' | 'missing';

export interface TestServer {
  readonly url: string;
  /** The Range header of each request ('' when none). */
  readonly ranges: string[];
  mode: Mode;
  close(): Promise<void>;
}

/** Serves `data` at every path with HTTP Range support; `mode` breaks it in the ways a download meets. */
export async function serve(data: Uint8Array, mode: Mode = 'full'): Promise<TestServer> {
  const ranges: string[] = [];
  const state = { mode };
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const range = req.headers.range ?? '';
    ranges.push(range);
    const m = state.mode;
    if (m === 'missing') {
      res.writeHead(404).end('not found');
      return;
    }
    if (m === 'html' || m === 'html-bytes') {
      const page =
        "\n  <!DOCTYPE html><html><body>Google Drive can't scan this file for viruses.</body></html>";
      res.writeHead(200, {
        'content-type': m === 'html' ? 'text/html; charset=utf-8' : 'application/octet-stream',
      });
      res.end(page);
      return;
    }
    if (m === 'chunked-short') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' }); // no length: chunked
      res.end(data.subarray(0, data.length - 100));
      return;
    }
    const start = /^bytes=(\d+)-$/.exec(range) === null ? 0 : Number(/^bytes=(\d+)-$/.exec(range)?.[1]);
    const body = data.subarray(start);
    res.writeHead(start > 0 ? 206 : 200, {
      'content-type': 'application/octet-stream',
      'content-length': String(body.length),
      ...(start > 0 ? { 'content-range': `bytes ${start}-${data.length - 1}/${data.length}` } : {}),
    });
    if (m === 'drop') {
      // Half the body, then the connection goes away (as a flaky network does).
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => {
        setTimeout(() => res.socket?.destroy(), 20);
      });
      return;
    }
    res.end(body);
  };
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    ranges,
    get mode() {
      return state.mode;
    },
    set mode(v: Mode) {
      state.mode = v;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
