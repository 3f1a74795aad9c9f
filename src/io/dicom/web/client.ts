import { fail } from '../../../util/errors.js';
import { isDicomPart10 } from '../parse.js';
import type { DicomFile } from '../series.js';
import { mediaStorageUids } from '../source.js';
import {
  dicomJsonArray,
  instanceSummary,
  seriesSummary,
  studySummary,
  type DicomJson,
  type InstanceSummary,
  type SeriesSummary,
  type StudySummary,
} from './dicom-json.js';
import {
  checkTimeout,
  exchange,
  statusError,
  utf8,
  type DicomWebFetch,
  type DownloadProgress,
  type Exchange,
} from './http.js';
import { decodeMultipart, encodeMultipartRelated, parseContentType } from './multipart.js';
import { describeFailures, instanceUids, storeResponseJson, storeResult, type StoreResult } from './stow.js';
import { authorization, parseDicomWebUrl, type DicomWebAuth } from './url.js';

/**
 * A DICOMweb client (PS3.18): QIDO-RS search, WADO-RS retrieve, STOW-RS store, over `fetch`. Browser-safe;
 * in Node, `nodeDicomWebFetch` (stunet/node) adds a private CA or `insecure` for HTTPS.
 */
export interface DicomWebClientOptions {
  /** The service root, e.g. http://localhost:8042/dicom-web (user:password@ in it becomes Basic auth). */
  readonly url: string;
  readonly auth?: DicomWebAuth;
  readonly fetch?: DicomWebFetch;
  /** Extra headers sent with every request. */
  readonly headers?: Readonly<Record<string, string>>;
  /** How long to wait for an answer, or for the next bytes of one (default 30 000 ms). */
  readonly timeoutMs?: number;
}

/** Paging and any other QIDO-RS matching keys (`{ '00100010': 'DOE*' }` or `{ PatientName: 'DOE*' }`). */
export interface QueryOptions {
  readonly limit?: number;
  readonly offset?: number;
  readonly filters?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
}

export interface StudyQuery extends QueryOptions {
  readonly patientId?: string;
  readonly patientName?: string;
  /** YYYYMMDD or a range YYYYMMDD-YYYYMMDD. */
  readonly studyDate?: string;
  readonly accessionNumber?: string;
  readonly studyInstanceUid?: string;
}

export interface SeriesQuery extends QueryOptions {
  /** Search within one study (else across all). */
  readonly study?: string;
  readonly seriesInstanceUid?: string;
  readonly modality?: string;
}

export interface RetrieveOptions {
  readonly onProgress?: (p: DownloadProgress) => void;
  readonly signal?: AbortSignal;
  /** Refuse an answer larger than this many bytes (checked as it arrives). */
  readonly maxBytes?: number;
}

export interface StoreOptions {
  readonly signal?: AbortSignal;
  /** Return failures in the result instead of throwing (default: any failure throws). */
  readonly allowFailures?: boolean;
}

const STUDY_FIELDS = ['00081030', '00080061', '00201206', '00201208'];
const SERIES_FIELDS = ['0008103E', '00200011', '00201209'];
const INSTANCE_FIELDS = ['00080016', '00200013'];
const WADO_ACCEPT = 'multipart/related; type="application/dicom"; transfer-syntax=*';

/** Checks a UID before it goes into a path: digits and dots, at most 64 characters. */
function uid(value: string, what: string): string {
  if (!/^[0-9]+(\.[0-9]+)*$/.test(value) || value.length > 64)
    fail('BAD_INPUT', `dicomweb: ${what} "${value.slice(0, 80)}" is not a DICOM UID (digits and dots, ≤ 64)`);
  return value;
}

export class DicomWebClient {
  /** The service root, without credentials. */
  readonly url: string;
  private readonly auth: DicomWebAuth | undefined;
  private readonly fetchFn: DicomWebFetch;
  private readonly headers: Readonly<Record<string, string>>;
  private readonly timeoutMs: number;

