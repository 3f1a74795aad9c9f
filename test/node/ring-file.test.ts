import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { fileRingStore } from '../../src/node/predict-files.js';
import { tempDir } from '../cli/cli-helpers.js';

test('file ring: rows round-trip, unwritten voxels read 0, and no file is left in the folder, even while open', () => {
  const dir = tempDir();
  const store = fileRingStore(dir)(2, 3, 4, 5); // depth 2, Y 3, K 4, X 5
  // unlinked at once on POSIX: a kill -9 leaves nothing behind
  if (process.platform !== 'win32') assert.deepEqual(readdirSync(dir), []);
  const row = Float32Array.from({ length: 3 * 4 }, (_, i) => i + 0.5); // x 1…3, 4 classes each
  store.write(1, 2, 1, 4, row);
  const back = new Float32Array(5 * 4).fill(-1);
  store.read(1, 2, 0, 5, back);
  assert.deepEqual(Array.from(back.subarray(0, 4)), [0, 0, 0, 0]);
  assert.deepEqual(Array.from(back.subarray(4, 16)), Array.from(row));
  assert.deepEqual(Array.from(back.subarray(16)), [0, 0, 0, 0]);
  const other = new Float32Array(4).fill(-1);
  store.read(0, 2, 2, 3, other); // another slot: never written
  assert.deepEqual(Array.from(other), [0, 0, 0, 0]);
  store.close();
  assert.deepEqual(readdirSync(dir), []);
  assert.throws(() => {
    store.read(0, 0, 0, 1, other);
  }, /closed/);
});
