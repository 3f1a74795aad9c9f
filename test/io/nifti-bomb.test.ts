import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'fflate';
import { DEFAULT_NIFTI_MAX_BYTES, readNifti, writeNifti } from '../../src/io/nifti.js';
import { createNifti } from '../../src/io/nifti-volume.js';
import { evaluateFolders } from '../../src/jobs/evaluate.js';
import { loadModelFromStore } from '../../src/jobs/model-files.js';
import { predictCase } from '../../src/jobs/predict-case.js';
import { MemoryStore } from '../../src/jobs/store.js';
import { concatChunks } from '../../src/onnx/export.js';
import { mat4 } from '../../src/io/geometry.js';
import { availableMemoryBytes } from '../../src/node/memory.js';
import { StunetError } from '../../src/util/errors.js';
import { nodeStore } from '../../src/node/file-store.js';
import { runCli, tempDir } from '../cli/cli-helpers.js';
import { fixturePath } from '../helpers.js';

const identity = mat4([
  [1, 0, 0, 0],
  [0, 1, 0, 0],
  [0, 0, 1, 0],
]);

/** A NIfTI-1 header (352 bytes, vox_offset 352) that declares `dims` voxels of `datatype`. */
function header(
  dims: readonly [number, number, number],
  datatype: 'uint8' | 'int16' | 'float32',
): Uint8Array {
  const raw =
    datatype === 'uint8' ? new Uint8Array(1) : datatype === 'int16' ? new Int16Array(1) : new Float32Array(1);
  const one = writeNifti(createNifti({ raw, dims: [1, 1, 1], affine: identity }), { gzip: false });
  const h = one.slice(0, 352);
  const v = new DataView(h.buffer);
  dims.forEach((d, i) => {
    v.setInt16(42 + 2 * i, d, true);
  });
  return h;
}

const MEMBER = 64 * 2 ** 20;
const zerosMember = gzipSync(new Uint8Array(MEMBER), { level: 9 });

/** A multi-member .nii.gz: `head` then `members` × 64 MiB of zeros, a few MB compressed. */
function bomb(head: Uint8Array, members: number): Uint8Array {
  return concatChunks([gzipSync(head), ...Array.from({ length: members }, () => zerosMember)]);
}

/** Runs `f`, returning its error, the seconds it took and how far ArrayBuffer memory grew meanwhile. */
function measure(f: () => unknown): { error: unknown; seconds: number; grewBytes: number } {
  const before = process.memoryUsage().arrayBuffers;
  const t0 = performance.now();
  let error: unknown = null;
  let peak = before;
  try {
    f();
  } catch (e) {
    error = e;
  }
  peak = Math.max(peak, process.memoryUsage().arrayBuffers);
  return { error, seconds: (performance.now() - t0) / 1000, grewBytes: peak - before };
}

const T1 = fixturePath('stunet-forward', 'T1.model');
const NEEDS = /needs (\d+) bytes .* but only (\d+) bytes .* are available/;

test('a tiny .nii.gz declaring 4096³ float32 is refused from its header: needed vs available bytes', () => {
  const file = gzipSync(concatChunks([header([4096, 4096, 4096], 'float32'), new Uint8Array(1024)]));
  assert.ok(file.length < 2000);
  const r = measure(() => readNifti(file));
  assert.ok(r.error instanceof StunetError && r.error.code === 'BAD_INPUT', String(r.error));
  const m = NEEDS.exec(r.error.message);
  assert.ok(m, r.error.message);
  // 4096³ × 4 inflated (+ the 352-byte header) + 4096³ × 4 as float32; the voxels are viewed in place
  assert.equal(Number(m[1]), 352 + 2 * 4 * 4096 ** 3);
  assert.equal(Number(m[2]), DEFAULT_NIFTI_MAX_BYTES);
  assert.match(r.error.message, /4096×4096×4096 float32/);
  assert.ok(r.seconds < 1, `took ${r.seconds} s`);
  assert.ok(r.grewBytes < 16 * 2 ** 20, `grew ${r.grewBytes} bytes`);
  // the Node host's figure: the machine's available memory
  const available = availableMemoryBytes();
  const e = measure(() => readNifti(file, { maxBytes: available })).error as Error;
  assert.equal(Number(NEEDS.exec(e.message)?.[2]), available);
});

