import { fail } from '../../util/errors.js';
import { invertAffine, matMul4, type Mat4 } from '../geometry.js';
import type { SeriesGeometry } from './geometry.js';
import { getString, text, type DicomDataSet } from './parse.js';
import { uidFromSeed, type DicomEl } from './write.js';

/** One source image (a slice), as a derived object references it. */
export interface DicomSourceInstance {
  /** The file's name (for messages). */
  readonly name: string;
  /** '' when neither the data set nor the file meta group has it (then nothing can reference it). */
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  /** ImagePositionPatient (LPS mm). */
  readonly position: readonly [number, number, number];
}

/**
 * What a DICOM-SEG or RTSTRUCT needs of the series it was made from: the instances in stack order (the
 * NIfTI k order of `readDicomSeries`), the grid, the patient/study/frame-of-reference attributes to copy.
 */
export interface DicomSource {
  readonly instances: readonly DicomSourceInstance[];
  readonly rows: number;
  readonly columns: number;
  /** ImageOrientationPatient: row direction (3), column direction (3), LPS. */
  readonly orientation: readonly number[];
  /** PixelSpacing: between rows, between columns (mm). */
  readonly pixelSpacing: readonly [number, number];
  /** Distance between slice planes (mm). */
  readonly step: number;
  /** The affine of the stack grid (columns, rows flipped, slices) → RAS, as dcm2niix writes it. */
  readonly affine: Mat4;
  /** The grid of the image `readDicomSeries` returned (the stack grid, or its RAS reorientation for 3D MR). */
  readonly imageDims: readonly number[];
  readonly imageAffine: Mat4;
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly frameOfReferenceUid: string;
  /** The patient and study attributes to copy (with SpecificCharacterSet), as they are in the source. */
  readonly copied: readonly DicomEl[];
  /**
   * UIDs the source lacked (anonymised files), by attribute name: made up here under 2.25 from the
   * instances' UIDs and positions, so a SEG and an RTSTRUCT of the same files share them.
   */
  readonly madeUp: readonly string[];
  /** Set when the series was resampled (gantry tilt): a derived object cannot reference its slices. */
  readonly resampled: boolean;
}

/** Attributes copied from the source: (tag, VR); type-2 ones are written empty when absent. */
const COPIED: readonly (readonly [number, string])[] = [
  [0x00080005, 'CS'], // SpecificCharacterSet
  [0x00080020, 'DA'], // StudyDate
  [0x00080030, 'TM'], // StudyTime
  [0x00080050, 'SH'], // AccessionNumber
  [0x00080090, 'PN'], // ReferringPhysicianName
  [0x00081030, 'LO'], // StudyDescription
  [0x00100010, 'PN'], // PatientName
  [0x00100020, 'LO'], // PatientID
  [0x00100030, 'DA'], // PatientBirthDate
  [0x00100040, 'CS'], // PatientSex
  [0x00101010, 'AS'], // PatientAge
  [0x00200010, 'SH'], // StudyID
  [0x00201040, 'LO'], // PositionReferenceIndicator
];
const TYPE3 = new Set([0x00080005, 0x00081030, 0x00101010]);

/** MediaStorageSOPClassUID and MediaStorageSOPInstanceUID of a Part 10 file's meta group. */
export function mediaStorageUids(bytes: Uint8Array): { classUid: string; instanceUid: string } {
  let p = 132;
  let classUid = '';
  let instanceUid = '';
  while (p + 8 <= bytes.length && (bytes[p] ?? 0) === 2 && (bytes[p + 1] ?? 0) === 0) {
    const element = (bytes[p + 2] ?? 0) | ((bytes[p + 3] ?? 0) << 8);
    const vr = String.fromCharCode(bytes[p + 4] ?? 0, bytes[p + 5] ?? 0);
    const long = vr === 'OB' || vr === 'UN' || vr === 'UT' || vr === 'SQ';
    const length = long
      ? ((bytes[p + 8] ?? 0) | ((bytes[p + 9] ?? 0) << 8) | ((bytes[p + 10] ?? 0) << 16)) +
        (bytes[p + 11] ?? 0) * 2 ** 24
      : (bytes[p + 6] ?? 0) | ((bytes[p + 7] ?? 0) << 8);
    const offset = p + (long ? 12 : 8);
    if (offset + length > bytes.length) break;
    if (element === 2) classUid = text(bytes, offset, length);
    if (element === 3) instanceUid = text(bytes, offset, length);
    p = offset + length;
  }
  return { classUid, instanceUid };
}

