import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deflateSync, inflateSync } from 'node:zlib';
import { decodePng, encodePng } from '../../src/io/png.js';
import { crc32 } from '../../src/util/crc32.js';

function randomRgba(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n * 4);
  let s = seed;
  for (let i = 0; i < out.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

/** Chunks of a PNG as [type, data]. */
function chunks(png: Uint8Array): [string, Uint8Array][] {
  const v = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const out: [string, Uint8Array][] = [];
  for (let p = 8; p < png.length;) {
    const len = v.getUint32(p);
    out.push([String.fromCharCode(...png.subarray(p + 4, p + 8)), png.subarray(p + 8, p + 8 + len)]);
    p += 12 + len;
  }
  return out;
}

test('encodePng: signature, IHDR 8-bit RGBA, IDAT inflates (node zlib) to filter-0 rows, IEND', () => {
  const rgba = randomRgba(7 * 3, 1);
  const png = encodePng(rgba, 7, 3);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const c = chunks(png);
  assert.deepEqual(
    c.map(([t]) => t),
    ['IHDR', 'IDAT', 'IEND'],
  );
  const ihdr = c[0]?.[1] ?? new Uint8Array();
  assert.deepEqual([...ihdr], [0, 0, 0, 7, 0, 0, 0, 3, 8, 6, 0, 0, 0]);
  const raw = inflateSync(c[1]?.[1] ?? new Uint8Array());
  assert.equal(raw.length, 3 * (7 * 4 + 1));
  for (let y = 0; y < 3; y++) {
    assert.equal(raw[y * 29], 0);
    assert.deepEqual([...raw.subarray(y * 29 + 1, (y + 1) * 29)], [...rgba.subarray(y * 28, (y + 1) * 28)]);
  }
});

test('decodePng(encodePng(x)) is x', () => {
  for (const [w, h] of [
    [1, 1],
    [13, 5],
    [64, 33],
  ] as const) {
    const rgba = randomRgba(w * h, w * 31 + h);
    const d = decodePng(encodePng(rgba, w, h));
    assert.equal(d.width, w);
    assert.equal(d.height, h);
    assert.deepEqual(d.rgba, rgba);
  }
});

test('decodePng reverses every filter type (a PNG built here with Sub/Up/Average/Paeth rows, RGB)', () => {
  const w = 5;
  const h = 5;
  const rgb = randomRgba(w * h, 7).filter((_, i) => i % 4 !== 3);
  const bpp = 3;
  const stride = w * bpp;
  const raw = new Uint8Array(h * (stride + 1));
  const px = (y: number, x: number): number => (y < 0 || x < 0 ? 0 : (rgb[y * stride + x] as number));
  for (let y = 0; y < h; y++) {
    const f = y; // rows use filters 0..4
    raw[y * (stride + 1)] = f;
    for (let x = 0; x < stride; x++) {
      const a = px(y, x - bpp);
      const b = px(y - 1, x);
      const c = px(y - 1, x - bpp);
      const p = a + b - c;
      const paeth =
        Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c)
          ? a
          : Math.abs(p - b) <= Math.abs(p - c)
            ? b
            : c;
      const pred = [0, a, b, (a + b) >> 1, paeth][f] as number;
      raw[y * (stride + 1) + 1 + x] = (px(y, x) - pred) & 0xff;
    }
  }
  const chunk = (type: string, data: Uint8Array): number[] => {
    const body = new Uint8Array([...new TextEncoder().encode(type), ...data]);
    const len = data.length;
    const crc = crc32(body);
    return [
      len >>> 24,
      (len >>> 16) & 255,
      (len >>> 8) & 255,
      len & 255,
      ...body,
      crc >>> 24,
      (crc >>> 16) & 255,
      (crc >>> 8) & 255,
      crc & 255,
    ];
  };
  const png = new Uint8Array([
    0x89,
    0x50,
    0x4e,
    0x47,
    0x0d,
    0x0a,
    0x1a,
    0x0a,
    ...chunk('IHDR', new Uint8Array([0, 0, 0, w, 0, 0, 0, h, 8, 2, 0, 0, 0])),
    ...chunk('IDAT', new Uint8Array(deflateSync(raw))),
    ...chunk('IEND', new Uint8Array()),
  ]);
  const d = decodePng(png);
  for (let i = 0; i < w * h; i++) {
    assert.deepEqual(
      [...d.rgba.subarray(i * 4, i * 4 + 4)],
      [...rgb.subarray(i * 3, i * 3 + 3), 255],
      `pixel ${i}`,
    );
  }
});

test('bad input: wrong buffer size, corrupted CRC, not a PNG', () => {
  assert.throws(() => encodePng(new Uint8Array(10), 2, 2), /2×2 RGBA needs 16 bytes/);
  const png = encodePng(randomRgba(4, 3), 2, 2);
  const bad = png.slice();
  bad[20] = (bad[20] as number) ^ 1; // inside IHDR
  assert.throws(() => decodePng(bad), /CRC mismatch in chunk IHDR/);
  assert.throws(() => decodePng(new Uint8Array([1, 2, 3])), /not a PNG/);
});
