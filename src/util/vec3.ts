/**
 * The 3-vector used for every (Z, Y, X) quantity: shapes, spacings, patch sizes, strides. One type,
 * one checked constructor, so that no caller casts an arbitrary `number[]` to it.
 */
import { fail } from './errors.js';

export type Vec3 = readonly [number, number, number];

/** A Vec3 from any array of exactly three finite numbers; `what` names the value in the error. */
export function vec3(values: ArrayLike<number>, what = 'value'): Vec3 {
  const [a, b, c] = [values[0], values[1], values[2]];
  if (values.length !== 3 || a === undefined || b === undefined || c === undefined) {
    fail('BAD_INPUT', `${what}: expected 3 numbers, got ${values.length}`);
  }
  if (!Number.isFinite(a) || !Number.isFinite(b) || !Number.isFinite(c)) {
    fail('BAD_INPUT', `${what}: expected finite numbers, got [${a}, ${b}, ${c}]`);
  }
  return [a, b, c];
}

/** `v.map(f)` that keeps the Vec3 type. */
export function map3(v: Vec3, f: (x: number, axis: 0 | 1 | 2) => number): Vec3 {
  return [f(v[0], 0), f(v[1], 1), f(v[2], 2)];
}