function copiedOf(ds: DicomDataSet): DicomEl[] {
  const out: DicomEl[] = [];
  for (const [tag, vr] of COPIED) {
    const e = ds.elements.get(tag);
    if (e === undefined && TYPE3.has(tag)) continue;
    const value = e === undefined ? new Uint8Array(0) : ds.bytes.slice(e.offset, e.offset + e.length);
    out.push({ tag, vr, value });
  }
  return out;
}

/** The source description of a read series (what `readDicomSeries` returns as `source`). */
export function dicomSourceOf(
  geometry: SeriesGeometry,
  image: { readonly dims: readonly number[]; readonly affine: Mat4 },
): DicomSource {
  const first = geometry.slices[0];
  if (first === undefined) fail('BAD_INPUT', 'dicom: an empty series');
  const madeUp: string[] = [];
  const uid = (tag: number, name: string): string => {
    const v = getString(first.ds, tag) ?? '';
    if (v !== '') return v;
    madeUp.push(name);
    return uidFromSeed(`${name} of ${seed}`);
  };
  const instances = geometry.slices.map((s) => {
    const sopClassUid = getString(s.ds, 0x00080016) || (s.media?.classUid ?? '');
    const sopInstanceUid = getString(s.ds, 0x00080018) || (s.media?.instanceUid ?? '');
    const p = s.position;
    return {
      name: s.name,
      sopClassUid,
      sopInstanceUid,
      position: [p[0] ?? 0, p[1] ?? 0, p[2] ?? 0] as const,
    };
  });
  // a UID the files lack is made from what identifies them, so every object derived from them shares it
  const seed = instances.map((i) => `${i.sopInstanceUid}@${i.position.join(',')}`).join('|');
  return {
    instances,
    rows: first.info.rows,
    columns: first.info.columns,
    orientation: first.orientation,
    pixelSpacing: first.pixelSpacing,
    step: geometry.step,
    affine: geometry.affine,
    imageDims: image.dims,
    imageAffine: image.affine,
    studyInstanceUid: uid(0x0020000d, 'StudyInstanceUID'),
    seriesInstanceUid: uid(0x0020000e, 'SeriesInstanceUID'),
    frameOfReferenceUid: uid(0x00200052, 'FrameOfReferenceUID'),
    copied: copiedOf(first.ds),
    madeUp,
    resampled: geometry.tilt !== undefined,
  };
}

/** A label volume: voxels (x fastest) and their grid; `affine` lets a reoriented grid be mapped back. */
export interface LabelVolume {
  readonly data: ArrayLike<number>;
  readonly dims: readonly number[];
  readonly affine?: Mat4;
}

