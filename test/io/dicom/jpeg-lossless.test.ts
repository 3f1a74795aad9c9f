/**
 * Our JPEG lossless decoder on streams with restart intervals (which the DCMTK fixtures do not have),
 * every predictor, 8 to 16 bits; the DCMTK-made series are in syntaxes.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeJpegLossless } from '../../../src/io/dicom/jpeg-lossless.js';
import { encodeJpegLossless } from './make-jpeg-lossless.js';

function samples(width: number, height: number, precision: number): Uint16Array {
  const out = new Uint16Array(width * height);
  let s = 12345;
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    // smooth ramps with noise, and a few extremes
    out[i] =
      i % 17 === 0
        ? (s >>> 8) % 2 ** precision
        : ((i % width) * 37 + Math.floor(i / width) * 11 + (s >>> 28)) % 2 ** precision;
  }
  return out;
}

for (const precision of [8, 12, 16]) {
  for (const restart of [0, 5, 13, 26]) {
    test(`${precision}-bit, restart interval ${restart}, predictors 1–7`, () => {
      const width = 13;
      const height = 7;
      const input = samples(width, height, precision);
      for (let predictor = 1; predictor <= 7; predictor++) {
        const f = decodeJpegLossless(
          encodeJpegLossless(input, width, height, { precision, predictor, restart }),
          'x',
        );
        const size = precision > 8 ? 2 : 1;
        const got = Array.from({ length: width * height }, (_, i) =>
          size === 1 ? (f.bytes[i] ?? 0) : (f.bytes[2 * i] ?? 0) | ((f.bytes[2 * i + 1] ?? 0) << 8),
        );
        assert.deepEqual(got, [...input], `predictor ${predictor}`);
      }
    });
  }
}

test('a stream cut short is an error, not zeros', () => {
  const input = samples(13, 7, 12);
  const full = encodeJpegLossless(input, 13, 7, { precision: 12, predictor: 1, restart: 13 });
  assert.throws(
    () => decodeJpegLossless(full.subarray(0, full.length - 40), 'cut'),
    /cut: the JPEG lossless stream (runs out|ends before)/,
  );
});