test('a real gzip bomb (6 MB holding 6 GiB of zeros) is refused before it is inflated', () => {
  const file = bomb(header([2048, 2048, 1536], 'uint8'), 96);
  assert.ok(file.length < 8e6, `${file.length} bytes`);
  const r = measure(() => readNifti(file));
  assert.ok(r.error instanceof StunetError, String(r.error));
  const m = NEEDS.exec(r.error.message);
  assert.ok(m, r.error.message);
  const voxels = 2048 * 2048 * 1536;
  assert.equal(Number(m[1]), 352 + voxels + 4 * voxels);
  assert.ok(r.seconds < 1, `took ${r.seconds} s (inflated?)`);
  assert.ok(r.grewBytes < 16 * 2 ** 20, `grew ${r.grewBytes} bytes`);
});

test('a bomb under a header that declares a small image: only the declared bytes are inflated', () => {
  const file = bomb(header([64, 64, 64], 'uint8'), 96);
  const r = measure(() => {
    const image = readNifti(file);
    assert.deepEqual(image.dims, [64, 64, 64]);
    assert.equal(image.data.length, 64 ** 3);
    assert.ok(image.data.every((v) => v === 0));
  });
  assert.equal(r.error, null);
  assert.ok(r.seconds < 1, `took ${r.seconds} s (inflated the rest?)`);
  assert.ok(r.grewBytes < 64 * 2 ** 20, `grew ${r.grewBytes} bytes`);
});

test('a header declaring more than deflate can expand the file to is refused, whatever the memory', () => {
  const file = gzipSync(concatChunks([header([1024, 1024, 1024], 'uint8'), new Uint8Array(4096)]));
  const r = measure(() => readNifti(file, { maxBytes: Infinity }));
  assert.ok(r.error instanceof StunetError, String(r.error));
  assert.match(
    r.error.message,
    /is \d+ bytes, which inflate to at most \d+ .*1024×1024×1024 uint8.*truncated/,
  );
  assert.ok(r.grewBytes < 16 * 2 ** 20, `grew ${r.grewBytes} bytes`);
});

test('an uncompressed .nii declaring more than it holds is refused as truncated, nothing allocated', () => {
  const file = concatChunks([header([4096, 4096, 4096], 'float32'), new Uint8Array(1024)]);
  const r = measure(() => readNifti(file, { maxBytes: Infinity }));
  assert.ok(r.error instanceof StunetError, String(r.error));
  assert.match(
    r.error.message,
    /truncated: 4096×4096×4096 float32 voxels need 274877906944 bytes .* only 1024/,
  );
  assert.ok(r.grewBytes < 16 * 2 ** 20, `grew ${r.grewBytes} bytes`);
});

test('maxBytes is the exact bound: the inflated file plus the float32 copy (int16 viewed in place)', () => {
  const raw = new Int16Array(6 * 5 * 4).map((_, i) => i - 50);
  const image = createNifti({ raw, dims: [6, 5, 4], affine: identity });
  const gz = writeNifti(image);
  const needed = 352 + 2 * raw.length + 4 * raw.length;
  assert.deepEqual(Array.from(readNifti(gz, { maxBytes: needed }).raw as Int16Array), Array.from(raw));
  assert.throws(() => readNifti(gz, { maxBytes: needed - 1 }), new RegExp(`needs ${needed} bytes`));
  // uncompressed: the voxels as stored are copied, nothing is inflated
  const nii = writeNifti(image, { gzip: false });
  const plain = 2 * raw.length + 4 * raw.length;
  assert.equal(readNifti(nii, { maxBytes: plain }).data[3], -47);
  assert.throws(() => readNifti(nii, { maxBytes: plain - 1 }), new RegExp(`needs ${plain} bytes`));
  // a .hdr + .img.gz pair takes the options third
  const hdr = nii.slice(0, 352);
  hdr.set(new TextEncoder().encode('ni1\0'), 344);
  new DataView(hdr.buffer).setFloat32(108, 0, true);
  const img = gzipSync(nii.slice(352));
  assert.equal(readNifti(hdr, img, { maxBytes: 240 + 480 }).data[3], -47);
  assert.throws(() => readNifti(hdr, img, { maxBytes: 240 + 479 }), /the \.img\.gz declares 6×5×4 int16/);
});

