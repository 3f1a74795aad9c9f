import { gzipSync } from 'fflate';
import { fail } from '../util/errors.js';
import { affineToQuatern, bestAffine, type AffineSource, type Mat4 } from './geometry.js';
import {
  datatypeByName,
  decodeVoxels,
  encodeVoxels,
  gunzipHead,
  isGzip,
  scaleVoxels,
  type NiftiDatatype,
  type NiftiRawData,
} from './nifti-data.js';
import {
  HEADER_SIZE,
  headerBytesWithExtensions,
  parseNiftiHeader,
  serializeNiftiHeader,
  type NiftiHeader,
} from './nifti-header.js';
import {
  checkHolds,
  checkMemory,
  DEFAULT_NIFTI_MAX_BYTES,
  inflateData,
  voxelLayout,
  type ReadNiftiOptions,
} from './nifti-layout.js';

export type { NiftiDatatype, NiftiRawData } from './nifti-data.js';
export type { NiftiHeader, NiftiExtension } from './nifti-header.js';
export { DEFAULT_NIFTI_MAX_BYTES, squeezeTrailing, type ReadNiftiOptions } from './nifti-layout.js';

/**
 * NIfTI-1/-2 read (.nii, .nii.gz, .hdr + .img, either byte order, every scalar datatype) and write
 * (.nii / .nii.gz). Bytes in, bytes out; gzip via fflate.
 */
export interface NiftiImage {
  /** Every header field as read (or as it will be written, for images we build). */
  readonly header: NiftiHeader;
  /** Sizes (i, j, k[, t, …]) = dim[1..dim[0]], with trailing 1s after the 3rd dropped (64×64×30×1 → 3D). */
  readonly dims: readonly number[];
  /** Voxel → world (RAS+ mm): sform if sform_code > 0, else qform, else pixdim (NIfTI-1 rules). */
  readonly affine: Mat4;
  readonly affineSource: AffineSource;
  /** Stored datatype (that of `raw`). */
  readonly datatype: NiftiDatatype;
  /** scl_slope·raw + scl_inter as float32, NIfTI order (i fastest). int32/64 values beyond 2²⁴ and
   * float64 lose precision here; `raw` keeps them. */
  readonly data: Float32Array;
  /** Voxels as stored, before scaling, in machine byte order. */
  readonly raw: NiftiRawData;
}

/**
 * Reads a NIfTI image. `bytes` is a .nii / .nii.gz, or a .hdr with `imgBytes` its .img (gzipped or not).
 * Any dimensionality is read; use `require3d` where one 3D volume is needed. A gzipped file is inflated
 * only after its header (the first bytes) showed that its voxels fit `options.maxBytes` and the file.
 */
export function readNifti(bytes: Uint8Array, options?: ReadNiftiOptions): NiftiImage;
export function readNifti(bytes: Uint8Array, imgBytes?: Uint8Array, options?: ReadNiftiOptions): NiftiImage;
export function readNifti(
  bytes: Uint8Array,
  imgOrOptions?: Uint8Array | ReadNiftiOptions,
  maybeOptions?: ReadNiftiOptions,
): NiftiImage {
  const imgBytes = imgOrOptions instanceof Uint8Array ? imgOrOptions : undefined;
  const options = (imgOrOptions instanceof Uint8Array ? maybeOptions : imgOrOptions) ?? {};
  const gz = isGzip(bytes);
  // NIfTI-2's header is the longer; the extensions are read again from the whole file below
  let first = parseNiftiHeader(gz ? gunzipHead(bytes, HEADER_SIZE[2] + 4, 'the .nii.gz') : bytes);
  if (gz && !first.singleFile) first = parseNiftiHeader(gunzipHead(bytes, 1 << 24, 'the .hdr.gz'));
  if (!first.singleFile && imgBytes === undefined) {
    fail('BAD_INPUT', 'nifti: this is a .hdr header (magic ni1/ni2); pass the matching .img bytes too');
  }
  const source = first.singleFile ? bytes : (imgBytes as Uint8Array);
  const layout = voxelLayout(first, source, first.singleFile ? '.nii.gz' : '.img.gz');
  if (!layout.gz) checkHolds(source, layout);
  checkMemory(layout, options.maxBytes ?? DEFAULT_NIFTI_MAX_BYTES);
  const file = layout.gz ? inflateData(source, layout) : source;
  checkHolds(file, layout);
  const { offset, count, info } = layout;
  const header = first.singleFile && gz ? parseNiftiHeader(file) : first;
  const raw = decodeVoxels(file, offset, count, info, header.littleEndian, layout.gz);
  const { affine, source: affineSource } = bestAffine(header);
  const data = scaleVoxels(raw, header.scl_slope, header.scl_inter);
  return { header, dims: layout.dims, affine, affineSource, datatype: info.name, data, raw };
}

