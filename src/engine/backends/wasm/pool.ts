import { type KernelFn, type KernelName, KERNEL_NAMES } from './module.js';

/**
 * Runs one kernel on T threads synchronously: thread 0 is the caller, the others block until their
 * share is done. Implementations: the single-thread one below, and the worker-thread one in
 * pool-node.ts (a browser variant would use Web Workers with the same shared memory).
 */
export interface ThreadPool {
  readonly threads: number;
  run(kernel: KernelName, params: number): void;
  close(): Promise<void>;
}

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
    this.fns[kernelId(kernel)]!(params, 0, 1);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}
