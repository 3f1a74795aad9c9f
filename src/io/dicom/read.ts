import { fail } from '../../util/errors.js';
import { DEFAULT_NIFTI_MAX_BYTES, type NiftiImage } from '../nifti.js';
import { createNifti } from '../nifti-volume.js';
import { toClosestCanonical } from '../orientation.js';
import type { DicomCodecModules } from './codecs.js';
import { seriesGeometry, type SeriesGeometry } from './geometry.js';
import { getString, type ParseDicomOptions } from './parse.js';
import { decodePixels } from './pixels.js';
import { dicomSourceOf, type DicomSource } from './source.js';
import {
  chooseSeries,
  scanDicom,
  seriesInfo,
  type DicomFile,
  type DicomSeriesInfo,
  type DicomSlice,
} from './series.js';

export interface ReadDicomOptions extends ParseDicomOptions {
  /** SeriesInstanceUID of the series to read (`--series`); by default one is chosen by rule. */
  readonly series?: string;
  /** Resample a gantry-tilted series onto a regular grid (bilinear in plane) instead of refusing it. */
  readonly allowTilt?: boolean;
  /** The WASM codec modules, where a dynamic import cannot load them (a browser app's bundle). */
  readonly codecs?: DicomCodecModules;
  /** The most bytes the volume may take (default: readNifti's default). */
  readonly maxBytes?: number;
}

export interface DicomSeriesImage {
  /** The volume as a NIfTI image: what dcm2niix would write for the series, read back by readNifti
   * (voxels scaled by RescaleSlope/Intercept: int16 when they fit, else int32 or float32). */
  readonly image: NiftiImage;
  readonly series: DicomSeriesInfo;
  /** Every other image series in the input (not read). */
  readonly otherSeries: readonly DicomSeriesInfo[];
  /** Files passed over: not DICOM, or DICOM without pixel data. */
  readonly skipped: readonly string[];
  /** What a DICOM-SEG or RTSTRUCT made from this series needs of it (instances, grid, patient, study). */
  readonly source: DicomSource;
  /** The gantry tilt that was resampled away (degrees), when `allowTilt` was needed. */
  readonly tiltDegrees?: number;
}

/** Lists the image series in the input, best first (the order `readDicomSeries` chooses by). */
export function listDicomSeries(
  files: readonly DicomFile[],
  options: ParseDicomOptions = {},
): DicomSeriesInfo[] {
  const scan = scanDicom(files, options);
  const out: DicomSeriesInfo[] = [];
  const rest = new Map(scan.series);
  while (rest.size > 0) {
    const best = chooseSeries({ ...scan, series: rest }, files.length);
    out.push(seriesInfo(best));
    rest.delete(best[0]?.seriesUid ?? '');
  }
  return out;
}

/**
 * The voxels and the volume (mm³) of the series `readDicomSeries` would read, from the headers alone (no
 * pixel is decoded): what a memory estimate needs before the work starts.
 */
export function dicomSeriesExtent(
  files: readonly DicomFile[],
  options: Pick<ReadDicomOptions, 'series' | 'allowTilt' | 'maxInflatedBytes'> = {},
): { voxels: number; mm3: number; series: DicomSeriesInfo } {
  const scan = scanDicom(files, options);
  const chosen = chooseSeries(scan, files.length, options.series);
  const geometry = seriesGeometry(chosen, { allowTilt: options.allowTilt === true });
  const first = chosen[0] ?? fail('BAD_INPUT', 'dicom: an empty series');
  const voxels = first.info.rows * first.info.columns * chosen.length;
  const [dr, dc] = first.pixelSpacing;
  return { voxels, mm3: voxels * dr * dc * geometry.step, series: seriesInfo(chosen) };
}

type Raw = Int16Array | Int32Array | Float32Array;

/** int16 when every scaled value is an integer that fits, else int32, else float32 (exact for 16-bit data). */
function outputArray(slices: readonly DicomSlice[], count: number, interpolated: boolean): Raw {
  let lo = Infinity;
  let hi = -Infinity;
  let integral = !interpolated;
  for (const s of slices) {
    const bits = s.info.bitsStored;
    const [rmin, rmax] = s.info.signed ? [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1] : [0, 2 ** bits - 1];
    const a = s.slope * rmin + s.intercept;
    const b = s.slope * rmax + s.intercept;
    lo = Math.min(lo, a, b);
    hi = Math.max(hi, a, b);
    if (!Number.isInteger(s.slope) || !Number.isInteger(s.intercept)) integral = false;
  }
  if (integral && lo >= -32768 && hi <= 32767) return new Int16Array(count);
  if (integral && lo >= -(2 ** 31) && hi < 2 ** 31) return new Int32Array(count);
  return new Float32Array(count);
}

