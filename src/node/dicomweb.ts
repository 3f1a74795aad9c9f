/**
 * The DICOMweb client's Node adapter: a `fetch` over node:http/node:https that can trust a private CA
 * (`caFile`, PEM) or, for a test server only, any certificate (`insecure`); Node 20's global fetch takes
 * neither. It answers with a standard `Response` whose body streams from the socket.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { DicomWebClient, type DicomWebClientOptions } from '../io/dicom/web/client.js';
import type { DicomWebFetch } from '../io/dicom/web/http.js';
import { fail } from '../util/errors.js';
import { readBytes } from './fs.js';

export * from '../io/dicom/web/index.js';

export interface NodeDicomWebFetchOptions {
  /** A PEM file of the certificate authorities to trust (instead of Node's bundled ones). */
  readonly caFile?: string;
  /** Accept any server certificate (self-signed, expired, another host's): for test servers only. */
  readonly insecure?: boolean;
}

/** Statuses whose response has no body (the Response constructor refuses one). */
const NULL_BODY = new Set([101, 204, 205, 304]);

function responseOf(res: IncomingMessage, method: string): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const status = res.statusCode ?? 0;
  const empty = NULL_BODY.has(status) || method === 'HEAD';
  if (empty) res.resume();
  const body = empty ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
  return new Response(body, { status, statusText: res.statusMessage ?? '', headers });
}

/** A `fetch` for `DicomWebClient` with the TLS trust given (requests bodies: bytes or text). */
export function nodeDicomWebFetch(options: NodeDicomWebFetchOptions = {}): DicomWebFetch {
  const ca = options.caFile === undefined ? undefined : Buffer.from(readBytes(options.caFile, 'CA file'));
  const tls = { ...(ca === undefined ? {} : { ca }), rejectUnauthorized: options.insecure !== true };
  return (url, init) =>
    new Promise<Response>((resolve, reject) => {
      const u = new URL(url);
      if (u.protocol !== 'http:' && u.protocol !== 'https:')
        fail('BAD_INPUT', `dicomweb: ${u.protocol}// is not supported (http or https)`);
      const body = init.body;
      if (body !== undefined && body !== null && typeof body !== 'string' && !(body instanceof Uint8Array))
        fail('UNSUPPORTED', 'dicomweb: nodeDicomWebFetch sends bytes or text bodies only');
      const method = init.method ?? 'GET';
      const headers: Record<string, string> = Object.fromEntries(new Headers(init.headers).entries());
      if (body !== undefined && body !== null) headers['content-length'] = String(Buffer.byteLength(body));
      const signal = init.signal ?? undefined;
      if (signal?.aborted === true) {
        reject(signal.reason as Error);
        return;
      }
      const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
        u,
        { method, headers, agent: false, ...(u.protocol === 'https:' ? tls : {}) },
        (res) => {
          signal?.addEventListener('abort', () => res.destroy(signal.reason as Error), { once: true });
          try {
            resolve(responseOf(res, method));
          } catch (e) {
            res.destroy();
            reject(e instanceof Error ? e : new Error(String(e)));
          }
        },
      );
      signal?.addEventListener('abort', () => req.destroy(signal.reason as Error), { once: true });
      req.on('error', reject);
      req.end(body ?? undefined);
    });
}

/**
 * A DicomWebClient for Node: the address may carry `user:password@`; HTTPS trusts `caFile` or, with
 * `insecure`, anything.
 */
export function nodeDicomWebClient(
  options: Omit<DicomWebClientOptions, 'fetch'> & NodeDicomWebFetchOptions,
): DicomWebClient {
  const { caFile, insecure, ...rest } = options;
  const tls = {
    ...(caFile === undefined ? {} : { caFile }),
    ...(insecure === undefined ? {} : { insecure }),
  };
  return new DicomWebClient({ ...rest, fetch: nodeDicomWebFetch(tls) });
}
