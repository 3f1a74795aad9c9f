import { type KernelFn, type KernelName, KERNEL_NAMES } from './module.js';
import type { WasmMemory, WasmModule } from './wasm-api.js';
import { StunetError, fail } from '../../../util/errors.js';

/**
 * Runs one kernel on T threads synchronously: thread 0 is the caller, the others block until their
 * share is done. Implementations: SingleThreadPool below, and AtomicsThreadPool over a host's workers
 * (worker_threads in Node: src/node/wasm-pool.ts; Web Workers in a browser: pool-web.ts).
 */
export interface ThreadPool {
  readonly threads: number;
  run(kernel: KernelName, params: number): void;
  close(): Promise<void>;
}

/** Makes the pool for a backend: `threads` compute threads over one module and its shared memory. */
export type ThreadPoolFactory = (
  threads: number,
  module: WasmModule,
  memory: WasmMemory,
  fns: KernelFn[],
) => Promise<ThreadPool>;

export function kernelId(name: KernelName): number {
  return KERNEL_NAMES.indexOf(name);
}

export class SingleThreadPool implements ThreadPool {
  readonly threads = 1;
  private readonly fns: KernelFn[];
  constructor(fns: KernelFn[]) {
    this.fns = fns;
  }
  run(kernel: KernelName, params: number): void {
    const fn = this.fns[kernelId(kernel)] ?? fail('RUNTIME', `wasm kernel ${kernel} is missing`);
    fn(params, 0, 1);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

// Control words (Int32Array on a SharedArrayBuffer): generation, kernel id (−1 = exit), params pointer,
// thread count for this call, workers done, error flag.
const GEN = 0;
const OP = 1;
const PARAMS = 2;
const NT = 3;
const DONE = 4;
const ERR = 5;

/** What a worker receives when it starts (structured-cloneable: the module and both buffers are shared). */
export interface WorkerInit {
  readonly module: WasmModule;
  readonly memory: WasmMemory;
  readonly control: SharedArrayBuffer;
  readonly index: number;
  readonly names: readonly string[];
}

/**
 * The body every worker runs, as plain JavaScript (it runs the same from source and from dist/, in
 * Node and in browsers): `init` holds a WorkerInit, `ready()` tells the host it waits for work.
 */
export const WORKER_LOOP = `
const { module, memory, control, index, names } = init;
const instance = new WebAssembly.Instance(module, { env: { memory } });
const fns = names.map((n) => instance.exports[n]);
const ctl = new Int32Array(control);
let gen = 0;
ready();
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
`;

/** A worker of the host's kind, started on a WorkerInit; `ready` settles when it waits for work. */
export interface PoolWorker {
  readonly ready: Promise<void>;
  terminate(): Promise<void>;
}

export type SpawnWorker = (init: WorkerInit) => PoolWorker;

/**
 * Whether this thread may block in Atomics.wait. A browser's main thread may not (it throws), and the
 * pool's caller waits for its workers there: run the engine in a Web Worker instead.
 */
export function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

/** Worker threads on one shared WebAssembly.Memory, woken through Atomics; the calling thread is thread 0. */
export class AtomicsThreadPool implements ThreadPool {
  readonly threads: number;
  private readonly fns: KernelFn[];
  private readonly workers: PoolWorker[];
  private readonly ctl: Int32Array;
  private closed = false;

  private constructor(fns: KernelFn[], workers: PoolWorker[], ctl: Int32Array) {
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
    spawn: SpawnWorker,
  ): Promise<AtomicsThreadPool> {
    if (!canBlock()) {
      fail(
        'UNSUPPORTED',
        `wasm backend: ${threads} threads need a thread that may wait (Atomics.wait); a browser's main ` +
          'thread may not: run the engine in a Web Worker, or use threads: 1',
      );
    }
    const control = new SharedArrayBuffer(64);
    const ctl = new Int32Array(control);
    const workers: PoolWorker[] = [];
    for (let index = 1; index < threads; index++)
      workers.push(spawn({ module, memory, control, index, names: [...KERNEL_NAMES] }));
    try {
      await Promise.all(workers.map((w) => w.ready));
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw e instanceof StunetError
        ? e
        : new StunetError('RUNTIME', `wasm worker failed to start: ${String(e)}`, { cause: e });
    }
    return new AtomicsThreadPool(fns, workers, ctl);
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
      const fn = this.fns[kernelId(kernel)] ?? fail('RUNTIME', `wasm kernel ${kernel} is missing`);
      fn(params, 0, this.threads);
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
    // Ask the workers to leave their wait loop, then make sure they are gone.
    Atomics.store(this.ctl, OP, -1);
    Atomics.add(this.ctl, GEN, 1);
    Atomics.notify(this.ctl, GEN);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
