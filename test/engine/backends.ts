/**
 * The backends the conformance suite (conformance.test.ts) runs over. A new backend appends one entry.
 * Tolerances are relative to max|expected| of each compared tensor (expectClose maxRelTol).
 */
import type { Backend } from '../../src/engine/backend.js';
import { refBackend } from '../../src/engine/backends/ref/index.js';
import { type WasmBackend } from '../../src/engine/backends/wasm/index.js';
import { createNodeWasmBackend } from '../../src/node/wasm-pool.js';

export interface BackendTolerances {
  /** Forward kernels against the ref backend. */
  readonly forward: number;
  /** Backward kernels against the ref backend. */
  readonly gradient: number;
  /** One T1 training step against the official fixture: loss, grad norm and weights (relative). */
  readonly trainStep: number;
}

export interface BackendUnderTest {
  readonly name: string;
  /** Called once per suite. */
  readonly create: () => Backend | Promise<Backend>;
  /** Releases what create() started (worker threads). */
  readonly close?: (backend: Backend) => Promise<void>;
  readonly tol: BackendTolerances;
}

export const BACKENDS: BackendUnderTest[] = [
  { name: 'ref', create: () => refBackend, tol: { forward: 0, gradient: 0, trainStep: 1e-4 } },
  {
    name: 'wasm (plain SIMD, 2 threads)',
    create: () => createNodeWasmBackend({ threads: 2, simd: 'plain' }),
    close: (b) => (b as WasmBackend).close(),
    tol: { forward: 1e-5, gradient: 1e-5, trainStep: 1e-4 },
  },
];
