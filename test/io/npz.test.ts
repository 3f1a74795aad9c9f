/** The streamed .npz writer: members read back (zip reader, numpy layout), zip64 fields past 4 GiB. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bytesSource, ZipReader } from '../../src/checkpoint/zip.js';
import { NpzStreamWriter } from '../../src/io/npz.js';
import { readNpy } from '../../src/io/npy.js';
import { writeProbabilityNpz } from '../../src/jobs/probability-npz.js';
import { concatChunks } from '../../src/util/bytes.js';

function collect(write: (w: NpzStreamWriter) => void): Uint8Array {
  const chunks: Uint8Array[] = [];
  const w = new NpzStreamWriter((c) => chunks.push(c.slice()));
  write(w);
  return concatChunks(chunks);
}

test('members pushed in pieces read back whole and deflated, CRC checked', () => {
  const values = Float32Array.from({ length: 100_000 }, (_, i) => (i % 97 === 0 ? 0.5 : 0));
  const bytes = new Uint8Array(values.buffer);
  const npz = collect((w) => {
    w.beginArray('a', '<f4', [4, 25_000]);
    for (let at = 0; at < bytes.length; at += 7_777) w.write(bytes.subarray(at, at + 7_777));
    w.endArray();
    w.addArray('b', '<i8', [2], new Uint8Array(BigInt64Array.from([3n, -4n]).buffer));
    w.finish();
  });
  const zip = new ZipReader(bytesSource(npz));
  assert.deepEqual(
    zip.entries.map((e) => [e.name, e.method]),
    [
      ['a.npy', 8],
      ['b.npy', 8],
    ],
  );
  assert.ok(zip.entries[0] !== undefined && zip.entries[0].compressedSize < bytes.length / 10);
  const a = readNpy(zip.read('a.npy', { verifyCrc: true }));
  assert.deepEqual(a.shape, [4, 25_000]);
  assert.deepEqual(a.data, values);
  assert.deepEqual([...readNpy(zip.read('b.npy', { verifyCrc: true })).data], [3n, -4n]);
});

test('probabilities .npz: the grid, its crop box, the shape before cropping and the spacing', () => {
  const grid = {
    classes: 2,
    shapeZYX: [2, 3, 4] as [number, number, number],
    cropBbox: [
      [1, 3],
      [0, 3],
      [5, 9],
    ] as const,
    shapeBeforeCroppingZYX: [4, 3, 12] as [number, number, number],
    spacingZYX: [2.5, 0.75, 0.75] as [number, number, number],
  };
  const probs = Float32Array.from({ length: 48 }, (_, i) => i / 48);
  const raw = new Uint8Array(probs.buffer);
  const chunks: Uint8Array[] = [];
  writeProbabilityNpz(
    (c) => chunks.push(c.slice()),
    grid,
    (o, n) => raw.subarray(o, o + n),
  );
  const zip = new ZipReader(bytesSource(Buffer.concat(chunks)));
  const get = (k: string): ReturnType<typeof readNpy> => readNpy(zip.read(`${k}.npy`, { verifyCrc: true }));
  assert.deepEqual(get('probabilities').shape, [2, 2, 3, 4]);
  assert.deepEqual(get('probabilities').data, probs);
  assert.deepEqual(get('bbox_used_for_cropping').shape, [3, 2]);
  assert.deepEqual([...get('bbox_used_for_cropping').data], [1n, 3n, 0n, 3n, 5n, 9n]);
  assert.deepEqual([...get('shape_before_cropping').data], [4n, 3n, 12n]);
  assert.deepEqual([...get('spacing').data], [2.5, 0.75, 0.75]);
});
