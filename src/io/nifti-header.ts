import { fail } from '../util/errors.js';

/**
 * NIfTI-1 (348-byte) and NIfTI-2 (540-byte) headers: parse and serialize, both endiannesses.
 * Field names are the spec's own (nifti1.h / nifti2.h: `scl_slope`, `sform_code`, `srow_x`), so the
 * header reads like the standard and like nibabel's `header['…']`. Bytes in, bytes out.
 */
export interface NiftiExtension {
  /** ecode (e.g. 4 = AFNI, 6 = comment, 44 = JSON). */
  readonly code: number;
  /** The esize − 8 payload bytes, as stored (padding included). */
  readonly data: Uint8Array;
}

export interface NiftiHeader {
  readonly version: 1 | 2;
  readonly littleEndian: boolean;
  /** `true` for a single `.nii` file (magic n+1 / n+2), `false` for a `.hdr`/`.img` pair (ni1 / ni2). */
  readonly singleFile: boolean;
  readonly dim_info: number;
  /** dim[0] = number of dimensions, dim[1..7] = sizes (i, j, k, t, …). Always 8 entries. */
  readonly dim: readonly number[];
  readonly intent_p1: number;
  readonly intent_p2: number;
  readonly intent_p3: number;
  readonly intent_code: number;
  readonly datatype: number;
  readonly bitpix: number;
  readonly slice_start: number;
  /** pixdim[0] = qfac (±1), pixdim[1..3] = voxel size, pixdim[4] = TR. Always 8 entries. */
  readonly pixdim: readonly number[];
  readonly vox_offset: number;
  readonly scl_slope: number;
  readonly scl_inter: number;
  readonly slice_end: number;
  readonly slice_code: number;
  readonly xyzt_units: number;
  readonly cal_max: number;
  readonly cal_min: number;
  readonly slice_duration: number;
  readonly toffset: number;
  readonly descrip: string;
  readonly aux_file: string;
  readonly qform_code: number;
  readonly sform_code: number;
  readonly quatern_b: number;
  readonly quatern_c: number;
  readonly quatern_d: number;
  readonly qoffset_x: number;
  readonly qoffset_y: number;
  readonly qoffset_z: number;
  readonly srow_x: readonly number[];
  readonly srow_y: readonly number[];
  readonly srow_z: readonly number[];
  readonly intent_name: string;
  readonly extensions: readonly NiftiExtension[];
}

type Kind = 'u8' | 'i16' | 'i32' | 'i64' | 'f32' | 'f64' | 'str';
type FieldName = Exclude<keyof NiftiHeader, 'version' | 'littleEndian' | 'singleFile' | 'extensions'>;
/** [field, byte offset, kind, count (array length, or string bytes)]. */
type Field = readonly [FieldName, number, Kind, number];

// nifti1.h, struct nifti_1_header (the Analyze-only fields are not kept; we write them as zeros).
const LAYOUT_1: readonly Field[] = [
  ['dim_info', 39, 'u8', 1],
  ['dim', 40, 'i16', 8],
  ['intent_p1', 56, 'f32', 1],
  ['intent_p2', 60, 'f32', 1],
  ['intent_p3', 64, 'f32', 1],
  ['intent_code', 68, 'i16', 1],
  ['datatype', 70, 'i16', 1],
  ['bitpix', 72, 'i16', 1],
  ['slice_start', 74, 'i16', 1],
  ['pixdim', 76, 'f32', 8],
  ['vox_offset', 108, 'f32', 1],
  ['scl_slope', 112, 'f32', 1],
  ['scl_inter', 116, 'f32', 1],
  ['slice_end', 120, 'i16', 1],
  ['slice_code', 122, 'u8', 1],
  ['xyzt_units', 123, 'u8', 1],
  ['cal_max', 124, 'f32', 1],
  ['cal_min', 128, 'f32', 1],
  ['slice_duration', 132, 'f32', 1],
  ['toffset', 136, 'f32', 1],
  ['descrip', 148, 'str', 80],
  ['aux_file', 228, 'str', 24],
  ['qform_code', 252, 'i16', 1],
  ['sform_code', 254, 'i16', 1],
  ['quatern_b', 256, 'f32', 1],
  ['quatern_c', 260, 'f32', 1],
  ['quatern_d', 264, 'f32', 1],
  ['qoffset_x', 268, 'f32', 1],
  ['qoffset_y', 272, 'f32', 1],
  ['qoffset_z', 276, 'f32', 1],
  ['srow_x', 280, 'f32', 4],
  ['srow_y', 296, 'f32', 4],
  ['srow_z', 312, 'f32', 4],
  ['intent_name', 328, 'str', 16],
];

