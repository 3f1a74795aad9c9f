import { concatChunks } from '../../../util/bytes.js';
import { AbortError, fail, StunetError } from '../../../util/errors.js';

/**
 * One HTTP exchange of the DICOMweb client over a `fetch` (the platform's, or the Node adapter's for a
 * private CA): a timeout that restarts with every chunk received, the caller's signal, and every failure
 * turned into one line that names the method and URL (never the credentials, which live in headers only).
 */

/** The part of `fetch` the client uses (the global one fits; so does `nodeDicomWebFetch`). */
export type DicomWebFetch = (url: string, init: RequestInit) => Promise<Response>;

/** Progress of a download: bytes so far, and the total when the server announced it. */
export interface DownloadProgress {
  readonly receivedBytes: number;
  readonly totalBytes?: number;
}

export interface Exchange {
  readonly method: 'GET' | 'POST';
  /** The full URL (no credentials in it). */
  readonly url: string;
  /** The URL as messages name it (default `url`; QIDO-RS leaves out its includefield parameters). */
  readonly shown?: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
  readonly signal?: AbortSignal | undefined;
}

export interface BodyOptions {
  readonly maxBytes?: number | undefined;
  readonly onProgress?: ((p: DownloadProgress) => void) | undefined;
}

/** Aborts a request when the caller's signal does, or when nothing arrived for `ms`. */
class Watchdog {
  readonly controller = new AbortController();
  timedOut = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly onAbort = (): void => {
    this.controller.abort(this.user?.reason);
  };
  constructor(
    private readonly ms: number,
    private readonly user: AbortSignal | undefined,
  ) {
    if (user?.aborted === true) this.controller.abort(user.reason);
    user?.addEventListener('abort', this.onAbort, { once: true });
    this.arm();
  }
  arm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort(new Error(`no answer within ${this.ms} ms`));
    }, this.ms);
  }
  stop(): void {
    clearTimeout(this.timer);
    this.user?.removeEventListener('abort', this.onAbort);
  }
}

