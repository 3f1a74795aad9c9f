import { readFileSync } from 'node:fs';
import { gunzipSync } from 'fflate';
import { readNpy } from '../../src/io/npy.js';
import { fixturePath } from '../helpers.js';
import type { Shape3 } from '../../src/evaluation/index.js';
import { parsePythonJson, type JsonParsed } from '../../src/evaluation/python-json.js';

/** The AMOS metrics fixture (test/fixtures/metrics, produced by the official code). */
export function loadLabelMap(name: string): { data: Uint8Array; shape: Shape3 } {
  const a = readNpy(gunzipSync(readFileSync(fixturePath('metrics', name))));
  if (!(a.data instanceof Uint8Array) || a.shape.length !== 3)
    throw new Error(`${name}: expected a 3-D uint8 array`);
  const [z = 0, y = 0, x = 0] = a.shape;
  return { data: a.data, shape: [z, y, x] };
}

export type Json = JsonParsed;

export const results = parsePythonJson(readFileSync(fixturePath('metrics', 'results.json'), 'utf8'));

/** results.json path lookup; the strings "NaN"/"Infinity"/"-Infinity" become numbers. */
export function at(...path: (string | number)[]): Json {
  let v: Json = results;
  for (const p of path) {
    if (v === null || typeof v !== 'object') throw new Error(`results.json: no ${path.join('.')}`);
    const next: Json | undefined = Array.isArray(v) ? v[Number(p)] : v[String(p)];
    if (next === undefined) throw new Error(`results.json: no ${path.join('.')}`);
    v = next;
  }
  return v;
}

export function num(v: Json): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  throw new Error(`not a number: ${JSON.stringify(v)}`);
}

export const SPACING_MM: Shape3 = [5.0, 0.5703125, 0.5703125];
export const LABELS = Array.from({ length: 16 }, (_, i) => i + 1);
export const REGIONS = [
  [2, 3],
  [1, 6],
  [11, 12],
  [13, 16],
];
