import { fail } from '../../util/errors.js';

/**
 * DICOM RLE Lossless (PS3.5 annex G): a 64-byte header (segment count, 15 offsets), then one PackBits
 * segment per byte plane, most significant plane first. Returns little-endian samples.
 */
export function decodeRle(
  frame: Uint8Array,
  info: { readonly rows: number; readonly columns: number; readonly bitsAllocated: number },
  name: string,
): Uint8Array {
  const bad = (why: string): never =>
    fail('BAD_INPUT', `dicom: ${name}: RLE pixel data ${why} (corrupt pixel data)`);
  if (frame.length < 64) bad(`is ${frame.length} bytes, shorter than its 64-byte header`);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const segments = view.getUint32(0, true);
  const planes = info.bitsAllocated / 8;
  if (segments !== planes)
    bad(`has ${segments} segments, ${info.bitsAllocated}-bit greyscale needs ${planes}`);
  const n = info.rows * info.columns;
  const out = new Uint8Array(n * planes);
  for (let s = 0; s < segments; s++) {
    const start = view.getUint32(4 + 4 * s, true);
    const end = s + 1 < segments ? view.getUint32(8 + 4 * s, true) : frame.length;
    if (start < 64 || end > frame.length || end < start)
      bad(`segment ${s} spans bytes ${start}–${end} of ${frame.length}`);
    // plane 0 is the most significant byte: byte (planes − 1 − s) of each little-endian sample
    const byte = planes - 1 - s;
    let o = 0;
    let p = start;
    while (p < end && o < n) {
      const c = frame[p++] ?? 0;
      if (c < 128) {
        const count = c + 1;
        if (p + count > end || o + count > n) bad(`segment ${s} overruns at byte ${p}`);
        for (let k = 0; k < count; k++) out[o++ * planes + byte] = frame[p++] ?? 0;
      } else if (c > 128) {
        const count = 257 - c;
        if (p >= end || o + count > n) bad(`segment ${s} overruns at byte ${p}`);
        const v = frame[p++] ?? 0;
        for (let k = 0; k < count; k++) out[o++ * planes + byte] = v;
      }
    }
    if (o !== n) bad(`segment ${s} holds ${o} of ${n} pixels`);
  }
  return out;
}
