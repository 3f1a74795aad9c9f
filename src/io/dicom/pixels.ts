import { concatChunks } from '../../util/bytes.js';
import { fail, StunetError } from '../../util/errors.js';
import { CODEC_OF_SYNTAX, frameDecoder, type DecodedFrame, type DicomCodecModules } from './codecs.js';
import { getBytes, getNumbers, getString, getUint16, PIXEL_DATA, TS, type DicomDataSet } from './parse.js';
import { decodeRle } from './rle.js';

/** The image pixel module of one file, checked: one grey sample per pixel, 8 or 16 bits, one frame. */
export interface PixelInfo {
  readonly rows: number;
  readonly columns: number;
  readonly bitsAllocated: number;
  readonly bitsStored: number;
  readonly signed: boolean;
}

const NATIVE = new Set<string>([TS.implicitLE, TS.explicitLE, TS.deflatedLE]);
export const RLE_SYNTAX = '1.2.840.10008.1.2.5';

/** Transfer syntaxes whose pixel data this reader decodes. */
export function isSupportedSyntax(ts: string): boolean {
  return NATIVE.has(ts) || ts === RLE_SYNTAX || CODEC_OF_SYNTAX[ts] !== undefined;
}

export function pixelInfo(ds: DicomDataSet): PixelInfo {
  const need = (tag: number, what: string): number => {
    const v = getUint16(ds, tag);
    if (v === undefined) fail('BAD_INPUT', `dicom: ${ds.name}: image without ${what}`);
    return v;
  };
  const rows = need(0x00280010, 'Rows (0028,0010)');
  const columns = need(0x00280011, 'Columns (0028,0011)');
  const bitsAllocated = need(0x00280100, 'BitsAllocated (0028,0100)');
  const bitsStored = getUint16(ds, 0x00280101) ?? bitsAllocated;
  const samples = getUint16(ds, 0x00280002) ?? 1;
  const frames = getNumbers(ds, 0x00280008)?.[0] ?? 1;
  const photometric = getString(ds, 0x00280004) ?? 'MONOCHROME2';
  if (samples !== 1 || !photometric.startsWith('MONOCHROME')) {
    fail(
      'UNSUPPORTED',
      `dicom: ${ds.name}: colour images (${photometric}, ${samples} samples per pixel) are not supported; a greyscale series is needed`,
    );
  }
  if (frames !== 1)
    fail('UNSUPPORTED', `dicom: ${ds.name}: multi-frame images (${frames} frames) are not supported yet`);
  if (bitsAllocated !== 8 && bitsAllocated !== 16) {
    fail(
      'UNSUPPORTED',
      `dicom: ${ds.name}: ${bitsAllocated} bits allocated per pixel; 8 or 16 are supported`,
    );
  }
  if (rows === 0 || columns === 0 || bitsStored === 0 || bitsStored > bitsAllocated) {
    fail(
      'BAD_INPUT',
      `dicom: ${ds.name}: bad image size ${columns}×${rows} or bits stored ${bitsStored} of ${bitsAllocated}`,
    );
  }
  return { rows, columns, bitsAllocated, bitsStored, signed: getUint16(ds, 0x00280103) === 1 };
}

/** Stored values (masked to BitsStored, sign-extended when signed) from little-endian sample bytes. */
function storedValues(bytes: Uint8Array, info: PixelInfo, name: string, signed: boolean): Int32Array {
  const n = info.rows * info.columns;
  const size = info.bitsAllocated / 8;
  if (bytes.length < n * size) {
    fail(
      'BAD_INPUT',
      `dicom: ${name}: pixel data has ${bytes.length} bytes, ${info.columns}×${info.rows} at ${info.bitsAllocated} bits needs ${n * size} (corrupt pixel data)`,
    );
  }
  const out = new Int32Array(n);
  const bits = info.bitsStored;
  const mask = bits >= 32 ? 0xffffffff : (1 << bits) - 1;
  const sign = 1 << (bits - 1);
  for (let i = 0; i < n; i++) {
    let v = size === 1 ? (bytes[i] ?? 0) : (bytes[2 * i] ?? 0) | ((bytes[2 * i + 1] ?? 0) << 8);
    v &= mask;
    out[i] = signed && (v & sign) !== 0 ? v - (mask + 1) : v;
  }
  return out;
}

/** One frame's bytes: its only fragment as it is, or the fragments joined. */
function concat(parts: readonly Uint8Array[]): Uint8Array {
  return parts.length === 1 && parts[0] !== undefined ? parts[0] : concatChunks(parts);
}

function checkDecoded(f: DecodedFrame, info: PixelInfo, name: string, codec: string): Uint8Array {
  if (f.width !== info.columns || f.height !== info.rows || f.components !== 1) {
    fail(
      'BAD_INPUT',
      `dicom: ${name}: the ${codec} stream is ${f.width}×${f.height}×${f.components}, the header says ${info.columns}×${info.rows}×1 (corrupt pixel data)`,
    );
  }
  if (f.bitsPerSample > 8 && info.bitsAllocated === 8) {
    fail(
      'BAD_INPUT',
      `dicom: ${name}: the ${codec} stream has ${f.bitsPerSample} bits, the header 8 allocated`,
    );
  }
  if (f.bitsPerSample <= 8 && info.bitsAllocated === 16) {
    // 8-bit samples in a 16-bit frame: widen
    const wide = new Uint8Array(f.bytes.length * 2);
    for (let i = 0; i < f.bytes.length; i++) wide[2 * i] = f.bytes[i] ?? 0;
    return wide;
  }
  return f.bytes;
}

/** Decodes one file's pixels to stored values (rows × columns, row-major as in the file). */
export async function decodePixels(
  ds: DicomDataSet,
  info: PixelInfo,
  codecs?: DicomCodecModules,
): Promise<Int32Array> {
  const name = ds.name;
  const ts = ds.transferSyntax;
  if (!ds.elements.has(PIXEL_DATA)) fail('BAD_INPUT', `dicom: ${name}: no pixel data (7FE0,0010)`);
  if (NATIVE.has(ts)) {
    const bytes = getBytes(ds, PIXEL_DATA) ?? new Uint8Array(0);
    if (ds.fragments !== undefined)
      fail('BAD_INPUT', `dicom: ${name}: encapsulated pixel data in a native transfer syntax`);
    return storedValues(bytes, info, name, info.signed);
  }
  const fragments = ds.fragments;
  if (fragments === undefined || fragments.length === 0) {
    fail(
      'BAD_INPUT',
      `dicom: ${name}: transfer syntax ${ts} needs encapsulated pixel data, found none (corrupt pixel data)`,
    );
  }
  if (ts === RLE_SYNTAX)
    return storedValues(decodeRle(concat(fragments), info, name), info, name, info.signed);
  const codec = CODEC_OF_SYNTAX[ts];
  if (codec === undefined) fail('UNSUPPORTED', `dicom: ${name}: transfer syntax ${ts} is not supported`);
  const decode = await frameDecoder(codec, codecs);
  let frame: DecodedFrame;
  try {
    frame = decode(concat(fragments), name);
  } catch (e) {
    if (e instanceof StunetError) throw e;
    fail(
      'BAD_INPUT',
      `dicom: ${name}: the ${codec} pixel data does not decode (${e instanceof Error ? e.message : `codec exception ${String(e)}`}): corrupt pixel data`,
    );
  }
  // the stream's own signedness wins for JPEG 2000 (it carries it); the header's for the rest
  const signed = codec === 'jpeg2000' ? frame.signed || info.signed : info.signed;
  return storedValues(checkDecoded(frame, info, name, codec), info, name, signed);
}