/** Bilinear sample of a slice at (x, y) pixels; `fill` outside. */
function bilinear(v: Int32Array, cols: number, rows: number, x: number, y: number, fill: number): number {
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const fx = x - x0;
  const fy = y - y0;
  const at = (xx: number, yy: number): number =>
    xx < 0 || yy < 0 || xx >= cols || yy >= rows ? fill : (v[yy * cols + xx] ?? fill);
  const top = at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx;
  const bottom = at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx;
  return top * (1 - fy) + bottom * fy;
}

/** Writes slice k (stored values, DICOM row order) into the NIfTI-ordered volume, rows flipped. */
function placeSlice(
  out: Raw,
  k: number,
  values: Int32Array,
  s: DicomSlice,
  offset: readonly [number, number] | undefined,
): void {
  const { rows, columns: cols } = s.info;
  const base = k * rows * cols;
  const round = !(out instanceof Float32Array);
  let fill = Infinity;
  if (offset !== undefined) for (const v of values) fill = Math.min(fill, v);
  for (let row = 0; row < rows; row++) {
    const o = base + (rows - 1 - row) * cols;
    for (let col = 0; col < cols; col++) {
      const stored =
        offset === undefined
          ? (values[row * cols + col] ?? 0)
          : bilinear(values, cols, rows, col - offset[0], row - offset[1], fill);
      const v = s.slope * stored + s.intercept;
      out[o + col] = round ? Math.round(v) : v;
    }
  }
}

async function assemble(geometry: SeriesGeometry, options: ReadDicomOptions): Promise<NiftiImage> {
  const slices = geometry.slices;
  const first = slices[0];
  if (first === undefined) fail('BAD_INPUT', 'dicom: an empty series');
  const { rows, columns } = first.info;
  const count = rows * columns * slices.length;
  const max = options.maxBytes ?? DEFAULT_NIFTI_MAX_BYTES;
  if (count * 4 > max) {
    fail(
      'BAD_INPUT',
      `dicom: the series is ${columns}×${rows}×${slices.length} voxels (${count * 4} bytes as float32), more than the ${max} allowed`,
    );
  }
  const out = outputArray(slices, count, geometry.tilt !== undefined);
  for (let k = 0; k < slices.length; k++) {
    const s = slices[k];
    if (s === undefined) continue;
    const values = await decodePixels(s.ds, s.info, options.codecs);
    placeSlice(out, k, values, s, geometry.tilt?.offsets[k]);
  }
  const image = createNifti({ raw: out, dims: [columns, rows, slices.length], affine: geometry.affine });
  return slices.length > 1 && isRotated3d(first) ? toClosestCanonical(image).image : image;
}

/**
 * dcm2niix turns a 3D MR acquisition (MRAcquisitionType 3D, not EPI) to the closest canonical (RAS)
 * voxel order instead of only flipping its rows (its `nii_setOrtho`); the same here.
 */
function isRotated3d(s: DicomSlice): boolean {
  const ds = s.ds;
  const epi =
    (getString(ds, 0x00189018) ?? '').toUpperCase().startsWith('Y') ||
    (getString(ds, 0x00180020) ?? '').includes('EP');
  return (getString(ds, 0x00180023) ?? '').toUpperCase().startsWith('3D') && !epi;
}

/**
 * Reads one series from DICOM files (bytes in: a folder's files, a zip's entries, a list): groups by
 * SeriesInstanceUID, chooses one (`options.series`, else by rule), sorts the slices along the normal,
 * checks the stack (gaps, duplicates, mixed orientations, gantry tilt), decodes and rescales the pixels,
 * and returns the volume with the affine dcm2niix would write. Nothing is returned unless all of it
 * worked: an error names the file or the slice positions at fault.
 */
export async function readDicomSeries(
  files: readonly DicomFile[],
  options: ReadDicomOptions = {},
): Promise<DicomSeriesImage> {
  const scan = scanDicom(files, options);
  const chosen = chooseSeries(scan, files.length, options.series);
  const geometry = seriesGeometry(chosen, { allowTilt: options.allowTilt === true });
  const image = await assemble(geometry, options);
  const series = seriesInfo(chosen);
  return {
    image,
    series,
    otherSeries: [...scan.series.values()].filter((s) => s !== chosen).map(seriesInfo),
    skipped: [...scan.notDicom, ...scan.nonImage],
    source: dicomSourceOf(geometry, image),
    ...(geometry.tilt !== undefined ? { tiltDegrees: geometry.tilt.degrees } : {}),
  };
}
