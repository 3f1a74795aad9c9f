import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { type KernelFn, type KernelName, KERNEL_NAMES } from './module.js';
import type { WasmMemory, WasmModule } from './wasm-api.js';
import { type ThreadPool, kernelId } from './pool.js';
import { StunetError, fail } from '../../../util/errors.js';

/** Default thread count in Node: one per available core. */
export function defaultThreads(): number {
  return availableParallelism();
}

// Control words (Int32Array on a SharedArrayBuffer): generation, kernel id (−1 = exit), params pointer,
// thread count for this call, workers done, error flag.
const GEN = 0;
const OP = 1;
const PARAMS = 2;
const NT = 3;
const DONE = 4;
const ERR = 5;

// The worker is plain JavaScript so it runs the same from source (tsx) and from dist/.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { module, memory, control, index, names } = workerData;
const instance = new WebAssembly.Instance(module, { env: { memory } });
const fns = names.map((n) => instance.exports[n]);
const ctl = new Int32Array(control);
let gen = 0;
parentPort.postMessage('ready');
for (;;) {
  Atomics.wait(ctl, ${GEN}, gen);
  gen = Atomics.load(ctl, ${GEN});
  const op = Atomics.load(ctl, ${OP});
  if (op < 0) break;
  const threads = Atomics.load(ctl, ${NT});
  if (index < threads) {
    try { fns[op](Atomics.load(ctl, ${PARAMS}), index, threads); } catch { Atomics.store(ctl, ${ERR}, 1); }
  }
  Atomics.add(ctl, ${DONE}, 1);
  Atomics.notify(ctl, ${DONE});
}
process.exit(0);
`;

/** Worker-thread pool on one shared WebAssembly.Memory; the calling thread is thread 0. */
export class NodeThreadPool implements ThreadPool {
  readonly threads: number;
  private readonly fns: KernelFn[];
  private readonly workers: Worker[];
  private readonly ctl: Int32Array;
  private closed = false;

  private constructor(fns: KernelFn[], workers: Worker[], ctl: Int32Array) {
    this.fns = fns;
    this.workers = workers;
    this.ctl = ctl;
    this.threads = workers.length + 1;
  }

  static async create(
    threads: number,
    module: WasmModule,
    memory: WasmMemory,
    fns: KernelFn[],
  ): Promise<NodeThreadPool> {
    const ctl = new Int32Array(new SharedArrayBuffer(64));
    const workers: Worker[] = [];
    const ready: Promise<void>[] = [];
    for (let index = 1; index < threads; index++) {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { module, memory, control: ctl.buffer, index, names: [...KERNEL_NAMES] },
      });
      worker.unref(); // a forgotten close() must not keep the process alive
      workers.push(worker);
      ready.push(
        new Promise<void>((resolve, reject) => {
          worker.once('message', () => {
            resolve();
          });
          worker.once('error', (e) => {
            reject(new StunetError('RUNTIME', `wasm worker failed to start: ${String(e)}`, { cause: e }));
          });
        }),
      );
    }
    const pool = new NodeThreadPool(fns, workers, ctl);
    try {
      await Promise.all(ready);
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw e;
    }
    return pool;
  }

  run(kernel: KernelName, params: number): void {
    if (this.closed) fail('RUNTIME', 'wasm backend is closed');
    const ctl = this.ctl;
    const n = this.workers.length;
    if (n > 0) {
      Atomics.store(ctl, OP, kernelId(kernel));
      Atomics.store(ctl, PARAMS, params);
      Atomics.store(ctl, NT, this.threads);
      Atomics.store(ctl, DONE, 0);
      Atomics.store(ctl, ERR, 0);
      Atomics.add(ctl, GEN, 1);
      Atomics.notify(ctl, GEN);
    }
    let error: unknown = null;
    try {
      this.fns[kernelId(kernel)]!(params, 0, this.threads);
    } catch (e) {
      error = e;
    }
    for (let d = Atomics.load(ctl, DONE); d < n; d = Atomics.load(ctl, DONE)) Atomics.wait(ctl, DONE, d);
    if (error !== null) throw new StunetError('RUNTIME', `wasm kernel ${kernel} failed`, { cause: error });
    if (Atomics.load(ctl, ERR) !== 0) fail('RUNTIME', `wasm kernel ${kernel} failed in a worker thread`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Ask the workers to leave their wait loop, then make sure they are gone (terminate is a no-op
    // for one that already exited).
    Atomics.store(this.ctl, OP, -1);
    Atomics.add(this.ctl, GEN, 1);
    Atomics.notify(this.ctl, GEN);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
