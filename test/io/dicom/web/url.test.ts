/**
 * A DICOMweb address with credentials: they become auth and leave the address, and no error repeats them;
 * the Authorization header is the RFC's (checked against Node's own base64).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { DicomWebClient } from '../../../../src/io/dicom/web/client.js';
import { authorization, base64, parseDicomWebUrl, redact } from '../../../../src/io/dicom/web/url.js';

test('user:password@ in the address becomes Basic auth (percent-decoded); the address keeps neither', () => {
  const r = parseDicomWebUrl(' https://alice:s%3Ac%40ret@pacs.example:8443/dicom-web/ ');
  assert.equal(r.url, 'https://pacs.example:8443/dicom-web');
  assert.deepEqual(r.auth, { kind: 'basic', user: 'alice', password: 's:c@ret' });
  assert.deepEqual(parseDicomWebUrl('http://localhost:8042/dicom-web'), {
    url: 'http://localhost:8042/dicom-web',
  });
  assert.deepEqual(parseDicomWebUrl('http://localhost:8042'), { url: 'http://localhost:8042' });
  assert.deepEqual(parseDicomWebUrl('http://bob@h/x').auth, { kind: 'basic', user: 'bob', password: '' });
  // the client takes them too, and says the address without them
  const client = new DicomWebClient({ url: 'http://alice:topsecret@127.0.0.1:9/dicom-web' });
  assert.equal(client.url, 'http://127.0.0.1:9/dicom-web');
});

test('addresses refused with one clear error that never repeats a password', () => {
  const bad: [string, RegExp][] = [
    ['ftp://alice:topsecret@host/dicom-web', /ftp:\/\/ is not supported/],
    ['http://alice:topsecret@ho st/dicom-web', /is not a URL/],
    ['pacs.example/dicom-web', /is not a URL/],
    ['http://alice:topsecret@host/dicom-web?x=1', /may not carry a query or fragment/],
    ['http://host/dicom-web#top', /may not carry a query or fragment/],
  ];
  for (const [address, re] of bad) {
    assert.throws(
      () => parseDicomWebUrl(address),
      (e: Error) => re.test(e.message) && !e.message.includes('topsecret'),
      address,
    );
  }
  assert.equal(redact('http://alice:topsecret@host/x'), 'http://***@host/x');
});

test('base64 is RFC 4648 (as Buffer writes it), for any bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
      assert.equal(base64(b), Buffer.from(b).toString('base64'));
    }),
  );
});

test('Authorization: Basic of UTF-8 user:password, Bearer of a token; what cannot be sent is refused', () => {
  assert.equal(
    authorization({ kind: 'basic', user: 'Aladdin', password: 'open sesame' }),
    'Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==',
  );
  assert.equal(
    authorization({ kind: 'basic', user: 'jürg', password: 'pässwörd' }),
    `Basic ${Buffer.from('jürg:pässwörd', 'utf8').toString('base64')}`,
  );
  assert.equal(authorization({ kind: 'bearer', token: 'abc.DEF-123_~+/==' }), 'Bearer abc.DEF-123_~+/==');
  assert.throws(() => authorization({ kind: 'bearer', token: 'two words' }), /bearer token has characters/);
  assert.throws(
    () => authorization({ kind: 'bearer', token: 'x\r\nInjected: 1' }),
    /bearer token has characters/,
  );
  assert.throws(() => authorization({ kind: 'basic', user: 'a:b', password: 'p' }), /may not contain ":"/);
});
