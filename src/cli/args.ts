import { fail } from '../util/errors.js';
import { vec3, type Vec3 } from '../util/vec3.js';

/** Option parsers shared by the commands; each names the option in its error. */
export function parseIntList(option: string, text: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  const values = parts.map(Number);
  if (parts.some((p) => p === '') || values.some((v) => !Number.isInteger(v) || v < 1)) {
    fail('BAD_INPUT', `${option}: expected comma-separated positive integers, got '${text}'`);
  }
  return values;
}

export function parseVec3(option: string, text: string): Vec3 {
  const v = parseIntList(option, text);
  if (v.length !== 3) fail('BAD_INPUT', `${option}: expected three values Z,Y,X, got '${text}'`);
  return vec3(v, option);
}

/** `2,2,2/2,2,2/1,1,2` → [[2,2,2],[2,2,2],[1,1,2]]. */
export function parsePoolList(option: string, text: string): Vec3[] {
  return text.split('/').map((p) => parseVec3(option, p));
}

export function parsePositiveInt(option: string, text: string): number {
  const v = Number(text);
  if (!Number.isInteger(v) || v < 1)
    fail('BAD_INPUT', `${option}: expected a positive integer, got '${text}'`);
  return v;
}