/** The (i, j, k) sizes of a 3D image; a 2D, 4D or higher image is refused with its dims. */
export function require3d(
  image: Pick<NiftiImage, 'dims'>,
  what = 'image',
): readonly [number, number, number] {
  const d = image.dims;
  const [i, j, k] = d;
  if (d.length < 3 || i === undefined || j === undefined || k === undefined) {
    fail('BAD_INPUT', `nifti: ${what} is ${d.length}D (${d.join('×')}); a 3D volume is needed`);
  }
  if (d.length > 3) {
    const frames = d.slice(3).reduce((a, b) => a * b, 1);
    fail(
      'UNSUPPORTED',
      `nifti: ${what} is ${d.length}D (${d.join('×')}, ${frames} volumes); a single 3D volume is ` +
        'needed — split the series (e.g. fslsplit) and pass one volume or one channel per file',
    );
  }
  return [i, j, k];
}

/** Counts NaN and ±Inf voxels (networks and resampling turn one NaN into a ruined prediction). */
export function findNonFinite(data: ArrayLike<number>): { nan: number; inf: number; firstIndex: number } {
  let nan = 0;
  let inf = 0;
  let firstIndex = -1;
  for (let i = 0; i < data.length; i++) {
    const v = data[i] ?? 0;
    if (Number.isFinite(v)) continue;
    if (Number.isNaN(v)) nan++;
    else inf++;
    if (firstIndex < 0) firstIndex = i;
  }
  return { nan, inf, firstIndex };
}

export function assertFinite(data: ArrayLike<number>, what = 'image'): void {
  const r = findNonFinite(data);
  if (r.firstIndex >= 0) {
    fail(
      'BAD_INPUT',
      `nifti: ${what} has ${r.nan} NaN and ${r.inf} infinite voxels (first at flat index ${r.firstIndex}); ` +
        'replace them (e.g. with 0 or the minimum) before running the network',
    );
  }
}

export interface WriteNiftiOptions {
  /** Stored type; default: the image's own when writable, else float32. */
  readonly datatype?: NiftiDatatype;
  /** Stored = (value − inter) / slope, rounded for integer types. Default: the image's own scl_slope /
   * scl_inter when `datatype` is the image's own type (so a scaled uint8 CT round-trips), else none. */
  readonly scale?: { readonly slope: number; readonly inter: number };
  /** Default true (.nii.gz). */
  readonly gzip?: boolean;
  /** Deflate level 0–9; default 1 like nibabel (fflate at 6 is ~2.5× slower for a few % smaller files). */
  readonly gzipLevel?: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
  /** Default: the input's version (NIfTI-1 for images we build). */
  readonly version?: 1 | 2;
}

const WRITABLE: readonly NiftiDatatype[] = [
  'uint8',
  'int8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'float32',
  'float64',
];

/**
 * Writes `image.data` with `image.affine` into a single-file NIfTI, little-endian: sform = the affine,
 * qform = its nearest rigid version (exact unless sheared), pixdim[1..3] = the affine's column norms,
 * codes from the input (sform_code, else qform_code, else 1 = scanner). Other header fields are kept.
 */