/** The error codes (ECONNREFUSED, CERT_HAS_EXPIRED…) along an error's cause chain. */
function codesOf(e: unknown): string[] {
  const codes: string[] = [];
  for (let x = e, depth = 0; typeof x === 'object' && x !== null && depth < 8; depth++) {
    const code = (x as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    for (const inner of (x as { errors?: unknown }).errors instanceof Array
      ? (x as { errors: unknown[] }).errors
      : [])
      codes.push(...codesOf(inner));
    x = (x as { cause?: unknown }).cause;
  }
  return codes;
}

/** The messages along an error's cause chain ("fetch failed", "bad port"). */
function messagesOf(e: unknown): string[] {
  const out: string[] = [];
  for (let x = e, depth = 0; x !== undefined && x !== null && depth < 8; depth++) {
    const m = x instanceof Error ? x.message : typeof x === 'string' ? x : '';
    if (m !== '' && !out.includes(m)) out.push(m.replace(/\s+/g, ' '));
    x = x instanceof Error ? x.cause : undefined;
  }
  return out;
}

/** One line for a request that got no HTTP answer. */
function transportError(e: unknown, ex: Exchange, dog: Watchdog, ms: number): Error {
  if (e instanceof StunetError) return e;
  const what = `dicomweb: ${ex.method} ${ex.shown ?? ex.url}`;
  if (dog.timedOut) return new StunetError('RUNTIME', `${what}: no answer within ${ms} ms (timeoutMs)`);
  if (ex.signal?.aborted === true) return new AbortError(`${what} was cancelled`, ex.signal.reason);
  const codes = codesOf(e);
  const { origin, protocol } = new URL(ex.url);
  const https = protocol === 'https:';
  const has = (re: RegExp): string | undefined => codes.find((c) => re.test(c));
  let why: string;
  if (has(/^ECONNREFUSED$/) !== undefined)
    why = `cannot connect to ${origin}: connection refused (is the server running, on that port?)`;
  else if (has(/^(ENOTFOUND|EAI_AGAIN)$/) !== undefined) why = `cannot connect to ${origin}: host not found`;
  else if (has(/^(ECONNRESET|EPIPE|UND_ERR_SOCKET)$/) !== undefined)
    why = `the server closed the connection${https ? '' : ' (if it serves HTTPS, use an https:// URL)'}`;
  else if (has(/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/) !== undefined)
    why = `the server's TLS certificate is not trusted (${String(has(/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/))}): give its CA (--ca-file) or, for a test server only, insecure`;
  else if (has(/SSL|EPROTO/) !== undefined)
    why = `TLS failed (${String(has(/SSL|EPROTO/))}): is ${origin} an ${https ? 'HTTPS' : 'HTTP'} server?`;
  else why = `request failed: ${messagesOf(e).join(': ')}${codes.length > 0 ? ` (${codes.join(', ')})` : ''}`;
  return new StunetError('RUNTIME', `${what}: ${why}`, { cause: e });
}

/** A short, single-line excerpt of an error answer's body, with any secret removed. */
async function excerpt(response: Response, secrets: readonly string[]): Promise<string> {
  let s = '';
  try {
    s = (await response.text()).replace(/\s+/g, ' ').trim();
  } catch {
    return '';
  }
  for (const secret of secrets) if (secret.length >= 3) s = s.split(secret).join('***');
  return s === '' ? '' : `: ${s.length > 160 ? `${s.slice(0, 160)}…` : s}`;
}

/** One clear error for an HTTP error status (4xx/5xx). */
export async function statusError(
  response: Response,
  ex: Exchange,
  authKind: string | undefined,
  secrets: readonly string[],
): Promise<StunetError> {
  const what = `dicomweb: ${ex.method} ${ex.shown ?? ex.url}: HTTP ${response.status}`;
  const s = response.status;
  const body = await excerpt(response, secrets);
  if (s === 401)
    return new StunetError(
      'BAD_INPUT',
      authKind === undefined
        ? `${what}: the server wants credentials (user:password@ in the URL, or a bearer token)`
        : `${what}: the server refused the ${authKind} credentials (auth refused)`,
    );
  if (s === 403)
    return new StunetError('BAD_INPUT', `${what}: access forbidden (auth refused for this resource)`);
  if (s === 404) return new StunetError('NOT_FOUND', `${what}: not found${body}`);
  return new StunetError(s >= 500 ? 'RUNTIME' : 'BAD_INPUT', `${what} ${response.statusText}${body}`.trim());
}

/** Reads the body of the response being handled (feeding the watchdog; `maxBytes`, `onProgress`). */
export type ReadBody = (o?: BodyOptions) => Promise<Uint8Array>;

/**
 * Runs one exchange: sends the request, then lets `use` handle the response (any status) with a reader of
 * its body. The watchdog runs until `use` returns; a body `use` did not read is cancelled.
 */
export async function exchange<T>(
  fetchFn: DicomWebFetch,
  ex: Exchange,
  timeoutMs: number,
  use: (response: Response, read: ReadBody) => Promise<T>,
): Promise<T> {
  const dog = new Watchdog(timeoutMs, ex.signal);
  let response: Response;
  try {
    const init: RequestInit = { method: ex.method, headers: ex.headers, signal: dog.controller.signal };
    if (ex.body !== undefined) init.body = ex.body;
    response = await fetchFn(ex.url, init);
  } catch (e) {
    dog.stop();
    throw transportError(e, ex, dog, timeoutMs);
  }
  dog.arm();
  const read: ReadBody = async (o = {}) => {
    try {
      return await readBody(response, dog, ex, o);
    } catch (e) {
      throw transportError(e, ex, dog, timeoutMs);
    }
  };
  try {
    return await use(response, read);
  } finally {
    dog.stop();
    if (!response.bodyUsed) response.body?.cancel().catch(() => undefined);
  }
}

async function readBody(
  response: Response,
  dog: Watchdog,
  ex: Exchange,
  o: BodyOptions,
): Promise<Uint8Array> {
  const length = Number(response.headers.get('content-length') ?? NaN);
  const totalBytes = Number.isFinite(length) ? length : undefined;
  const tooLarge = (n: number): StunetError =>
    new StunetError(
      'BAD_INPUT',
      `dicomweb: ${ex.method} ${ex.shown ?? ex.url}: the answer is larger than maxBytes (${n} > ${o.maxBytes ?? 0} bytes)`,
    );
  if (o.maxBytes !== undefined && totalBytes !== undefined && totalBytes > o.maxBytes) {
    await response.body?.cancel();
    throw tooLarge(totalBytes);
  }
  const reader = response.body?.getReader();
  if (reader === undefined) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let receivedBytes = 0;
  for (;;) {
    const { done, value } = (await reader.read()) as { done: boolean; value?: Uint8Array };
    if (done || value === undefined) break;
    dog.arm();
    chunks.push(value);
    receivedBytes += value.length;
    if (o.maxBytes !== undefined && receivedBytes > o.maxBytes) {
      await reader.cancel();
      throw tooLarge(receivedBytes);
    }
    o.onProgress?.(totalBytes === undefined ? { receivedBytes } : { receivedBytes, totalBytes });
  }
  return concatChunks(chunks);
}

/** The decoded text of a body (UTF-8). */
export const utf8 = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/** Throws unless `n` is a positive finite number of milliseconds. */
export function checkTimeout(n: number): number {
  if (!(Number.isFinite(n) && n > 0))
    fail('BAD_INPUT', `dicomweb: timeoutMs must be a positive number, got ${n}`);
  return n;
}
