/**
 * multipart/related as DICOMweb uses it: what we write splits back to the same parts (any bytes), and the
 * splitter copes with what servers send (quoted boundaries, preamble and epilogue, LF line ends, part
 * headers, transport padding) and refuses what is malformed with one clear error.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  decodeMultipart,
  encodeMultipartRelated,
  parseContentType,
} from '../../../../src/io/dicom/web/multipart.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
const partsOf = (body: string, contentType: string): string[] =>
  decodeMultipart(enc(body), contentType).map((p) => dec(p.bytes));

test('encode → decode gives back the parts, byte for byte (any bytes, empty parts, CRLF and "--" inside)', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 6 }), (parts) => {
      const { body, contentType } = encodeMultipartRelated(parts);
      const back = decodeMultipart(body, contentType);
      assert.deepEqual(
        back.map((p) => p.bytes),
        parts,
      );
      for (const p of back) assert.equal(p.headers.get('content-type'), 'application/dicom');
    }),
    { numRuns: 200 },
  );
  const tricky = [enc('\r\n--\r\n--stunet-\r\n'), new Uint8Array(0), enc('\r\n'), enc('--')];
  const { body, contentType } = encodeMultipartRelated(tricky);
  assert.deepEqual(
    decodeMultipart(body, contentType).map((p) => p.bytes),
    tricky,
  );
});

test('the Content-Type written: multipart/related, type="application/dicom", the boundary; a fixed boundary', () => {
  const { body, contentType } = encodeMultipartRelated([enc('A')], { boundary: 'b0und' });
  const ct = parseContentType(contentType);
  assert.equal(ct.mediaType, 'multipart/related');
  assert.equal(ct.params.get('type'), 'application/dicom');
  assert.equal(ct.params.get('boundary'), 'b0und');
  assert.equal(dec(body), '--b0und\r\nContent-Type: application/dicom\r\n\r\nA\r\n--b0und--\r\n');
  assert.notEqual(
    parseContentType(encodeMultipartRelated([enc('A')]).contentType).params.get('boundary'),
    parseContentType(encodeMultipartRelated([enc('A')]).contentType).params.get('boundary'),
  );
  assert.throws(
    () => encodeMultipartRelated([enc('x--b0und')], { boundary: 'b0und' }),
    /a part contains the boundary/,
  );
  assert.throws(() => encodeMultipartRelated([], { boundary: 'no spaces' }), /is not 1–70 characters/);
  assert.throws(() => encodeMultipartRelated([], { boundary: 'x'.repeat(71) }), /is not 1–70 characters/);
});

test('what servers send: a quoted boundary, preamble and epilogue, LF line ends, padding, part headers', () => {
  // a quoted boundary with characters a token may not have; the parameter name in any case
  const q = 'multipart/related; type="application/dicom"; BOUNDARY="a b:c?"';
  assert.deepEqual(partsOf('--a b:c?\r\n\r\none\r\n--a b:c?--\r\n', q), ['one']);
  // preamble, epilogue, transport padding after a delimiter
  const body =
    'ignored preamble\r\n--XYZ  \t\r\nContent-Type: application/dicom\r\n\r\nfirst\r\n--XYZ\r\n\r\nsecond\r\n--XYZ--\r\nepilogue';
  assert.deepEqual(partsOf(body, 'multipart/related; boundary=XYZ'), ['first', 'second']);
  // LF only
  assert.deepEqual(
    partsOf('--XYZ\nContent-Type: application/dicom\n\nlf\n--XYZ--\n', 'multipart/related;boundary=XYZ'),
    ['lf'],
  );
  // a delimiter-like string inside a line is content
  assert.deepEqual(partsOf('--XYZ\r\n\r\nx--XYZ y\r\n--XYZ--', 'multipart/related; boundary=XYZ'), [
    'x--XYZ y',
  ]);
  // part headers: names in any case, a folded line, a transfer-syntax parameter
  const headed = decodeMultipart(
    enc(
      '--B\r\nCONTENT-TYPE: application/dicom; transfer-syntax=1.2.840.10008.1.2.4.90\r\n' +
        'Content-Location: http://x/studies/1\r\n  /series/2\r\n\r\nDICM\r\n--B--\r\n',
    ),
    'multipart/related; type="application/dicom"; boundary="B"',
  );
  const [part] = headed;
  assert.ok(part !== undefined && headed.length === 1);
  assert.equal(
    parseContentType(part.headers.get('content-type') ?? '').params.get('transfer-syntax'),
    '1.2.840.10008.1.2.4.90',
  );
  assert.equal(part.headers.get('content-location'), 'http://x/studies/1 /series/2');
  assert.equal(dec(part.bytes), 'DICM');
  // no parts at all
  assert.deepEqual(partsOf('--B--\r\n', 'multipart/related; boundary=B'), []);
});

test('malformed multipart: one clear error each', () => {
  const mp = 'multipart/related; boundary=B';
  const bad: [string, string, RegExp][] = [
    ['--B\r\n\r\nx\r\n--B--', 'multipart/related', /has no boundary/],
    ['--B\r\n\r\nx\r\n--B--', 'multipart/related; boundary=""', /has no boundary/],
    ['--B\r\n\r\nx\r\n--B--', 'application/dicom', /expected a multipart body/],
    ['<html>oops</html>', mp, /no "--B" delimiter in 17 bytes/],
    ['--B\r\n\r\nx\r\n--B\r\n\r\ny', mp, /truncated \(no closing "--B--"\)/],
    ['--B\r\nContent-Type: application/dicom\r\nDICM', mp, /truncated/],
    ['--B\r\nContent-Type: application/dicom\r\n--B--', mp, /part 1 has no blank line after its headers/],
    ['--Bjunk\r\n\r\nx\r\n--B--', mp, /no line break after a delimiter/],
    ['--B\r\nnot a header\r\n\r\nx\r\n--B--', mp, /part header line "not a header"/],
    ['--B\r\n\r\nx\r\n--B--', 'multipart/related; boundary="B', /unterminated quoted string/],
  ];
  for (const [body, type, re] of bad)
    assert.throws(() => decodeMultipart(enc(body), type, 'GET http://x'), re, body);
  assert.throws(() => decodeMultipart(enc('--B--'), 'text/html', 'GET http://x'), {
    code: 'BAD_INPUT',
    message: /^GET http:\/\/x: expected a multipart body/,
  });
});

test('parseContentType: parameters in any case, quoted values with escapes and semicolons, errors', () => {
  const ct = parseContentType('Application/DICOM+JSON ; Charset=utf-8; name="a \\"b\\"; c" ;x=');
  assert.equal(ct.mediaType, 'application/dicom+json');
  assert.equal(ct.params.get('charset'), 'utf-8');
  assert.equal(ct.params.get('name'), 'a "b"; c');
  assert.equal(ct.params.get('x'), '');
  assert.throws(() => parseContentType('dicom'), /"dicom" is not a media type/);
  assert.throws(() => parseContentType('a/b; novalue'), /parameter without "="/);
});