  constructor(options: DicomWebClientOptions) {
    const parsed = parseDicomWebUrl(options.url);
    this.url = parsed.url;
    this.auth = options.auth ?? parsed.auth;
    const platform = (globalThis as { fetch?: DicomWebFetch }).fetch;
    const f = options.fetch ?? platform;
    if (f === undefined) fail('UNSUPPORTED', 'dicomweb: this platform has no fetch: pass one as `fetch`');
    this.fetchFn = f;
    this.headers = {
      ...options.headers,
      ...(this.auth === undefined ? {} : { Authorization: authorization(this.auth) }),
    };
    this.timeoutMs = checkTimeout(options.timeoutMs ?? 30_000);
  }

  /** QIDO-RS /studies. */
  async searchStudies(query: StudyQuery = {}): Promise<StudySummary[]> {
    const keys: Record<string, string | undefined> = {
      PatientID: query.patientId,
      PatientName: query.patientName,
      StudyDate: query.studyDate,
      AccessionNumber: query.accessionNumber,
      StudyInstanceUID: query.studyInstanceUid,
    };
    return (await this.qido('/studies', keys, STUDY_FIELDS, query)).map(studySummary);
  }

  /** QIDO-RS /series, or /studies/{study}/series. */
  async searchSeries(query: SeriesQuery = {}): Promise<SeriesSummary[]> {
    const path = query.study === undefined ? '/series' : `/studies/${uid(query.study, 'study')}/series`;
    const keys = { SeriesInstanceUID: query.seriesInstanceUid, Modality: query.modality };
    return (await this.qido(path, keys, SERIES_FIELDS, query)).map(seriesSummary);
  }

  /** QIDO-RS /studies/{study}/series/{series}/instances. */
  async searchInstances(study: string, series: string, query: QueryOptions = {}): Promise<InstanceSummary[]> {
    const path = `/studies/${uid(study, 'study')}/series/${uid(series, 'series')}/instances`;
    return (await this.qido(path, {}, INSTANCE_FIELDS, query)).map(instanceSummary);
  }

  /** WADO-RS: every instance of a series, as stored (any transfer syntax), named `<SOPInstanceUID>.dcm`. */
  async retrieveSeries(study: string, series: string, options: RetrieveOptions = {}): Promise<DicomFile[]> {
    return this.wado(`/studies/${uid(study, 'study')}/series/${uid(series, 'series')}`, options);
  }

  /** WADO-RS: one instance. */
  async retrieveInstance(
    study: string,
    series: string,
    sop: string,
    options: RetrieveOptions = {},
  ): Promise<DicomFile> {
    const path = `/studies/${uid(study, 'study')}/series/${uid(series, 'series')}/instances/${uid(sop, 'instance')}`;
    const files = await this.wado(path, options);
    const [file] = files;
    if (file === undefined || files.length !== 1)
      fail('RUNTIME', `dicomweb: GET ${this.url}${path}: expected one instance, got ${files.length}`);
    return file;
  }

  /**
   * STOW-RS: stores Part 10 instances (all in `study` when given). Throws when any instance was not
   * stored, naming them and the server's reasons, unless `allowFailures`.
   */
  async store(
    instances: readonly Uint8Array[],
    study?: string,
    options: StoreOptions = {},
  ): Promise<StoreResult> {
    const sent = instanceUids(instances);
    const { body, contentType } = encodeMultipartRelated(instances);
    const url = `${this.url}/studies${study === undefined ? '' : `/${uid(study, 'study')}`}`;
    const ex: Exchange = {
      method: 'POST',
      url,
      headers: { ...this.headers, 'Content-Type': contentType, Accept: 'application/dicom+json' },
      body,
      signal: options.signal,
    };
    return exchange(this.fetchFn, ex, this.timeoutMs, async (response, read) => {
      // 400 and 409 may carry a FailedSOPSequence: read it before giving up
      if (response.status >= 400 && ![400, 409].includes(response.status))
        throw await this.statusError(response, ex);
      const text = utf8(await read());
      const json = storeResponseJson(text);
      const result = storeResult(json, sent);
      const what = `dicomweb: POST ${url}`;
      const failures = describeFailures(result, sent.length);
      if (response.status >= 400)
        fail('BAD_INPUT', `${what}: HTTP ${response.status}: the server refused the request; ${failures}`);
      if (json === undefined && text.trim() !== '')
        fail('RUNTIME', `${what}: the answer is not DICOM JSON, so what was stored is unknown`);
      if (result.failed.length > 0 && options.allowFailures !== true)
        fail('BAD_INPUT', `${what}: ${failures}`);
      return result;
    });
  }