// nifti2.h, struct nifti_2_header.
const LAYOUT_2: readonly Field[] = [
  ['datatype', 12, 'i16', 1],
  ['bitpix', 14, 'i16', 1],
  ['dim', 16, 'i64', 8],
  ['intent_p1', 80, 'f64', 1],
  ['intent_p2', 88, 'f64', 1],
  ['intent_p3', 96, 'f64', 1],
  ['pixdim', 104, 'f64', 8],
  ['vox_offset', 168, 'i64', 1],
  ['scl_slope', 176, 'f64', 1],
  ['scl_inter', 184, 'f64', 1],
  ['cal_max', 192, 'f64', 1],
  ['cal_min', 200, 'f64', 1],
  ['slice_duration', 208, 'f64', 1],
  ['toffset', 216, 'f64', 1],
  ['slice_start', 224, 'i64', 1],
  ['slice_end', 232, 'i64', 1],
  ['descrip', 240, 'str', 80],
  ['aux_file', 320, 'str', 24],
  ['qform_code', 344, 'i32', 1],
  ['sform_code', 348, 'i32', 1],
  ['quatern_b', 352, 'f64', 1],
  ['quatern_c', 360, 'f64', 1],
  ['quatern_d', 368, 'f64', 1],
  ['qoffset_x', 376, 'f64', 1],
  ['qoffset_y', 384, 'f64', 1],
  ['qoffset_z', 392, 'f64', 1],
  ['srow_x', 400, 'f64', 4],
  ['srow_y', 432, 'f64', 4],
  ['srow_z', 464, 'f64', 4],
  ['slice_code', 496, 'i32', 1],
  ['xyzt_units', 500, 'i32', 1],
  ['intent_code', 504, 'i32', 1],
  ['intent_name', 508, 'str', 16],
  ['dim_info', 524, 'u8', 1],
];

export const HEADER_SIZE = { 1: 348, 2: 540 } as const;
const MAGIC_OFFSET = { 1: 344, 2: 4 } as const;
const SIZE: Record<Exclude<Kind, 'str'>, number> = { u8: 1, i16: 2, i32: 4, i64: 8, f32: 4, f64: 8 };

function readScalar(v: DataView, at: number, kind: Exclude<Kind, 'str'>, le: boolean): number {
  switch (kind) {
    case 'u8':
      return v.getUint8(at);
    case 'i16':
      return v.getInt16(at, le);
    case 'i32':
      return v.getInt32(at, le);
    case 'i64': {
      const big = v.getBigInt64(at, le);
      if (big > BigInt(Number.MAX_SAFE_INTEGER) || big < -BigInt(Number.MAX_SAFE_INTEGER)) {
        fail('UNSUPPORTED', `nifti: 64-bit header value ${big} at byte ${at} is too large`);
      }
      return Number(big);
    }
    case 'f32':
      return v.getFloat32(at, le);
    case 'f64':
      return v.getFloat64(at, le);
  }
}

function writeScalar(v: DataView, at: number, kind: Exclude<Kind, 'str'>, x: number, le: boolean): void {
  switch (kind) {
    case 'u8':
      v.setUint8(at, x);
      return;
    case 'i16':
      v.setInt16(at, x, le);
      return;
    case 'i32':
      v.setInt32(at, x, le);
      return;
    case 'i64':
      v.setBigInt64(at, BigInt(Math.trunc(x)), le);
      return;
    case 'f32':
      v.setFloat32(at, x, le);
      return;
    case 'f64':
      v.setFloat64(at, x, le);
      return;
  }
}

/** Reads a NUL-terminated Latin-1 string (header strings are fixed-width char arrays). */
function readString(bytes: Uint8Array, at: number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) {
    const c = bytes[at + i] ?? 0;
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return s;
}

/** Detects version and byte order from sizeof_hdr (348 → NIfTI-1, 540 → NIfTI-2, either endianness). */
export function sniffNifti(bytes: Uint8Array): { version: 1 | 2; littleEndian: boolean } {
  if (bytes.length < 4) fail('BAD_INPUT', `nifti: file is truncated (${bytes.length} bytes, no header)`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const le of [true, false]) {
    const size = v.getInt32(0, le);
    if (size === 348) return { version: 1, littleEndian: le };
    if (size === 540) return { version: 2, littleEndian: le };
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) fail('BAD_INPUT', 'nifti: gzip data was not decompressed');
  fail(
    'BAD_INPUT',
    `nifti: not a NIfTI file (sizeof_hdr is ${v.getInt32(0, true)}, expected 348 for NIfTI-1 or 540 ` +
      'for NIfTI-2); check that the file is .nii, .nii.gz or .hdr',
  );
}

