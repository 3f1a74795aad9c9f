import { fail } from '../../../util/errors.js';
import { isDicomPart10 } from '../parse.js';
import { mediaStorageUids } from '../source.js';
import { jsonItems, jsonNumber, jsonString, TAG, type DicomJson } from './dicom-json.js';

/** What a STOW-RS request stored, and what it did not (with the server's FailureReason when it gave one). */
export interface StoreResult {
  /** SOPInstanceUIDs the server confirmed (ReferencedSOPSequence). */
  readonly stored: readonly string[];
  readonly failed: readonly StoreFailure[];
}

export interface StoreFailure {
  readonly sopInstanceUid: string;
  /** FailureReason (0008,1197); absent when the server just did not confirm the instance. */
  readonly reason?: number;
  /** The reason in words (PS3.18 Table I.2-3, PS3.4 Annex B status codes). */
  readonly why: string;
}

const REASONS: ReadonlyMap<number, string> = new Map([
  [0x0110, 'processing failure'],
  [0x0122, 'SOP class not supported'],
  [0x0124, 'not authorized'],
  [0xa700, 'out of resources'],
  [0xa900, 'data set does not match the SOP class'],
  [0xc000, 'cannot understand'],
  [0xc122, 'transfer syntax not supported'],
  [0xa770, 'the study instance UID does not match the request'],
]);

/** FailureReason in words, e.g. 'cannot understand (0xC000)'. */
export function failureWhy(reason: number | undefined): string {
  if (reason === undefined) return 'not confirmed by the server';
  const hex = `0x${reason.toString(16).toUpperCase().padStart(4, '0')}`;
  return `${REASONS.get(reason) ?? 'failure'} (${hex})`;
}

/**
 * The SOPInstanceUID of each instance to store (from its file meta group), refusing anything that is not
 * DICOM Part 10 before a byte is sent.
 */
export function instanceUids(instances: readonly Uint8Array[]): string[] {
  if (instances.length === 0) fail('BAD_INPUT', 'dicomweb: store: no instances to store');
  return instances.map((bytes, i) => {
    if (!isDicomPart10(bytes))
      fail(
        'BAD_INPUT',
        `dicomweb: store: instance ${i + 1} of ${instances.length} is not a DICOM Part 10 file ` +
          `(no "DICM" at byte 128; ${bytes.length} bytes): nothing was sent`,
      );
    return mediaStorageUids(bytes).instanceUid;
  });
}

/** The STOW-RS answer as one data set (some servers wrap it in an array); undefined when it is not JSON. */
export function storeResponseJson(body: string): DicomJson | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    const ds: unknown = Array.isArray(parsed) ? parsed[0] : parsed;
    return typeof ds === 'object' && ds !== null ? (ds as DicomJson) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Stored and failed instances: the ReferencedSOPSequence and the FailedSOPSequence of the answer, plus
 * every instance sent that the answer names in neither (a server may answer 200 with nothing stored).
 */
export function storeResult(json: DicomJson | undefined, sent: readonly string[]): StoreResult {
  const stored =
    json === undefined
      ? []
      : jsonItems(json, TAG.referencedSopSequence).map((it) => jsonString(it, TAG.referencedSopInstanceUid));
  const failed: StoreFailure[] = (json === undefined ? [] : jsonItems(json, TAG.failedSopSequence)).map(
    (it) => {
      const reason = jsonNumber(it, TAG.failureReason);
      const uid = jsonString(it, TAG.referencedSopInstanceUid);
      return reason === undefined
        ? { sopInstanceUid: uid, why: failureWhy(reason) }
        : { sopInstanceUid: uid, reason, why: failureWhy(reason) };
    },
  );
  const named = new Set([...stored, ...failed.map((f) => f.sopInstanceUid)]);
  for (const uid of sent)
    if (!named.has(uid)) failed.push({ sopInstanceUid: uid, why: failureWhy(undefined) });
  return { stored, failed };
}

/** One line about what failed: how many of how many, and the first few with why. */
export function describeFailures(result: StoreResult, sent: number): string {
  const first = result.failed.slice(0, 3).map((f) => `${f.sopInstanceUid || '(no UID)'}: ${f.why}`);
  const more = result.failed.length > 3 ? `; and ${result.failed.length - 3} more` : '';
  return `the server stored ${result.stored.length} of ${sent} instance(s); failed: ${first.join('; ')}${more}`;
}
