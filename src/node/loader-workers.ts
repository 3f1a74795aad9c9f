/**
 * Worker-thread batch loader: N workers run sampling + augmentation (makeBatch) while the training
 * thread trains; batches come back in order through a prefetch queue. Batch b is makeBatch(cases, cfg,
 * seed, b) whichever worker makes it, so the stream is the same for any worker count and equal to
 * InlineBatchLoader's. Cases in memory are shared, not copied: `shareCases` moves their arrays to
 * SharedArrayBuffers once. Cases in the preprocessed cache (CachedCaseInfo) are opened by path in each
 * worker, which reads only the boxes it samples (CachedCaseSource). Results come back as transferred
 * buffers.
 *
 * This file is also the worker's entry point (it checks workerData on load).
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { TrainingBatch } from '../augmentation/pipeline.js';
import type { LabelMap } from '../augmentation/deep-supervision.js';
import { StunetError, fail } from '../util/errors.js';
import {
  makeBatch,
  type BatchLoader,
  type LoaderCase,
  type LoaderConfig,
  type PreprocessedCase,
} from '../training/loader.js';
import type { CachedCaseInfo } from '../jobs/cache-files.js';
import { CachedCaseSource } from './preprocessed-cache-reader.js';

/** A case for the workers: in memory (shared with them), or in the cache on disk (opened by each). */
export type WorkerCase = PreprocessedCase | CachedCaseInfo;

const isCached = (c: WorkerCase): c is CachedCaseInfo =>
  typeof (c as Partial<CachedCaseInfo>).dir === 'string';

export interface WorkerLoaderOptions {
  readonly cases: readonly WorkerCase[];
  readonly config: LoaderConfig;
  readonly seed: number;
  /** Worker threads (≥ 1). */
  readonly workers: number;
  /** Batches requested ahead of the consumer (default 2 per worker). */
  readonly prefetch?: number;
  /** First batch index (resume: the number of batches already consumed). */
  readonly startBatch?: number;
}

interface InitData {
  readonly stunetLoaderWorker: true;
  readonly cases: readonly WorkerCase[];
  readonly config: LoaderConfig;
  readonly seed: number;
}

type Reply =
  | { readonly index: number; readonly batch: TrainingBatch }
  | { readonly index: number; readonly error: string };

/**
 * Copies of the in-memory cases whose data and seg live in SharedArrayBuffers (workers then read them
 * in place); cached cases pass through.
 */
export function shareCases<C extends WorkerCase>(cases: readonly C[]): C[] {
  return cases.map((c): C => {
    if (isCached(c)) return c;
    if (c.data.buffer instanceof SharedArrayBuffer && c.seg.buffer instanceof SharedArrayBuffer) return c;
    const data = new Float32Array(new SharedArrayBuffer(c.data.byteLength));
    data.set(c.data);
    const sab = new SharedArrayBuffer(c.seg.byteLength);
    const seg =
      c.seg instanceof Int16Array
        ? new Int16Array(sab)
        : c.seg instanceof Int8Array
          ? new Int8Array(sab)
          : new Uint8Array(sab);
    seg.set(c.seg);
    return { ...c, data, seg };
  });
}

/**
 * The worker imports this very module. From dist/ that is plain JS; from source (tsx), Node 20 workers do
 * not inherit tsx's loader hooks, so the worker registers them itself before the import.
 */
function workerSource(): string {
  const self = JSON.stringify(import.meta.url);
  if (!import.meta.url.endsWith('.ts')) return `import(${self});`;
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  return `import(${tsx}).then((m) => { m.register(); return import(${self}); });`;
}

interface Pending {
  resolve: (b: TrainingBatch) => void;
  reject: (e: Error) => void;
  promise: Promise<TrainingBatch>;
}

function deferred(): Pending {
  let resolve: (b: TrainingBatch) => void = () => undefined;
  let reject: (e: Error) => void = () => undefined;
  const promise = new Promise<TrainingBatch>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A batch that fails before anyone asks for it must not become an unhandled rejection.
  promise.catch(() => undefined);
  return { resolve, reject, promise };
}

export class WorkerBatchLoader implements BatchLoader {
  private readonly pending = new Map<number, Pending>();
  private readonly idle: Worker[] = [];
  private readonly queue: number[] = [];
  private nextRequest: number;
  private nextConsume: number;
  private failure: Error | null = null;
  private closed = false;