/** Label voxel axis r = sign[r] · stack axis from[r] + offset[r]; undefined when the grids differ. */
function axisMap(
  dims: readonly number[],
  affine: Mat4 | undefined,
  source: DicomSource,
): number[][] | undefined {
  const n = [source.columns, source.rows, source.instances.length];
  let from = [0, 1, 2];
  let sign = [1, 1, 1];
  let offset = [0, 0, 0];
  if (affine !== undefined) {
    const m = matMul4(invertAffine(affine), source.affine);
    from = [0, 1, 2].map((r) => [0, 1, 2].findIndex((c) => Math.abs(m[r]?.[c] ?? 0) > 0.5));
    sign = from.map((c, r) => Math.sign(m[r]?.[c] ?? 0));
    offset = [0, 1, 2].map((r) => Math.round(m[r]?.[3] ?? 0));
    const expected = (r: number, c: number): number =>
      c === from[r] ? (sign[r] ?? 0) : c === 3 ? (offset[r] ?? 0) : 0;
    const exact = [0, 1, 2].every((r) =>
      [0, 1, 2, 3].every((c) => Math.abs((m[r]?.[c] ?? 0) - expected(r, c)) < 1e-3),
    );
    if (!exact || new Set(from).size !== 3) return undefined;
  }
  const fits = [0, 1, 2].every((r) => {
    const c = from[r] ?? -1;
    const a = offset[r] ?? 0;
    const b = a + (sign[r] ?? 0) * ((n[c] ?? 0) - 1);
    return c >= 0 && dims[r] === n[c] && Math.min(a, b) === 0;
  });
  return fits && dims.slice(3).every((x) => x === 1) ? [from, sign, offset] : undefined;
}

/**
 * For each voxel in DICOM order (slice k in stack order, then row, then column), its index on the grid
 * (`dims`, `affine`): the stack grid itself, or (with an affine) a permutation/flip of it such as the
 * RAS reorientation `readDicomSeries` applies to 3D MR. One clear error when the grid is another.
 */
function gridIndex(dims: readonly number[], affine: Mat4 | undefined, source: DicomSource): Int32Array {
  const { rows, columns } = source;
  const slices = source.instances.length;
  const map = axisMap(dims, affine, source);
  if (map === undefined) {
    const aff = affine === undefined ? '' : ' and affine';
    fail(
      'BAD_INPUT',
      `dicom: the labels (${dims.join('×')} voxels${aff}) are not on the grid of the series (${columns}×${rows}×${slices}${aff}): resample them onto the series first`,
    );
  }
  const [from = [], sign = [], offset = []] = map;
  const stride = [1, dims[0] ?? 0, (dims[0] ?? 0) * (dims[1] ?? 0)];
  const out = new Int32Array(rows * columns * slices);
  const v = [0, 0, 0];
  let i = 0;
  for (let k = 0; k < slices; k++)
    for (let row = 0; row < rows; row++)
      for (let col = 0; col < columns; col++) {
        v[0] = col;
        v[1] = rows - 1 - row;
        v[2] = k;
        let idx = 0;
        for (let r = 0; r < 3; r++)
          idx += ((sign[r] ?? 0) * (v[from[r] ?? 0] ?? 0) + (offset[r] ?? 0)) * (stride[r] ?? 0);
        out[i++] = idx;
      }
  return out;
}

/** The labels in DICOM order (slice k in stack order, then row, then column), checked to be on the series' grid. */
export function labelsOnStack(labels: LabelVolume, source: DicomSource): Uint16Array {
  const index = gridIndex(labels.dims, labels.affine, source);
  if (labels.data.length !== index.length) {
    fail(
      'BAD_INPUT',
      `dicom: the labels have ${labels.data.length} voxels for a ${labels.dims.join('×')} grid`,
    );
  }
  const out = new Uint16Array(index.length);
  for (let i = 0; i < index.length; i++) {
    const v = labels.data[index[i] ?? 0] ?? 0;
    out[i] = v;
    if (out[i] !== v) {
      fail('BAD_INPUT', `dicom: the labels hold ${v}: label values are whole numbers from 0 to 65535`);
    }
  }
  return out;
}

/** Labels in DICOM order onto the grid of `readDicomSeries`' image (its dims and affine). */
export function stackToImage(dicomOrder: Uint16Array, source: DicomSource): Uint16Array {
  const index = gridIndex(source.imageDims, source.imageAffine, source);
  const out = new Uint16Array(index.length);
  for (let i = 0; i < index.length; i++) out[index[i] ?? 0] = dicomOrder[i] ?? 0;
  return out;
}
