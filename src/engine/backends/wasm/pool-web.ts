/**
 * The wasm backend's thread pool on Web Workers (browsers, Deno): each worker is started from a Blob
 * URL holding WORKER_LOOP and receives its WorkerInit by postMessage (a shared WebAssembly.Memory and
 * module clone across). Needs SharedArrayBuffer, which a page has only when cross-origin isolated
 * (COOP/COEP headers), and a calling thread that may block: call it from a dedicated Web Worker.
 */
import { fail } from '../../../util/errors.js';
import {
  AtomicsThreadPool,
  WORKER_LOOP,
  type PoolWorker,
  type ThreadPoolFactory,
  type WorkerInit,
} from './pool.js';

interface WebWorker {
  postMessage(message: unknown): void;
  terminate(): void;
  addEventListener(type: 'message' | 'error', listener: (event: { message?: string }) => void): void;
}
interface WebGlobals {
  Worker?: new (url: string) => WebWorker;
  Blob?: new (parts: string[], options: { type: string }) => object;
  URL: { createObjectURL(blob: object): string; revokeObjectURL(url: string): void };
}

const WEB_PRELUDE = `self.onmessage = (event) => { self.onmessage = null; const init = event.data; const ready = () => self.postMessage('ready');\n`;

/** A ThreadPoolFactory for `createWasmBackend({ pool: webWorkerPool })` in a Web Worker. */
export const webWorkerPool: ThreadPoolFactory = async (threads, module, memory, fns) => {
  const g = globalThis as unknown as WebGlobals;
  const WorkerCtor = g.Worker;
  const BlobCtor = g.Blob;
  if (WorkerCtor === undefined || BlobCtor === undefined)
    fail('UNSUPPORTED', 'wasm backend: this JavaScript environment has no Web Workers');
  if (typeof SharedArrayBuffer === 'undefined')
    fail(
      'UNSUPPORTED',
      'wasm backend: threads need SharedArrayBuffer (serve the page cross-origin isolated: COOP/COEP)',
    );
  const url = g.URL.createObjectURL(
    new BlobCtor([`${WEB_PRELUDE}${WORKER_LOOP}\nself.close(); };`], { type: 'text/javascript' }),
  );
  const spawn = (init: WorkerInit): PoolWorker => {
    const worker = new WorkerCtor(url);
    const ready = new Promise<void>((resolve, reject) => {
      worker.addEventListener('message', () => {
        resolve();
      });
      worker.addEventListener('error', (e) => {
        reject(new Error(e.message ?? 'worker error'));
      });
    });
    worker.postMessage(init);
    return {
      ready,
      terminate: () => {
        worker.terminate();
        return Promise.resolve();
      },
    };
  };
  try {
    return await AtomicsThreadPool.create(threads, module, memory, fns, spawn);
  } finally {
    g.URL.revokeObjectURL(url);
  }
};
