import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { zipSync, type Zippable } from 'fflate';
import { ZipReader, bytesSource, loadTorch, writeZip } from '../../src/checkpoint/index.js';
import { fixturePath } from '../helpers.js';
import { assertPyEqual } from './py-equal.js';

const enc = new TextEncoder();

test('reads torch-written zips: central directory, zip64 end records, data descriptors', () => {
  const zip = new ZipReader(bytesSource(readFileSync(fixturePath('stunet-forward', 'T1.model'))));
  assert.equal(zip.entries.length, 260);
  assert.ok(zip.has('T1/data.pkl') && zip.has('T1/version'));
  for (const e of zip.entries) {
    assert.equal(zip.dataOffset(e) % 64, 0, `${e.name} is 64-byte aligned`);
    zip.read(e.name, { verifyCrc: true });
  }
  assert.equal(new TextDecoder().decode(zip.read('T1/version')), '3\n');
});

test('deflate entries (e.g. a checkpoint re-zipped by a tool) load the same', () => {
  const original = readFileSync(fixturePath('torch-formats', 'a_zip_default.pth'));
  const src = new ZipReader(bytesSource(original));
  const files: Zippable = {};
  for (const e of src.entries) files[e.name] = [src.read(e.name), { level: 6 }];
  const deflated = zipSync(files);
  assert.ok(new ZipReader(bytesSource(deflated)).entries.some((e) => e.method === 8));
  assertPyEqual(loadTorch(deflated), loadTorch(original));
});

test('writer: stored entries, 64-byte aligned data, readable back, CRCs right', () => {
  const files = [
    { name: 'root/a', data: enc.encode('hello') },
    { name: 'root/data/0', data: new Uint8Array(1000).map((_, i) => i) },
    { name: 'root/empty', data: new Uint8Array(0) },
  ];
  for (const zip64 of ['auto', 'always'] as const) {
    const bytes = writeZip(files, { zip64 });
    const zip = new ZipReader(bytesSource(bytes));
    assert.deepEqual(
      zip.entries.map((e) => e.name),
      files.map((f) => f.name),
    );
    for (const f of files) {
      const e = zip.entry(f.name);
      assert.equal(e.method, 0);
      assert.equal(zip.dataOffset(e) % 64, 0);
      assert.deepEqual(zip.read(f.name, { verifyCrc: true }), f.data);
    }
  }
  assert.throws(
    () => writeZip([files[0] as (typeof files)[0], files[0] as (typeof files)[0]]),
    /duplicate entry/,
  );
});

test('truncated or corrupt zips are clear errors', () => {
  const bytes = writeZip([{ name: 'r/data.pkl', data: enc.encode('0123456789') }]);
  assert.throws(
    () => new ZipReader(bytesSource(bytes.subarray(0, bytes.length - 10))),
    /truncated zip: end of central directory not found/,
  );
  assert.throws(() => new ZipReader(bytesSource(bytes.subarray(0, 40))), /truncated zip/);
  const bad = bytes.slice();
  bad[64] = (bad[64] as number) ^ 1; // first data byte
  assert.throws(
    () => new ZipReader(bytesSource(bad)).read('r/data.pkl', { verifyCrc: true }),
    /CRC mismatch/,
  );
  const zip = new ZipReader(bytesSource(bytes));
  assert.throws(() => zip.read('r/nope'), /no entry 'r\/nope'/);
});
