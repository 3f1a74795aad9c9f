import { fail } from '../../../util/errors.js';

/** One attribute of the DICOM JSON model (PS3.18 F.2): its VR and its values. */
export interface DicomJsonAttribute {
  readonly vr: string;
  readonly Value?: readonly unknown[];
}

/** A data set in the DICOM JSON model: attributes keyed by 8 hex digits ("0020000D"). */
export type DicomJson = Readonly<Record<string, DicomJsonAttribute | undefined>>;

/** The attributes the summaries read, as 8 hex digits. */
export const TAG = {
  specificCharacterSet: '00080005',
  studyDate: '00080020',
  accessionNumber: '00080050',
  modalitiesInStudy: '00080061',
  modality: '00080060',
  sopClassUid: '00080016',
  sopInstanceUid: '00080018',
  studyDescription: '00081030',
  seriesDescription: '0008103E',
  failureReason: '00081197',
  failedSopSequence: '00081198',
  referencedSopSequence: '00081199',
  referencedSopClassUid: '00081150',
  referencedSopInstanceUid: '00081155',
  patientName: '00100010',
  patientId: '00100020',
  studyInstanceUid: '0020000D',
  seriesInstanceUid: '0020000E',
  seriesNumber: '00200011',
  instanceNumber: '00200013',
  numberOfStudyRelatedSeries: '00201206',
  numberOfStudyRelatedInstances: '00201208',
  numberOfSeriesRelatedInstances: '00201209',
} as const;

const attribute = (ds: DicomJson, tag: string): DicomJsonAttribute | undefined =>
  ds[tag] ?? ds[tag.toLowerCase()];

/** The values of an attribute as strings (a person name as its Alphabetic form). */
export function jsonStrings(ds: DicomJson, tag: string): string[] {
  return (attribute(ds, tag)?.Value ?? []).map((v) => {
    if (typeof v === 'string') return v;
    if (typeof v === 'number') return String(v);
    if (typeof v === 'object' && v !== null && 'Alphabetic' in v) return String(v.Alphabetic);
    return '';
  });
}

/** The first value of an attribute as a string ('' when absent or empty). */
export const jsonString = (ds: DicomJson, tag: string): string => jsonStrings(ds, tag)[0] ?? '';

/** The first value of a numeric attribute (IS, DS, US…: a number, or a string some servers send). */
export function jsonNumber(ds: DicomJson, tag: string): number | undefined {
  const v = attribute(ds, tag)?.Value?.[0];
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** The items of a sequence attribute. */
export function jsonItems(ds: DicomJson, tag: string): DicomJson[] {
  return (attribute(ds, tag)?.Value ?? []).filter((v): v is DicomJson => typeof v === 'object' && v !== null);
}

/** A QIDO-RS response body as data sets: a JSON array of objects, else one clear error. */
export function dicomJsonArray(body: string, what: string): DicomJson[] {
  let parsed: unknown;
  try {
    parsed = body.trim() === '' ? [] : JSON.parse(body);
  } catch {
    return fail('RUNTIME', `${what}: the answer is not JSON (${body.slice(0, 60).replace(/\s+/g, ' ')}…)`);
  }
  if (
    !Array.isArray(parsed) ||
    !parsed.every((x) => typeof x === 'object' && x !== null && !Array.isArray(x))
  )
    fail('RUNTIME', `${what}: the answer is not a DICOM JSON array of data sets`);
  return parsed as DicomJson[];
}

export interface StudySummary {
  readonly studyInstanceUid: string;
  readonly patientId: string;
  readonly patientName: string;
  /** StudyDate as DICOM writes it (YYYYMMDD), '' when absent. */
  readonly studyDate: string;
  readonly studyDescription: string;
  readonly accessionNumber: string;
  readonly modalitiesInStudy: readonly string[];
  readonly numberOfStudyRelatedSeries?: number;
  readonly numberOfStudyRelatedInstances?: number;
  /** Everything the server sent for this study. */
  readonly json: DicomJson;
}

export interface SeriesSummary {
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly modality: string;
  readonly seriesDescription: string;
  readonly seriesNumber?: number;
  readonly numberOfSeriesRelatedInstances?: number;
  readonly json: DicomJson;
}

export interface InstanceSummary {
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly sopInstanceUid: string;
  readonly sopClassUid: string;
  readonly instanceNumber?: number;
  readonly json: DicomJson;
}

/** `{ key: value }` without the keys whose value is undefined (exactOptionalPropertyTypes). */
function defined<T extends object>(o: { [K in keyof T]-?: T[K] | undefined }): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export function studySummary(json: DicomJson): StudySummary {
  return defined<StudySummary>({
    studyInstanceUid: jsonString(json, TAG.studyInstanceUid),
    patientId: jsonString(json, TAG.patientId),
    patientName: jsonString(json, TAG.patientName),
    studyDate: jsonString(json, TAG.studyDate),
    studyDescription: jsonString(json, TAG.studyDescription),
    accessionNumber: jsonString(json, TAG.accessionNumber),
    modalitiesInStudy: jsonStrings(json, TAG.modalitiesInStudy),
    numberOfStudyRelatedSeries: jsonNumber(json, TAG.numberOfStudyRelatedSeries),
    numberOfStudyRelatedInstances: jsonNumber(json, TAG.numberOfStudyRelatedInstances),
    json,
  });
}

export function seriesSummary(json: DicomJson): SeriesSummary {
  return defined<SeriesSummary>({
    studyInstanceUid: jsonString(json, TAG.studyInstanceUid),
    seriesInstanceUid: jsonString(json, TAG.seriesInstanceUid),
    modality: jsonString(json, TAG.modality),
    seriesDescription: jsonString(json, TAG.seriesDescription),
    seriesNumber: jsonNumber(json, TAG.seriesNumber),
    numberOfSeriesRelatedInstances: jsonNumber(json, TAG.numberOfSeriesRelatedInstances),
    json,
  });
}

export function instanceSummary(json: DicomJson): InstanceSummary {
  return defined<InstanceSummary>({
    studyInstanceUid: jsonString(json, TAG.studyInstanceUid),
    seriesInstanceUid: jsonString(json, TAG.seriesInstanceUid),
    sopInstanceUid: jsonString(json, TAG.sopInstanceUid),
    sopClassUid: jsonString(json, TAG.sopClassUid),
    instanceNumber: jsonNumber(json, TAG.instanceNumber),
    json,
  });
}
