import type { StunetArchitecture } from '../src/model/architecture.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readNpy, type NpyArray } from '../src/io/npy.js';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

export function fixturePath(...parts: string[]): string {
  return join(FIXTURES, ...parts);
}

export function loadNpyFixture(...parts: string[]): NpyArray {
  return readNpy(readFileSync(fixturePath(...parts)));
}

export interface CloseOptions {
  atol?: number;
  rtol?: number;
  /** Tolerance relative to max|expected| (the "≤ tol · max|b|" criterion). */
  maxRelTol?: number;
  label?: string;
}

/**
 * Asserts |a − b| ≤ atol + rtol·|b| (+ maxRelTol·max|b|) element-wise; NaN must match NaN.
 * Fails on the worst element with its index, so a failure says where.
 */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  opts: CloseOptions = {},
): void {
  const { atol = 0, rtol = 0, maxRelTol = 0, label = 'values' } = opts;
  assert.equal(actual.length, expected.length, `${label}: length ${actual.length} != ${expected.length}`);
  let maxAbs = 0;
  for (let i = 0; i < expected.length; i++) {
    const v = Math.abs(expected[i] as number);
    if (v > maxAbs) maxAbs = v; // NaN never wins
  }
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as number;
    const b = expected[i] as number;
    if (Number.isNaN(b) || Number.isNaN(a)) {
      if (Number.isNaN(a) !== Number.isNaN(b)) assert.fail(`${label}[${i}]: ${a} vs ${b} (NaN mismatch)`);
      continue;
    }
    if (a === b) continue;
    const excess = Math.abs(a - b) - (atol + rtol * Math.abs(b) + maxRelTol * maxAbs);
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess)) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    assert.fail(
      `${label}[${worst}]: ${actual[worst]} vs expected ${expected[worst]} ` +
        `(|diff| ${Math.abs((actual[worst] as number) - (expected[worst] as number))}, atol ${atol}, rtol ${rtol}, maxRelTol ${maxRelTol}·${maxAbs})`,
    );
  }
}

/** A tiny STU-Net for tests: `dims.length` stages, one block each, pools 2×2×2, 3³ kernels. */
export function tinyArchitecture(
  numClasses: number,
  dims: readonly number[] = [4, 8],
  inputChannels = 1,
): StunetArchitecture {
  return {
    inputChannels,
    numClasses,
    depth: dims.map(() => 1),
    dims,
    poolOpKernelSizes: dims.slice(1).map(() => [2, 2, 2] as const),
    convKernelSizes: dims.map(() => [3, 3, 3] as const),
  };
}