/** Parses the header and its extensions; `bytes` is the whole .nii (or the .hdr). */
export function parseNiftiHeader(bytes: Uint8Array): NiftiHeader {
  const { version, littleEndian: le } = sniffNifti(bytes);
  const size = HEADER_SIZE[version];
  if (bytes.length < size) {
    fail('BAD_INPUT', `nifti: header is truncated (${bytes.length} of ${size} bytes)`);
  }
  const magic = readString(bytes, MAGIC_OFFSET[version], 4);
  const single = `n+${version}`;
  if (magic !== single && magic !== `ni${version}`) {
    fail(
      'UNSUPPORTED',
      `nifti: bad magic ${JSON.stringify(magic)} (expected "${single}" or "ni${version}"); ` +
        'plain Analyze 7.5 files are not supported — convert them to NIfTI first (e.g. with nibabel)',
    );
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fields: Record<string, unknown> = {};
  for (const [name, at, kind, count] of version === 1 ? LAYOUT_1 : LAYOUT_2) {
    if (kind === 'str') fields[name] = readString(bytes, at, count);
    else if (count === 1) fields[name] = readScalar(v, at, kind, le);
    else fields[name] = Array.from({ length: count }, (_, i) => readScalar(v, at + i * SIZE[kind], kind, le));
  }
  const header = fields as unknown as Omit<
    NiftiHeader,
    'version' | 'littleEndian' | 'singleFile' | 'extensions'
  >;
  const end = magic === single ? header.vox_offset : bytes.length;
  return {
    ...header,
    version,
    littleEndian: le,
    singleFile: magic === single,
    extensions: parseExtensions(bytes, size, end, le),
  };
}

/**
 * Extensions follow the header: a 4-byte extender whose first byte is non-zero, then blocks of
 * (esize int32, ecode int32, esize − 8 bytes), up to vox_offset. A malformed block ends the list (as in
 * nifti1_io) rather than making the image unreadable; the voxel data does not depend on it.
 */
function parseExtensions(bytes: Uint8Array, at: number, end: number, le: boolean): NiftiExtension[] {
  if (at + 4 > Math.min(end, bytes.length) || bytes[at] === 0) return [];
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: NiftiExtension[] = [];
  let p = at + 4;
  while (p + 8 <= Math.min(end, bytes.length)) {
    const esize = v.getInt32(p, le);
    if (esize < 8 || p + esize > Math.min(end, bytes.length)) break;
    out.push({ code: v.getInt32(p + 4, le), data: bytes.slice(p + 8, p + esize) });
    p += esize;
  }
  return out;
}

/** Bytes the header + extender + extensions take (where the data starts in a .nii we write). */
export function headerBytesWithExtensions(header: Pick<NiftiHeader, 'version' | 'extensions'>): number {
  const padded = (e: NiftiExtension): number => Math.ceil((8 + e.data.length) / 16) * 16;
  return HEADER_SIZE[header.version] + 4 + header.extensions.reduce((a, e) => a + padded(e), 0);
}

/**
 * Serializes a header followed by the extender and extensions (vox_offset is taken from the header).
 * Extension payloads are zero-padded so every esize is a multiple of 16, as the spec requires.
 */
export function serializeNiftiHeader(header: NiftiHeader): Uint8Array {
  const { version, littleEndian: le } = header;
  const exts = header.extensions.map((e) => ({ ...e, esize: Math.ceil((8 + e.data.length) / 16) * 16 }));
  const size = HEADER_SIZE[version];
  const total = size + 4 + exts.reduce((a, e) => a + e.esize, 0);
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  v.setInt32(0, size, le);
  if (version === 1) out[38] = 0x72; // 'regular' = 'r', as nibabel and nifti1_io write it
  const magic = header.singleFile ? `n+${version}` : `ni${version}`;
  for (let i = 0; i < 3; i++) out[MAGIC_OFFSET[version] + i] = magic.charCodeAt(i);
  if (version === 2) out.set([0x0d, 0x0a, 0x1a, 0x0a], 8); // "\r\n\032\n" tail of the NIfTI-2 magic
  for (const [name, at, kind, count] of version === 1 ? LAYOUT_1 : LAYOUT_2) {
    const value: unknown = header[name];
    if (kind === 'str') {
      const s = typeof value === 'string' ? value : '';
      for (let i = 0; i < Math.min(s.length, count); i++) out[at + i] = s.charCodeAt(i) & 0xff;
    } else if (Array.isArray(value)) {
      for (let i = 0; i < count; i++) writeScalar(v, at + i * SIZE[kind], kind, Number(value[i] ?? 0), le);
    } else {
      writeScalar(v, at, kind, Number(value), le);
    }
  }
  let p = size;
  if (exts.length > 0) out[p] = 1;
  p += 4;
  for (const e of exts) {
    v.setInt32(p, e.esize, le);
    v.setInt32(p + 4, e.code, le);
    out.set(e.data, p + 8);
    p += e.esize;
  }
  return out;
}