export function writeNifti(image: NiftiImage, options: WriteNiftiOptions = {}): Uint8Array {
  const datatype = options.datatype ?? (WRITABLE.includes(image.datatype) ? image.datatype : 'float32');
  if (!WRITABLE.includes(datatype)) {
    fail('UNSUPPORTED', `nifti: cannot write ${datatype}; use one of ${WRITABLE.join(', ')}`);
  }
  const info = datatypeByName(datatype);
  const count = image.dims.reduce((a, b) => a * b, 1);
  if (image.data.length !== count) {
    fail(
      'SHAPE_MISMATCH',
      `nifti: dims ${image.dims.join('×')} need ${count} voxels, data has ${image.data.length}`,
    );
  }
  const version = options.version ?? image.header.version;
  if (version === 1 && image.dims.some((d) => d > 32767)) {
    fail('UNSUPPORTED', `nifti: size ${image.dims.join('×')} exceeds NIfTI-1's 32767 limit; write version 2`);
  }
  const own = image.header.scl_slope !== 0 && Number.isFinite(image.header.scl_slope);
  const scale =
    options.scale ??
    (datatype === image.datatype && own
      ? { slope: image.header.scl_slope, inter: image.header.scl_inter }
      : undefined);
  const stored = toStored(image.data, datatype, info.range, scale);
  const header = headerForWrite(image, { version, code: info.code, bitpix: info.bytes * 8, scale });
  const body = serializeNiftiHeader(header);
  const voxels = encodeVoxels(stored, info);
  const out = new Uint8Array(body.length + voxels.length);
  out.set(body, 0);
  out.set(voxels, body.length);
  return options.gzip === false ? out : gzipSync(out, { level: options.gzipLevel ?? 1 });
}

function toStored(
  data: Float32Array,
  datatype: NiftiDatatype,
  range: readonly [number, number] | undefined,
  scale: { readonly slope: number; readonly inter: number } | undefined,
): ArrayLike<number> {
  if (
    scale !== undefined &&
    (scale.slope === 0 || !Number.isFinite(scale.slope) || !Number.isFinite(scale.inter))
  ) {
    fail('BAD_INPUT', `nifti: invalid scale slope ${scale.slope} / inter ${scale.inter}`);
  }
  if (range === undefined) {
    if (scale === undefined) return data;
    return Float64Array.from(data, (v) => (v - scale.inter) / scale.slope);
  }
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i] ?? 0;
    const s = scale === undefined ? v : Math.round((v - scale.inter) / scale.slope);
    if (!Number.isInteger(s) || s < range[0] || s > range[1]) {
      const why =
        scale === undefined && Number.isFinite(v) && !Number.isInteger(v)
          ? 'is not an integer'
          : 'is out of range';
      fail(
        'BAD_INPUT',
        `nifti: voxel ${i} value ${v} ${why} for ${datatype} [${range[0]}, ${range[1]}]` +
          (scale === undefined ? '' : ` at slope ${scale.slope} / inter ${scale.inter}`) +
          '; write as float32 or pass a scale',
      );
    }
    out[i] = s;
  }
  return out;
}

function headerForWrite(
  image: NiftiImage,
  o: { version: 1 | 2; code: number; bitpix: number; scale: { slope: number; inter: number } | undefined },
): NiftiHeader {
  const base = { ...headerWithGeometry(image.header, image.dims, image.affine), version: o.version };
  return {
    ...base,
    littleEndian: true,
    singleFile: true,
    datatype: o.code,
    bitpix: o.bitpix,
    vox_offset: headerBytesWithExtensions(base),
    scl_slope: o.scale?.slope ?? 1,
    scl_inter: o.scale?.inter ?? 0,
  };
}

/**
 * The header with dims and geometry set from `affine` as nibabel does: sform = affine, qform = its
 * nearest rigid version, pixdim[0] = qfac, pixdim[1..3] = column norms; codes from the input (sform_code,
 * else qform_code, else 1 = scanner), so re-reading gives back `affine` (from the sform).
 */
export function headerWithGeometry(h: NiftiHeader, dims: readonly number[], affine: Mat4): NiftiHeader {
  const q = affineToQuatern(affine);
  const sformCode = h.sform_code > 0 ? h.sform_code : h.qform_code > 0 ? h.qform_code : 1;
  const qformCode = h.qform_code > 0 ? h.qform_code : sformCode;
  const row = (r: 0 | 1 | 2): number[] => [...affine[r]];
  return {
    ...h,
    dim: [dims.length, ...dims, ...new Array<number>(7 - dims.length).fill(1)],
    pixdim: [q.qfac, ...q.zooms, ...h.pixdim.slice(4, 8)],
    qform_code: qformCode,
    sform_code: sformCode,
    quatern_b: q.quatern_b,
    quatern_c: q.quatern_c,
    quatern_d: q.quatern_d,
    qoffset_x: q.qoffset_x,
    qoffset_y: q.qoffset_y,
    qoffset_z: q.qoffset_z,
    srow_x: row(0),
    srow_y: row(1),
    srow_z: row(2),
  };
}
