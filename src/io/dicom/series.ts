import { fail, StunetError } from '../../util/errors.js';
import {
  getNumbers,
  getString,
  isDicomPart10,
  parseDicom,
  PIXEL_DATA,
  type DicomDataSet,
  type ParseDicomOptions,
} from './parse.js';
import { isSupportedSyntax, pixelInfo, type PixelInfo } from './pixels.js';
import { mediaStorageUids } from './source.js';

/** One file of a DICOM input: its name (for messages and ordering) and its bytes. */
export interface DicomFile {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** One image slice: the data set and what the series logic needs of it. */
export interface DicomSlice {
  readonly ds: DicomDataSet;
  readonly name: string;
  readonly seriesUid: string;
  readonly info: PixelInfo;
  /** ImageOrientationPatient: row direction (3), column direction (3), LPS. */
  readonly orientation: readonly number[];
  readonly position: readonly number[];
  /** PixelSpacing: (between rows, between columns) mm. */
  readonly pixelSpacing: readonly [number, number];
  readonly slope: number;
  readonly intercept: number;
  /** MediaStorageSOPClass/InstanceUID of the file meta group (for files whose data set lacks them). */
  readonly media?: { readonly classUid: string; readonly instanceUid: string };
}

/** What a series is, as listed and chosen. */
export interface DicomSeriesInfo {
  /** SeriesInstanceUID ('' when the files have none, e.g. anonymised). */
  readonly uid: string;
  readonly modality: string;
  readonly description: string;
  readonly seriesNumber: string;
  readonly imageType: string;
  readonly slices: number;
  readonly transferSyntaxes: readonly string[];
}

export interface DicomScan {
  readonly series: ReadonlyMap<string, DicomSlice[]>;
  /** DICOM files without pixel data (DICOMDIR, SR, presentation states, …). */
  readonly nonImage: readonly string[];
  /** Files that are not DICOM Part 10 (no "DICM"): skipped. */
  readonly notDicom: readonly string[];
  /** Image files this reader cannot read (colour, multi-frame, a transfer syntax it lacks), with why. */
  readonly unsupported: readonly { readonly name: string; readonly uid: string; readonly why: string }[];
}

function sliceOf(ds: DicomDataSet): DicomSlice {
  const name = ds.name;
  if (!isSupportedSyntax(ds.transferSyntax)) {
    fail('UNSUPPORTED', `dicom: ${name}: transfer syntax ${ds.transferSyntax} is not supported`);
  }
  const info = pixelInfo(ds);
  const orientation = getNumbers(ds, 0x00200037);
  const position = getNumbers(ds, 0x00200032);
  const spacing = getNumbers(ds, 0x00280030);
  if (orientation?.length !== 6)
    fail(
      'BAD_INPUT',
      `dicom: ${name}: no ImageOrientationPatient (0020,0037); the slice cannot be placed in space`,
    );
  if (position?.length !== 3)
    fail(
      'BAD_INPUT',
      `dicom: ${name}: no ImagePositionPatient (0020,0032); the slice cannot be placed in space`,
    );
  if (spacing?.length !== 2 || !(spacing[0] !== undefined && spacing[0] > 0 && (spacing[1] ?? 0) > 0)) {
    fail('BAD_INPUT', `dicom: ${name}: no valid PixelSpacing (0028,0030)`);
  }
  return {
    ds,
    name,
    seriesUid: getString(ds, 0x0020000e) ?? '',
    info,
    orientation,
    position,
    pixelSpacing: [spacing[0], spacing[1] ?? 0],
    slope: getNumbers(ds, 0x00281053)?.[0] ?? 1,
    intercept: getNumbers(ds, 0x00281052)?.[0] ?? 0,
  };
}

/** Parses every file and groups the image slices by SeriesInstanceUID. */
export function scanDicom(files: readonly DicomFile[], options: ParseDicomOptions = {}): DicomScan {
  const series = new Map<string, DicomSlice[]>();
  const nonImage: string[] = [];
  const notDicom: string[] = [];
  const unsupported: { name: string; uid: string; why: string }[] = [];
  for (const f of files) {
    if (!isDicomPart10(f.bytes)) {
      notDicom.push(f.name);
      continue;
    }
    const ds = parseDicom(f.bytes, f.name, options);
    if (!ds.elements.has(PIXEL_DATA)) {
      nonImage.push(f.name);
      continue;
    }
    let slice: DicomSlice;
    try {
      slice = { ...sliceOf(ds), media: mediaStorageUids(f.bytes) };
    } catch (e) {
      if (!(e instanceof StunetError) || e.code !== 'UNSUPPORTED') throw e;
      unsupported.push({ name: f.name, uid: getString(ds, 0x0020000e) ?? '', why: e.message });
      continue;
    }
    const list = series.get(slice.seriesUid) ?? [];
    list.push(slice);
    series.set(slice.seriesUid, list);
  }
  return { series, nonImage, notDicom, unsupported };
}

export function seriesInfo(slices: readonly DicomSlice[]): DicomSeriesInfo {
  const first = slices[0]?.ds;
  const s = (tag: number): string => (first === undefined ? '' : (getString(first, tag) ?? ''));
  return {
    uid: slices[0]?.seriesUid ?? '',
    modality: s(0x00080060),
    description: s(0x0008103e),
    seriesNumber: s(0x00200011),
    imageType: s(0x00080008),
    slices: slices.length,
    transferSyntaxes: [...new Set(slices.map((x) => x.ds.transferSyntax))],
  };
}

function describe(i: DicomSeriesInfo): string {
  return `'${i.uid}' (${i.modality || '?'} ${i.description || ''}, ${i.slices} slices)`.replace(' ,', ',');
}

/**
 * The series to read: `wanted` (a SeriesInstanceUID) when given; else by rule — CT or MR first, then
 * ImageType ORIGINAL\PRIMARY, then the most slices, then the smallest UID (so the choice is stable).
 */
export function chooseSeries(scan: DicomScan, total: number, wanted?: string): DicomSlice[] {
  const all = [...scan.series.values()];
  const blocked = scan.unsupported.find((u) => wanted === undefined || u.uid === wanted);
  if (blocked !== undefined && (all.length === 0 || (wanted !== undefined && !scan.series.has(wanted)))) {
    fail('UNSUPPORTED', blocked.why);
  }
  if (all.length === 0) {
    const why =
      scan.nonImage.length > 0
        ? `${scan.nonImage.length} DICOM file(s) without pixel data (e.g. ${scan.nonImage[0]}: a DICOMDIR, report or other non-image object)`
        : 'no DICOM files';
    fail('BAD_INPUT', `dicom: no image series among ${total} file(s): ${why}`);
  }
  if (wanted !== undefined) {
    const hit = scan.series.get(wanted);
    if (hit === undefined) {
      fail(
        'NOT_FOUND',
        `dicom: no series '${wanted}'; the input has ${all.map((s) => describe(seriesInfo(s))).join(', ')}`,
      );
    }
    return hit;
  }
  const score = (s: DicomSlice[]): number[] => {
    const i = seriesInfo(s);
    const type = i.imageType.toUpperCase().split('\\');
    return [
      i.modality === 'CT' || i.modality === 'MR' ? 1 : 0,
      type[0] === 'ORIGINAL' && type[1] === 'PRIMARY' ? 1 : 0,
      i.slices,
    ];
  };
  const better = (a: DicomSlice[], b: DicomSlice[]): number => {
    const sa = score(a);
    const sb = score(b);
    for (let k = 0; k < sa.length; k++) if ((sa[k] ?? 0) !== (sb[k] ?? 0)) return (sb[k] ?? 0) - (sa[k] ?? 0);
    const ua = a[0]?.seriesUid ?? '';
    const ub = b[0]?.seriesUid ?? '';
    return ua < ub ? -1 : ua > ub ? 1 : 0;
  };
  const best = all.sort(better)[0];
  if (best === undefined) fail('BAD_INPUT', 'dicom: no image series');
  return best;
}
