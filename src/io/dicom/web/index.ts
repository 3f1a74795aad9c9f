/** DICOMweb (PS3.18) over `fetch`: QIDO-RS, WADO-RS, STOW-RS and the multipart/related they use. */
export {
  DicomWebClient,
  type DicomWebClientOptions,
  type QueryOptions,
  type RetrieveOptions,
  type SeriesQuery,
  type StoreOptions,
  type StudyQuery,
} from './client.js';
export type {
  DicomJson,
  DicomJsonAttribute,
  InstanceSummary,
  SeriesSummary,
  StudySummary,
} from './dicom-json.js';
export type { DicomWebFetch, DownloadProgress } from './http.js';
export {
  decodeMultipart,
  encodeMultipartRelated,
  parseContentType,
  type ContentType,
  type EncodeMultipartOptions,
  type MultipartPart,
} from './multipart.js';
export type { StoreFailure, StoreResult } from './stow.js';
export { parseDicomWebUrl, type DicomWebAuth, type DicomWebUrl } from './url.js';
