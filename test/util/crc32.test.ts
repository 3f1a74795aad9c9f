import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32 } from '../../src/util/crc32.js';

test('crc32 is the zip/PNG/zlib CRC: check value of "123456789" is 0xCBF43926', () => {
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
});

test('crc32 continues a running CRC from a seed', () => {
  const big = new Uint8Array(10_000).map((_, i) => (i * 7919) & 0xff);
  assert.equal(crc32(big.subarray(500), crc32(big.subarray(0, 500))), crc32(big));
  assert.notEqual(crc32(big.subarray(500)), crc32(big));
});

test('crc32 equals the CRC that a gzip member carries in its trailer', async () => {
  const { gzipSync } = await import('fflate');
  const data = new Uint8Array(4096).map((_, i) => (i * 31 + 7) & 0xff);
  const gz = gzipSync(data);
  const v = new DataView(gz.buffer, gz.byteOffset, gz.byteLength);
  assert.equal(crc32(data), v.getUint32(gz.length - 8, true));
});
