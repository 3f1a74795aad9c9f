import { fail, StunetError } from '../util/errors.js';
import { datatypeByCode, gunzipInto, isGzip, MAX_DEFLATE_RATIO } from './nifti-data.js';
import { HEADER_SIZE, type NiftiHeader } from './nifti-header.js';

/**
 * What a NIfTI's header says about reading it, before any voxel is touched: where the voxels lie, how
 * many bytes reading them takes, and whether the file can hold them. A gzip bomb (a small .nii.gz whose
 * header declares a huge image) is refused here, before it is inflated.
 */
export interface ReadNiftiOptions {
  /**
   * Bytes the read may allocate: the inflated file of a .nii.gz, the voxels as stored, their float32
   * copy. A header that declares more is refused before anything is inflated or allocated, with the
   * bytes needed and these. Default 8 GiB; a host that knows its memory passes what is free (the Node
   * host: `availableMemoryBytes()` of stunet/node).
   */
  readonly maxBytes?: number;
}

/** What `readNifti` may allocate unless told otherwise (a host without a memory figure, e.g. a browser). */
export const DEFAULT_NIFTI_MAX_BYTES = 8 * 2 ** 30;

/** Where the voxels lie and what reading them takes, from the header alone. */
export interface VoxelLayout {
  readonly info: ReturnType<typeof datatypeByCode>;
  readonly dims: number[];
  readonly count: number;
  /** Bytes of the stored voxels, and where they start in the (inflated) data file. */
  readonly need: number;
  readonly offset: number;
  /** Whether the data file is gzipped, and its name for messages. */
  readonly gz: boolean;
  readonly what: string;
  readonly compressedBytes: number;
}

export function voxelLayout(header: NiftiHeader, source: Uint8Array, gzName: string): VoxelLayout {
  if (!Number.isFinite(header.vox_offset) || header.vox_offset < 0) {
    fail('BAD_INPUT', `nifti: vox_offset is ${header.vox_offset} (corrupt header?)`);
  }
  // vox_offset 0 in a .nii is invalid but written by some old tools: data then follows the header
  const least = header.singleFile ? HEADER_SIZE[header.version] + 4 : 0;
  const offset = Math.max(Math.floor(header.vox_offset), least);
  const info = datatypeByCode(header.datatype);
  const dims = dimsOf(header);
  const count = dims.reduce((a, b) => a * b, 1);
  const gz = isGzip(source);
  const what = gz ? `the ${gzName}` : `the ${header.singleFile ? '.nii' : '.img'}`;
  return { info, dims, count, need: count * info.bytes, offset, gz, what, compressedBytes: source.length };
}

const sizeText = (n: number): string => `${n} bytes (${(n / 2 ** 30).toFixed(2)} GiB)`;

/**
 * Refuses before anything is allocated when the image will not fit: the inflated file (gzip only), the
 * voxels as stored (a copy unless viewed in the inflated buffer) and their float32 copy.
 */
export function checkMemory(l: VoxelLayout, maxBytes: number): void {
  const file = l.gz ? l.offset + l.need : 0;
  const stored = l.gz && l.offset % l.info.bytes === 0 ? 0 : l.need;
  const needed = file + stored + 4 * l.count;
  if (needed <= maxBytes) return;
  const parts = [
    ...(file > 0 ? [`${sizeText(file)} inflated`] : []),
    ...(stored > 0 ? [`${sizeText(stored)} as stored`] : []),
    `${sizeText(4 * l.count)} as float32`,
  ];
  fail(
    'BAD_INPUT',
    `nifti: ${l.what} declares ${l.dims.join('×')} ${l.info.name} voxels; reading it needs ` +
      `${sizeText(needed)} (${parts.join(' + ')}) but only ${sizeText(maxBytes)} are available — ` +
      'a corrupt header or a gzip bomb, or an image too large for this machine (crop or downsample it)',
  );
}

/** Inflates the data file into one buffer of exactly the declared size (the header fits: checked). */
export function inflateData(source: Uint8Array, l: VoxelLayout): Uint8Array {
  const size = l.offset + l.need;
  if (size > l.compressedBytes * MAX_DEFLATE_RATIO + 1024) {
    fail(
      'BAD_INPUT',
      `nifti: ${l.what} is ${l.compressedBytes} bytes, which inflate to at most ` +
        `${l.compressedBytes * MAX_DEFLATE_RATIO} (deflate expands ${MAX_DEFLATE_RATIO}:1 at most), but its ` +
        `header declares ${l.dims.join('×')} ${l.info.name} voxels ending at byte ${size}: the file is ` +
        'truncated or its header corrupt',
    );
  }
  let out: Uint8Array;
  try {
    out = new Uint8Array(size);
  } catch (e) {
    throw new StunetError(
      'BAD_INPUT',
      `nifti: ${l.what} declares ${l.dims.join('×')} ${l.info.name} voxels, ${sizeText(size)} inflated, ` +
        `more than this JavaScript engine can allocate at once (${(e as Error).message})`,
      { cause: e },
    );
  }
  return out.subarray(0, gunzipInto(source, out, l.what));
}

export function dimsOf(header: NiftiHeader): number[] {
  const n = header.dim[0] ?? 0;
  if (!Number.isInteger(n) || n < 1 || n > 7) {
    fail('BAD_INPUT', `nifti: dim[0] is ${n}, expected 1..7 (corrupt header?)`);
  }
  const dims = header.dim.slice(1, n + 1);
  if (dims.some((d) => !Number.isInteger(d) || d < 1)) {
    fail('BAD_INPUT', `nifti: invalid image size ${dims.join('×')} (every dimension must be ≥ 1)`);
  }
  return squeezeTrailing(dims);
}

/** Drops sizes of 1 after the third (a 64×64×30×1 image is 3D), as SimpleITK and nibabel's squeeze do. */
export function squeezeTrailing(dims: readonly number[]): number[] {
  const out = [...dims];
  while (out.length > 3 && out[out.length - 1] === 1) out.pop();
  return out;
}

/** Refuses a (data) file shorter than the voxels its header declares. */
export function checkHolds(file: Uint8Array, l: VoxelLayout): void {
  if (l.offset + l.need <= file.length) return;
  fail(
    'BAD_INPUT',
    `nifti: file is truncated: ${l.dims.join('×')} ${l.info.name} voxels need ${l.need} bytes after ` +
      `offset ${l.offset}, but only ${Math.max(0, file.length - l.offset)} are there`,
  );
}