  private constructor(
    private readonly workers: Worker[],
    private readonly prefetch: number,
    start: number,
  ) {
    this.nextRequest = start;
    this.nextConsume = start;
  }

  static create(opts: WorkerLoaderOptions): WorkerBatchLoader {
    if (!Number.isInteger(opts.workers) || opts.workers < 1)
      fail('BAD_INPUT', `the loader needs at least one worker, got ${opts.workers}`);
    const init: InitData = {
      stunetLoaderWorker: true,
      cases: shareCases(opts.cases),
      config: opts.config,
      seed: opts.seed,
    };
    const workers = Array.from(
      { length: opts.workers },
      () => new Worker(workerSource(), { eval: true, workerData: init }),
    );
    const loader = new WorkerBatchLoader(
      workers,
      Math.max(1, opts.prefetch ?? 2 * opts.workers),
      opts.startBatch ?? 0,
    );
    for (const w of workers) loader.attach(w);
    loader.topUp();
    return loader;
  }

  private attach(w: Worker): void {
    // Referenced only while working: a forgotten close() must not keep the process alive, but a
    // pending next() must.
    w.unref();
    this.idle.push(w);
    w.on('message', (m: Reply) => {
      // After close() began, keep the worker referenced: terminate()'s promise needs the loop alive
      // until the exit event (a late reply would otherwise unref it and the promise never settles).
      if (this.closed) return;
      w.unref();
      const p = this.pending.get(m.index);
      if (p !== undefined) {
        if ('error' in m) p.reject(new StunetError('RUNTIME', `loader worker, batch ${m.index}: ${m.error}`));
        else p.resolve(m.batch);
      }
      this.idle.push(w);
      this.dispatch();
    });
    w.on('error', (e) => {
      this.fail(new StunetError('RUNTIME', `loader worker failed: ${e.message}`, { cause: e }));
    });
  }

  private fail(e: Error): void {
    this.failure = e;
    for (const p of this.pending.values()) p.reject(e);
  }

  /** Keeps `prefetch` batches requested beyond the last one consumed. */
  private topUp(): void {
    while (this.nextRequest < this.nextConsume + this.prefetch) {
      const index = this.nextRequest++;
      this.pending.set(index, deferred());
      this.queue.push(index);
    }
    this.dispatch();
  }

  private dispatch(): void {
    while (!this.closed && this.idle.length > 0 && this.queue.length > 0) {
      const w = this.idle.shift();
      const index = this.queue.shift();
      if (w === undefined || index === undefined) break;
      w.ref();
      w.postMessage(index);
    }
  }

  async next(): Promise<TrainingBatch> {
    if (this.closed) fail('RUNTIME', 'the loader is closed');
    if (this.failure !== null) throw this.failure;
    const index = this.nextConsume++;
    this.topUp();
    const p = this.pending.get(index);
    if (p === undefined) fail('RUNTIME', `loader lost batch ${index}`);
    try {
      return await p.promise;
    } finally {
      this.pending.delete(index);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    // ref: an unreferenced worker's exit would not keep the loop alive for terminate()'s promise
    await Promise.all(
      this.workers.map((w) => {
        w.ref();
        return w.terminate();
      }),
    );
  }
}

function isInitData(v: unknown): v is InitData {
  return (
    typeof v === 'object' && v !== null && (v as { stunetLoaderWorker?: unknown }).stunetLoaderWorker === true
  );
}

function transferList(batch: TrainingBatch): ArrayBuffer[] {
  const views: unknown[] = [batch.data, ...batch.targets.map((t: LabelMap) => t.data)];
  const out = new Set<ArrayBuffer>();
  for (const v of views) if (ArrayBuffer.isView(v) && v.buffer instanceof ArrayBuffer) out.add(v.buffer);
  return [...out];
}

if (!isMainThread && parentPort !== null && isInitData(workerData)) {
  const init = workerData;
  const cases: LoaderCase[] = init.cases.map((c) => (isCached(c) ? new CachedCaseSource(c) : c));
  const port = parentPort;
  port.on('message', (index: number) => {
    let reply: Reply;
    try {
      const batch = makeBatch(cases, init.config, init.seed, index);
      port.postMessage({ index, batch } satisfies Reply, transferList(batch));
      return;
    } catch (e) {
      reply = { index, error: e instanceof Error ? e.message : String(e) };
    }
    port.postMessage(reply);
  });
}