test('big-endian voxels inflated from gzip are swapped in place and read right', () => {
  const raw = new Float32Array([1.5, -2, 3.25, 1e6, -0.125, 7, 8, 9]);
  const le = writeNifti(createNifti({ raw, dims: [2, 2, 2], affine: identity }), { gzip: false });
  const be = le.slice();
  const v = new DataView(be.buffer);
  const w = new DataView(le.buffer);
  // header fields this reader needs, swapped: sizeof_hdr, dim, datatype, bitpix, vox_offset, scl_*, pixdim
  v.setInt32(0, 348, false);
  for (let i = 0; i < 8; i++) v.setInt16(40 + 2 * i, w.getInt16(40 + 2 * i, true), false);
  for (const at of [70, 72]) v.setInt16(at, w.getInt16(at, true), false);
  for (let at = 76; at < 124; at += 4) v.setFloat32(at, w.getFloat32(at, true), false);
  for (let at = 280; at < 328; at += 4) v.setFloat32(at, w.getFloat32(at, true), false);
  for (const at of [252, 254]) v.setInt16(at, w.getInt16(at, true), false);
  for (let i = 0; i < raw.length; i++) v.setFloat32(352 + 4 * i, raw[i] as number, false);
  const image = readNifti(gzipSync(be));
  assert.equal(image.header.littleEndian, false);
  assert.deepEqual(Array.from(image.data), Array.from(raw));
});

test('stunet predict refuses a bomb from its header, naming the memory needed and that available', () => {
  const dir = tempDir();
  const input = join(dir, 'bomb.nii.gz');
  // 64 GiB declared: 320 GiB to read, more than any machine this runs on has free
  writeFileSync(input, bomb(header([4096, 4096, 4096], 'uint8'), 96));
  const t0 = performance.now();
  const r = runCli(['predict', '-i', input, '-o', join(dir, 'seg.nii.gz'), '-m', T1]);
  assert.equal(r.status, 1, r.stdout);
  // predict's memory estimate (from the same header) or the reader's own check, whichever comes first
  assert.match(r.stderr, /^error: .*needs (about [\d.]+ GiB of memory|\d+ bytes).* (is|are) available/m);
  assert.ok(performance.now() - t0 < 30_000);
  assert.deepEqual(readdirSync(dir), ['bomb.nii.gz']);
});

test('predictCase passes its image limit to the reader: a bomb is refused naming that limit', async () => {
  const model = loadModelFromStore(nodeStore, T1);
  const file = bomb(header([4096, 4096, 4096], 'uint8'), 4);
  const network = (): never => assert.fail('the network must not run');
  await assert.rejects(
    predictCase(file, 'bomb.nii.gz', 'seg.nii.gz', model, network, { maxImageBytes: 987654321 }),
    {
      code: 'BAD_INPUT',
      message:
        /^bomb\.nii\.gz: nifti: the \.nii\.gz declares 4096×4096×4096 uint8 voxels; reading it needs \d+ bytes .* but only 987654321 bytes/,
    },
  );
});

test('evaluate passes its image limit to every read: a bomb among the references is refused', () => {
  const small = writeNifti(createNifti({ raw: new Uint8Array(8), dims: [2, 2, 2], affine: identity }));
  const huge = gzipSync(concatChunks([header([4096, 4096, 4096], 'uint8'), new Uint8Array(1024)]));
  const store = new MemoryStore([
    ['pred/a.nii.gz', small],
    ['ref/a.nii.gz', huge],
  ]);
  assert.throws(() => evaluateFolders(store, 'pred', 'ref', { maxImageBytes: 123456789 }), {
    code: 'BAD_INPUT',
    message: /needs \d+ bytes .* but only 123456789 bytes .* are available/,
  });
});
