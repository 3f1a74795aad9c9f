/**
 * `stunet predict --dicomweb <url> --study <uid> [--series <uid>] … --store` (issue 12, item 5), the parts
 * around the prediction: the series is chosen (QIDO-RS, by the rule `readDicomSeries` uses when none is
 * named), retrieved (WADO-RS) into a folder of the host's store, predicted there as any DICOM folder is, and
 * the DICOM-SEG / RTSTRUCT written for it stored back into its study (STOW-RS). Browser-safe: the client
 * runs on `fetch`, the files live in the host's FileStore. The CLI and the queue worker both compose these.
 */
import type { DicomWebClient } from '../io/dicom/web/client.js';
import type { SeriesSummary } from '../io/dicom/web/dicom-json.js';
import type { StoreResult } from '../io/dicom/web/stow.js';
import { fail } from '../util/errors.js';
import type { ProgressListener } from '../util/progress.js';
import type { FileStore } from './store.js';

export interface DicomWebSeriesRef {
  readonly study: string;
  /** Default: the study's CT or MR series with the most instances. */
  readonly series?: string;
}

export interface FetchSeriesOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressListener;
  /** Refuse a series larger than this (bytes, as it arrives). */
  readonly maxBytes?: number;
}

const IMAGE_MODALITIES = new Set(['CT', 'MR']);

/** The series to predict: the one named (checked to exist), else CT/MR first, then the most instances. */
export async function chooseDicomWebSeries(
  client: DicomWebClient,
  ref: DicomWebSeriesRef,
  signal?: AbortSignal,
): Promise<SeriesSummary> {
  const all = await client.searchSeries({ study: ref.study, ...(signal === undefined ? {} : { signal }) });
  if (all.length === 0)
    fail('NOT_FOUND', `dicomweb: ${client.url} has no study ${ref.study} (or it has no series)`);
  if (ref.series !== undefined) {
    const hit = all.find((s) => s.seriesInstanceUid === ref.series);
    if (hit === undefined)
      fail(
        'NOT_FOUND',
        `dicomweb: study ${ref.study} has no series ${ref.series}; it has ${all.map(describeSeries).join(', ')}`,
      );
    return hit;
  }
  const score = (s: SeriesSummary): [number, number] => [
    IMAGE_MODALITIES.has(s.modality) ? 1 : 0,
    s.numberOfSeriesRelatedInstances ?? 0,
  ];
  const [best] = [...all].sort((a, b) => {
    const [ma, na] = score(a);
    const [mb, nb] = score(b);
    return mb - ma || nb - na || (a.seriesInstanceUid < b.seriesInstanceUid ? -1 : 1);
  });
  if (best === undefined || !IMAGE_MODALITIES.has(best.modality))
    fail(
      'BAD_INPUT',
      `dicomweb: study ${ref.study} has no CT or MR series (${all.map(describeSeries).join(', ')}); name one with --series`,
    );
  return best;
}

/** `'1.2.3' (CT 'Body 3.0', 20 instances)` */
export function describeSeries(s: SeriesSummary): string {
  const parts = [
    s.modality || '?',
    ...(s.seriesDescription === '' ? [] : [`'${s.seriesDescription}'`]),
    ...(s.numberOfSeriesRelatedInstances === undefined
      ? []
      : [`${s.numberOfSeriesRelatedInstances} instances`]),
  ];
  return `${s.seriesInstanceUid} (${parts.join(' ')})`;
}

/**
 * Retrieves the series into `<dir>/<SeriesInstanceUID>/` of the store (replacing what was there) and returns
 * that folder: a DICOM input for `predictRun`, whose outputs are then named after the series UID.
 */
export async function fetchDicomWebSeries(
  store: FileStore,
  client: DicomWebClient,
  series: SeriesSummary,
  dir: string,
  opts: FetchSeriesOptions = {},
): Promise<string> {
  const uid = series.seriesInstanceUid;
  const files = await client.retrieveSeries(series.studyInstanceUid, uid, {
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    ...(opts.maxBytes === undefined ? {} : { maxBytes: opts.maxBytes }),
    ...(opts.onProgress === undefined
      ? {}
      : {
          onProgress: (p) => {
            // MiB received of the answer's length when the server says it, else of what came so far
            const mib = (b: number): number => Math.round(b / 2 ** 20);
            const done = mib(p.receivedBytes);
            opts.onProgress?.({
              stage: 'retrieve (MiB)',
              done,
              total: Math.max(done, mib(p.totalBytes ?? p.receivedBytes)),
            });
          },
        }),
  });
  if (files.length === 0) fail('NOT_FOUND', `dicomweb: series ${uid} came back with no instance`);
  const folder = store.join(dir, uid);
  store.remove(folder);
  store.makeDir(folder);
  store.writeAll(
    files.map((f, i) => ({ path: store.join(folder, `${String(i).padStart(5, '0')}.dcm`), data: f.bytes })),
  );
  return folder;
}

/** The DICOM objects among a case's output files (`<stem>_seg.dcm`, `<stem>_rtstruct.dcm`). */
export function dicomOutputFiles(files: readonly string[]): string[] {
  return files.filter((f) => /_(seg|rtstruct)\.dcm$/.test(f));
}

/** STOW-RS of a case's DICOM outputs into the study of the series they reference. */
export async function storeDicomOutputs(
  store: FileStore,
  client: DicomWebClient,
  study: string,
  files: readonly string[],
  signal?: AbortSignal,
): Promise<StoreResult> {
  const dicom = dicomOutputFiles(files);
  if (dicom.length === 0)
    fail('BAD_INPUT', '--store sends DICOM-SEG or RTSTRUCT back: add --output-type dicom-seg (or rtstruct)');
  return client.store(
    dicom.map((f) => store.read(f, 'DICOM output')),
    study,
    signal === undefined ? {} : { signal },
  );
}
