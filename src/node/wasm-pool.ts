/** The wasm backend on worker_threads: the Node host of AtomicsThreadPool, and the backend with it. */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import {
  createWasmBackend,
  type WasmBackend,
  type WasmBackendOptions,
} from '../engine/backends/wasm/index.js';
import {
  AtomicsThreadPool,
  WORKER_LOOP,
  type ThreadPoolFactory,
  type WorkerInit,
} from '../engine/backends/wasm/pool.js';

const NODE_PRELUDE = `const { parentPort, workerData: init } = require('node:worker_threads');
const ready = () => parentPort.postMessage('ready');\n`;

function spawnNodeWorker(init: WorkerInit) {
  const worker = new Worker(`${NODE_PRELUDE}${WORKER_LOOP}\nprocess.exit(0);`, {
    eval: true,
    workerData: init,
  });
  worker.unref(); // a forgotten close() must not keep the process alive
  const ready = new Promise<void>((resolve, reject) => {
    worker.once('message', () => {
      resolve();
    });
    worker.once('error', reject);
  });
  return {
    ready,
    terminate: async () => {
      await worker.terminate();
    },
  };
}

/** A ThreadPoolFactory on worker_threads. */
export const nodeThreadPool: ThreadPoolFactory = (threads, module, memory, fns) =>
  AtomicsThreadPool.create(threads, module, memory, fns, spawnNodeWorker);

/** The wasm backend with worker_threads; threads default to one per available core. */
export function createNodeWasmBackend(options: Omit<WasmBackendOptions, 'pool'> = {}): Promise<WasmBackend> {
  return createWasmBackend({ threads: availableParallelism(), ...options, pool: nodeThreadPool });
}
