import { fail } from '../util/errors.js';
import { bestAffine, lpsFromAffine, type Mat4, type Triple } from './geometry.js';
import { headerWithGeometry, require3d, squeezeTrailing, type NiftiImage } from './nifti.js';
import { datatypeOfRaw, type NiftiRawData } from './nifti-data.js';
import type { NiftiHeader } from './nifti-header.js';
import type { Volume } from './volume.js';

/**
 * NIfTI image ⇄ the array nnU-Net sees through SimpleITK. NIfTI stores voxels with i fastest, so the
 * same bytes read in C order are a [k][j][i] array: axes (Z, Y, X) = (k, j, i), with no copy.
 * Spacing is reversed the same way; origin/direction are SimpleITK's (LPS, index order i, j, k).
 */
export interface SitkView {
  /** (1, Z, Y, X); `data` is the image's `data` (shared, not copied). */
  readonly volume: Volume;
  /** SimpleITK GetSpacing() reversed, from pixdim[3], pixdim[2], pixdim[1] (mm). */
  readonly spacingZYX: Triple;
  /** SimpleITK GetOrigin() (LPS mm). */
  readonly originLPS: Triple;
  /** SimpleITK GetDirection() (3×3 row-major, LPS, columns for i, j, k). */
  readonly directionLPS: readonly number[];
}

export function niftiToVolume(image: NiftiImage): SitkView {
  const [ni, nj, nk] = require3d(image);
  const p = image.header.pixdim;
  const spacing = (i: number): number => Math.abs(p[i] ?? 1);
  return {
    volume: { data: image.data, shape: [1, nk, nj, ni] },
    spacingZYX: [spacing(3), spacing(2), spacing(1)],
    ...lpsFromAffine(image.affine),
  };
}

type VolumeData = Float32Array | Int16Array | Uint8Array | Uint16Array | Int32Array;

/**
 * A (1, Z, Y, X) volume back into a NIfTI image with the geometry of `like` (the image it came from,
 * e.g. a segmentation of `like`): same affine, codes, units, description; datatype from the array
 * (Uint8Array → uint8, Uint16Array → uint16, Int16Array → int16, Int32Array → int32, Float32Array → float32), no scaling.
 */
export function volumeToNifti(volume: Volume<VolumeData>, like: NiftiImage): NiftiImage {
  const [c, z, y, x] = volume.shape;
  const [ni, nj, nk] = require3d(like, 'reference image');
  if (c !== 1) {
    fail(
      'SHAPE_MISMATCH',
      `nifti: volume has ${c} channels; write one channel per file (slice channel c first)`,
    );
  }
  if (z !== nk || y !== nj || x !== ni) {
    fail(
      'SHAPE_MISMATCH',
      `nifti: volume (Z, Y, X) = (${z}, ${y}, ${x}) does not match the reference image ` +
        `(i, j, k) = (${ni}, ${nj}, ${nk}); expected (${nk}, ${nj}, ${ni})`,
    );
  }
  return createNifti({ raw: volume.data, dims: like.dims, affine: like.affine, header: like.header });
}

/** A fresh NIfTI-1 header: everything zero/empty except the usual defaults (mm + s units). */
export function defaultNiftiHeader(): NiftiHeader {
  return {
    version: 1,
    littleEndian: true,
    singleFile: true,
    dim_info: 0,
    dim: [3, 1, 1, 1, 1, 1, 1, 1],
    intent_p1: 0,
    intent_p2: 0,
    intent_p3: 0,
    intent_code: 0,
    datatype: 16,
    bitpix: 32,
    slice_start: 0,
    pixdim: [1, 1, 1, 1, 1, 1, 1, 1],
    vox_offset: 352,
    scl_slope: 1,
    scl_inter: 0,
    slice_end: 0,
    slice_code: 0,
    xyzt_units: 10, // NIFTI_UNITS_MM | NIFTI_UNITS_SEC
    cal_max: 0,
    cal_min: 0,
    slice_duration: 0,
    toffset: 0,
    descrip: '',
    aux_file: '',
    qform_code: 0,
    sform_code: 0,
    quatern_b: 0,
    quatern_c: 0,
    quatern_d: 0,
    qoffset_x: 0,
    qoffset_y: 0,
    qoffset_z: 0,
    srow_x: [1, 0, 0, 0],
    srow_y: [0, 1, 0, 0],
    srow_z: [0, 0, 1, 0],
    intent_name: '',
    extensions: [],
  };
}

/**
 * Builds an image from voxels (NIfTI order, i fastest), sizes (i, j, k[, …]) and an affine. Fields of
 * `header` are kept except datatype, scaling, display range and geometry (set from `affine` as the
 * writer will store it).
 */
export function createNifti(init: {
  raw: NiftiRawData;
  dims: readonly number[];
  affine: Mat4;
  header?: NiftiHeader;
}): NiftiImage {
  const { raw, affine } = init;
  const dims = squeezeTrailing(init.dims);
  const count = dims.reduce((a, b) => a * b, 1);
  if (raw.length !== count) {
    fail('SHAPE_MISMATCH', `nifti: dims ${dims.join('×')} need ${count} voxels, got ${raw.length}`);
  }
  const info = datatypeOfRaw(raw);
  const base = init.header ?? defaultNiftiHeader();
  const header = headerWithGeometry(
    {
      ...base,
      datatype: info.code,
      bitpix: info.bytes * 8,
      scl_slope: 1,
      scl_inter: 0,
      cal_min: 0,
      cal_max: 0,
    },
    dims,
    affine,
  );
  const data =
    raw instanceof Float32Array
      ? raw
      : raw instanceof BigInt64Array || raw instanceof BigUint64Array
        ? Float32Array.from(raw, (v) => Number(v))
        : Float32Array.from(raw);
  return {
    header,
    dims: [...dims],
    affine,
    affineSource: bestAffine(header).source,
    datatype: info.name,
    data,
    raw,
  };
}