  private async statusError(response: Response, ex: Exchange): Promise<Error> {
    const secrets =
      this.auth === undefined ? [] : this.auth.kind === 'basic' ? [this.auth.password] : [this.auth.token];
    return statusError(response, ex, this.auth?.kind, secrets);
  }

  private async qido(
    path: string,
    keys: Readonly<Record<string, string | undefined>>,
    fields: readonly string[],
    query: QueryOptions,
  ): Promise<DicomJson[]> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries({ ...keys, ...query.filters }))
      if (v !== undefined) params.append(k, v);
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    if (query.offset !== undefined) params.set('offset', String(query.offset));
    const shown = `${this.url}${path}${params.size > 0 ? `?${params.toString()}` : ''}`;
    for (const f of fields) params.append('includefield', f);
    const url = `${this.url}${path}?${params.toString()}`;
    const ex: Exchange = {
      method: 'GET',
      url,
      shown,
      headers: { ...this.headers, Accept: 'application/dicom+json' },
      signal: query.signal,
    };
    const what = `dicomweb: GET ${shown}`;
    return exchange(this.fetchFn, ex, this.timeoutMs, async (response, read) => {
      if (response.status >= 400) throw await this.statusError(response, ex);
      if (response.status === 204) return [];
      const type = parseContentType(response.headers.get('content-type') ?? 'application/octet-stream', what);
      if (type.mediaType !== 'application/dicom+json' && type.mediaType !== 'application/json')
        fail(
          'RUNTIME',
          `${what}: expected application/dicom+json, got ${type.mediaType} (is ${this.url} a DICOMweb service root?)`,
        );
      return dicomJsonArray(utf8(await read()), what);
    });
  }

  private async wado(path: string, options: RetrieveOptions): Promise<DicomFile[]> {
    const url = `${this.url}${path}`;
    const ex: Exchange = {
      method: 'GET',
      url,
      headers: { ...this.headers, Accept: WADO_ACCEPT },
      signal: options.signal,
    };
    const what = `dicomweb: GET ${url}`;
    const parts = await exchange(this.fetchFn, ex, this.timeoutMs, async (response, read) => {
      if (response.status >= 400) throw await this.statusError(response, ex);
      const contentType = response.headers.get('content-type') ?? '';
      const type = contentType === '' ? undefined : parseContentType(contentType, what);
      const partType = type?.params.get('type')?.toLowerCase();
      if (
        type?.mediaType !== 'multipart/related' ||
        (partType !== undefined && partType !== 'application/dicom')
      )
        fail(
          'RUNTIME',
          `${what}: expected multipart/related DICOM instances, got "${contentType || 'no Content-Type'}" (is ${this.url} a DICOMweb service root?)`,
        );
      return decodeMultipart(await read(options), contentType, what);
    });
    return parts.map((part, i) => {
      const t = part.headers.get('content-type');
      if (t !== undefined && parseContentType(t, what).mediaType !== 'application/dicom')
        fail('RUNTIME', `${what}: part ${i + 1} is ${t}, not application/dicom`);
      if (!isDicomPart10(part.bytes))
        fail('RUNTIME', `${what}: part ${i + 1} (${part.bytes.length} bytes) is not a DICOM Part 10 file`);
      const sop = mediaStorageUids(part.bytes).instanceUid;
      return { name: sop === '' ? `instance-${i + 1}.dcm` : `${sop}.dcm`, bytes: part.bytes };
    });
  }
}
