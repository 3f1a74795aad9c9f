import { fail } from '../../../util/errors.js';

/** How the client proves who it is: HTTP Basic (RFC 7617) or a bearer token (RFC 6750). */
export type DicomWebAuth =
  | { readonly kind: 'basic'; readonly user: string; readonly password: string }
  | { readonly kind: 'bearer'; readonly token: string };

/** A DICOMweb service root without credentials, and the credentials its address carried. */
export interface DicomWebUrl {
  /** `http(s)://host[:port]/path` with no user, password, query or fragment and no trailing slash. */
  readonly url: string;
  readonly auth?: DicomWebAuth;
}

/**
 * Parses a DICOMweb service root such as `https://alice:s3cret@pacs.example/dicom-web/`: the
 * credentials (percent-decoded) become Basic auth and leave the address, so nothing that prints the
 * address prints them. Only http and https; a query or fragment in a service root is refused.
 */
export function parseDicomWebUrl(address: string): DicomWebUrl {
  let u: URL;
  try {
    u = new URL(address.trim());
  } catch {
    // the address may carry a password: say what is wrong without repeating it
    return fail(
      'BAD_INPUT',
      `dicomweb: "${redact(address)}" is not a URL (e.g. http://localhost:8042/dicom-web)`,
    );
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    fail(
      'BAD_INPUT',
      `dicomweb: ${u.protocol}// is not supported: the service root is an http:// or https:// URL`,
    );
  if (u.search !== '' || u.hash !== '')
    fail(
      'BAD_INPUT',
      `dicomweb: the service root ${u.origin}${u.pathname} may not carry a query or fragment`,
    );
  const user = decodeURIComponent(u.username);
  const password = decodeURIComponent(u.password);
  const url = `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
  if (user === '' && password === '') return { url };
  return { url, auth: { kind: 'basic', user, password } };
}

/** The address with any `user:password@` replaced by `***@` (for messages). */
export function redact(address: string): string {
  return address.replace(/\/\/[^/@]*@/, '//***@');
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Base64 of bytes (RFC 4648, padded): `btoa` takes only Latin-1 strings, credentials may be UTF-8. */
export function base64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = ((bytes[i] ?? 0) << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = Math.min(4, Math.ceil(((bytes.length - i) * 8) / 6));
    for (let k = 0; k < 4; k++) out += k < chars ? (B64[(n >> (18 - 6 * k)) & 63] ?? '') : '=';
  }
  return out;
}

/** The Authorization header value for `auth`. */
export function authorization(auth: DicomWebAuth): string {
  if (auth.kind === 'bearer') {
    if (!/^[A-Za-z0-9\-._~+/]+=*$/.test(auth.token))
      fail('BAD_INPUT', 'dicomweb: the bearer token has characters a token may not have (RFC 6750 b64token)');
    return `Bearer ${auth.token}`;
  }
  if (auth.user.includes(':')) fail('BAD_INPUT', 'dicomweb: a Basic auth user name may not contain ":"');
  return `Basic ${base64(new TextEncoder().encode(`${auth.user}:${auth.password}`))}`;
}
