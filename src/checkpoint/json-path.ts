import { fail } from '../util/errors.js';
import type { JsonValue } from '../util/json.js';

/** Reads `a.b.c` out of JSON plans with an error that names the missing path and the file. */
export function jsonAt(root: JsonValue, path: readonly (string | number)[], what: string): JsonValue {
  let v: JsonValue = root;
  for (const key of path) {
    const next: JsonValue | undefined = Array.isArray(v)
      ? v[Number(key)]
      : typeof v === 'object' && v !== null
        ? v[String(key)]
        : undefined;
    if (next === undefined) fail('BAD_INPUT', `${what}: no '${path.join('.')}' (missing '${String(key)}')`);
    v = next;
  }
  return v;
}

export function asObject(v: JsonValue, what: string): { [key: string]: JsonValue } {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail('BAD_INPUT', `${what} must be an object`);
  return v;
}

export function asIntMatrix(v: JsonValue, what: string): number[][] {
  if (!Array.isArray(v) || !v.every((r) => Array.isArray(r) && r.every((x) => Number.isInteger(x)))) {
    fail('BAD_INPUT', `${what} must be a list of integer lists, got ${JSON.stringify(v)}`);
  }
  return v as number[][];
}

export function asIntList(v: JsonValue, what: string): number[] {
  if (!Array.isArray(v) || !v.every((x) => Number.isInteger(x)))
    fail('BAD_INPUT', `${what} must be a list of integers`);
  return v as number[];
}
