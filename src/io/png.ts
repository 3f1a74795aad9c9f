/**
 * A minimal PNG writer (8-bit RGBA, filter 0 on every row, zlib via fflate) and a reader for the subset
 * tests and previews need (8-bit greyscale / grey+alpha / RGB / RGBA, not interlaced, any filter).
 * Bytes in, bytes out (browser-safe). Spec: https://www.w3.org/TR/png/ (chunks = length, type, data, CRC-32
 * over type + data).
 */
import { unzlibSync, zlibSync } from 'fflate';
import { fail } from '../util/errors.js';
import { crc32 } from '../util/crc32.js';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** Encodes `width × height` RGBA pixels (row-major, 4 bytes each, top row first) as a PNG file. */
export function encodePng(rgba: Uint8Array, width: number, height: number): Uint8Array {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    fail('BAD_INPUT', `png: size must be positive integers, got ${width}×${height}`);
  }
  if (rgba.length !== width * height * 4) {
    fail(
      'SHAPE_MISMATCH',
      `png: ${width}×${height} RGBA needs ${width * height * 4} bytes, got ${rgba.length}`,
    );
  }
  const ihdr = new Uint8Array(13);
  const hv = new DataView(ihdr.buffer);
  hv.setUint32(0, width);
  hv.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type RGBA
  // compression 0, filter method 0, no interlace: bytes 10..12 stay 0
  const stride = width * 4;
  const raw = new Uint8Array(height * (stride + 1)); // each row: filter byte 0 (None), then pixels
  for (let y = 0; y < height; y++) raw.set(rgba.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  const parts = [
    Uint8Array.from(SIGNATURE),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlibSync(raw, { level: 6 })),
    chunk('IEND', new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export interface DecodedPng {
  readonly width: number;
  readonly height: number;
  /** Always expanded to RGBA, 4 bytes per pixel. */
  readonly rgba: Uint8Array;
}

const CHANNELS: Readonly<Record<number, number>> = { 0: 1, 2: 3, 4: 2, 6: 4 };

/** Decodes an 8-bit, non-interlaced PNG (grey, grey+alpha, RGB, RGBA); checks every chunk's CRC. */
export function decodePng(bytes: Uint8Array): DecodedPng {
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) fail('BAD_INPUT', 'png: not a PNG file');
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = 8;
  let width = 0;
  let height = 0;
  let colourType = -1;
  const idat: Uint8Array[] = [];
  for (;;) {
    if (p + 12 > bytes.length) fail('BAD_INPUT', 'png: truncated (no IEND chunk)');
    const len = v.getUint32(p);
    const type = String.fromCharCode(...bytes.subarray(p + 4, p + 8));
    if (p + 12 + len > bytes.length) fail('BAD_INPUT', `png: chunk ${type} is truncated`);
    if (crc32(bytes.subarray(p + 4, p + 8 + len)) !== v.getUint32(p + 8 + len))
      fail('BAD_INPUT', `png: CRC mismatch in chunk ${type}`);
    const data = bytes.subarray(p + 8, p + 8 + len);
    if (type === 'IHDR') {
      width = v.getUint32(p + 8);
      height = v.getUint32(p + 12);
      colourType = data[9] ?? -1;
      if (data[8] !== 8 || data[12] !== 0 || CHANNELS[colourType] === undefined)
        fail(
          'UNSUPPORTED',
          `png: only 8-bit non-interlaced grey/RGB(A) is read (depth ${data[8]}, type ${colourType})`,
        );
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    p += 12 + len;
  }
  const channels = CHANNELS[colourType];
  if (channels === undefined || width === 0) fail('BAD_INPUT', 'png: missing IHDR');
  const joined = new Uint8Array(idat.reduce((a, d) => a + d.length, 0));
  idat.reduce((at, d) => (joined.set(d, at), at + d.length), 0);
  const raw = unzlibSync(joined);
  const stride = width * channels;
  if (raw.length < height * (stride + 1)) fail('BAD_INPUT', 'png: image data is truncated');
  const px = unfilter(raw, width, height, channels);
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const s = i * channels;
    const grey = channels <= 2;
    rgba[i * 4] = px[s] ?? 0;
    rgba[i * 4 + 1] = px[grey ? s : s + 1] ?? 0;
    rgba[i * 4 + 2] = px[grey ? s : s + 2] ?? 0;
    rgba[i * 4 + 3] = channels === 2 || channels === 4 ? (px[s + channels - 1] ?? 0) : 255;
  }
  return { width, height, rgba };
}

/** Reverses the per-row filters (None, Sub, Up, Average, Paeth). */
function unfilter(raw: Uint8Array, width: number, height: number, bpp: number): Uint8Array {
  const stride = width * bpp;
  const out = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? (out[row + x - bpp] as number) : 0;
      const b = y > 0 ? (out[row - stride + x] as number) : 0;
      const c = x >= bpp && y > 0 ? (out[row - stride + x - bpp] as number) : 0;
      let pred: number;
      if (filter === 0) pred = 0;
      else if (filter === 1) pred = a;
      else if (filter === 2) pred = b;
      else if (filter === 3) pred = (a + b) >> 1;
      else if (filter === 4) pred = paeth(a, b, c);
      else fail('BAD_INPUT', `png: unknown filter type ${filter} in row ${y}`);
      out[row + x] = ((raw[src + x] as number) + pred) & 0xff;
    }
  }
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}
