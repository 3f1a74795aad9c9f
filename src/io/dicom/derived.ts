import { fail } from '../../util/errors.js';
import type { DicomSource, LabelVolume } from './source.js';
import { newUid, str, type DicomEl } from './write.js';

/** Who made a derived object: the algorithm (SEG SegmentAlgorithmName, RTSTRUCT ROIGenerationDescription). */
export interface DicomAlgorithm {
  readonly name: string;
  readonly version: string;
}

/** What SEG and RTSTRUCT writers share. */
export interface DerivedOptions {
  readonly algorithm?: DicomAlgorithm;
  readonly seriesDescription?: string;
  readonly seriesNumber?: number;
  readonly manufacturer?: string;
  /** The time written as content/series date and time (default: now). */
  readonly date?: Date;
  /** SeriesInstanceUID and SOPInstanceUID of the new object (default: new 2.25 UIDs). */
  readonly seriesInstanceUid?: string;
  readonly sopInstanceUid?: string;
}

/** The input of a SEG or RTSTRUCT writer. */
export interface DerivedWriteOptions extends DerivedOptions {
  /** The label map on the series' grid (e.g. the NIfTI a prediction wrote for `readDicomSeries`' image). */
  readonly labels: LabelVolume;
  /** Class names by label value (names[0] is the background). */
  readonly names: readonly string[];
  /** `readDicomSeries(...).source`. */
  readonly source: DicomSource;
}

/** The label value of a segment or ROI read back: the index of its name in `names`, else its number. */
export function valueOfName(
  names: readonly string[] | undefined,
  name: string,
  number: number,
  what: string,
): number {
  const value = names === undefined ? number : names.indexOf(name);
  if (value <= 0) fail('BAD_INPUT', `${what} ${number} '${name}' is not among the class names`);
  return value;
}

export const DEFAULT_ALGORITHM: DicomAlgorithm = { name: 'STU-Net', version: '0.1.0' };

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
export const dicomDate = (d: Date): string =>
  `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}`;
export const dicomTime = (d: Date): string =>
  `${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;

/** LO/SH text: at most `max` characters, no backslash or control characters. */
export function shortText(s: string, max: number): string {
  let out = '';
  for (const ch of s) out += ch === '\\' || ch.charCodeAt(0) < 0x20 ? ' ' : ch;
  return out.slice(0, max);
}

/**
 * Refuses, with the reason, a series a SEG or RTSTRUCT cannot reference: resampled (gantry tilt), or an
 * instance without SOP class/instance UIDs. Cheap: `predict` calls it before any work.
 */
export function checkReferenceable(source: DicomSource): void {
  if (source.resampled) {
    fail(
      'UNSUPPORTED',
      'dicom: the series was resampled (gantry tilt): a SEG or RTSTRUCT on the resampled grid cannot reference its slices',
    );
  }
  const unnamed = source.instances.find((i) => i.sopClassUid === '' || i.sopInstanceUid === '');
  if (unnamed !== undefined) {
    fail(
      'BAD_INPUT',
      `dicom: ${unnamed.name}: no SOPClassUID/SOPInstanceUID (in the data set or its meta group): a derived object cannot reference it`,
    );
  }
}

/**
 * The elements every derived object made from `source` carries: SOP common, patient and study (copied),
 * a new series in the same study and frame of reference, the equipment (this software).
 */
export function derivedHeader(
  source: DicomSource,
  sopClassUid: string,
  modality: string,
  options: DerivedOptions,
): DicomEl[] {
  checkReferenceable(source);
  const when = options.date ?? new Date();
  const algorithm = options.algorithm ?? DEFAULT_ALGORITHM;
  return [
    ...source.copied,
    str(0x00080016, 'UI', sopClassUid),
    str(0x00080018, 'UI', options.sopInstanceUid ?? newUid()),
    str(0x00080021, 'DA', dicomDate(when)),
    str(0x00080031, 'TM', dicomTime(when)),
    str(0x00080060, 'CS', modality),
    str(0x00080070, 'LO', shortText(options.manufacturer ?? 'stunet', 64)),
    str(0x0008103e, 'LO', shortText(options.seriesDescription ?? `${algorithm.name} ${modality}`, 64)),
    str(0x00081090, 'LO', shortText(algorithm.name, 64)),
    str(0x00181000, 'LO', '1'),
    str(0x00181020, 'LO', shortText(algorithm.version, 64)),
    str(0x0020000d, 'UI', source.studyInstanceUid),
    str(0x0020000e, 'UI', options.seriesInstanceUid ?? newUid()),
    str(0x00200011, 'IS', [options.seriesNumber ?? 300]),
    str(0x00200013, 'IS', [1]),
    str(0x00200052, 'UI', source.frameOfReferenceUid),
  ];
}

/** The label values present, with a name each (refusing a value without a name). */
export function presentClasses(counts: ArrayLike<number>, names: readonly string[], what: string): number[] {
  const present: number[] = [];
  for (let v = 1; v < counts.length; v++) if ((counts[v] ?? 0) > 0) present.push(v);
  if (present.length === 0) {
    fail('BAD_INPUT', `${what}: the label map has no foreground voxel; there is nothing to write`);
  }
  const unnamed = present.filter((v) => (names[v] ?? '') === '');
  if (unnamed.length > 0) {
    fail(
      'BAD_INPUT',
      `${what}: label value(s) ${unnamed.slice(0, 5).join(', ')} have no class name (${names.length} names given)`,
    );
  }
  return present;
}
