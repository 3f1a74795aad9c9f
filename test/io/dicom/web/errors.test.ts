/**
 * What goes wrong between the client and a server, each as one line that names the method and URL and
 * never a credential: nobody listening, no answer (or a body that stops), cancellation, answers that are
 * not DICOM, malformed multipart, HTTP errors. Through the platform's fetch and through the Node adapter.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DicomWebClient, type DicomWebClientOptions } from '../../../../src/io/dicom/web/client.js';
import { nodeDicomWebFetch } from '../../../../src/node/dicomweb.js';
import { StunetError } from '../../../../src/util/errors.js';
import { localServer, type LocalServer } from './local-server.js';
import { freePort } from './orthanc.js';

const FETCHES = [
  ['global fetch', globalThis.fetch],
  ['nodeDicomWebFetch', nodeDicomWebFetch()],
] as const;
const STUDY = '1.2.3';
const SERIES = '4.5.6';
let server: LocalServer;

const MULTIPART = 'multipart/related; type="application/dicom"; boundary=B';
const ROUTES: Record<string, (res: import('node:http').ServerResponse) => void> = {
  hang: () => undefined, // never answers
  stall: (res) => {
    res.writeHead(200, { 'content-type': MULTIPART });
    res.write('--B\r\n\r\nDICM'); // and then nothing
  },
  html: (res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>a web page</html>'),
  truncated: (res) => res.writeHead(200, { 'content-type': MULTIPART }).end('--B\r\n\r\nhalf an instance'),
  notdicom: (res) => res.writeHead(200, { 'content-type': MULTIPART }).end('--B\r\n\r\nhello\r\n--B--\r\n'),
  e500: (res) =>
    res.writeHead(500, { 'content-type': 'text/plain' }).end('trouble with password topsecret\n'),
  e401: (res) => res.writeHead(401, { 'www-authenticate': 'Basic realm="x"' }).end(),
  e403: (res) => res.writeHead(403).end(),
  empty: (res) => res.writeHead(204).end(),
};

before(async () => {
  server = await localServer((req, res) => {
    const route = ROUTES[(req.url ?? '').split('/')[1] ?? ''];
    if (route === undefined) res.writeHead(404).end();
    else route(res);
  });
});

after(async () => {
  await server.close();
});

async function rejects(p: Promise<unknown>, code: string, ...patterns: RegExp[]): Promise<StunetError> {
  const e = await p.then(
    () => assert.fail('expected an error'),
    (x: unknown) => x,
  );
  assert.ok(e instanceof StunetError, `not a StunetError: ${String(e)}`);
  assert.equal(e.code, code, e.message);
  assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
  assert.ok(!e.message.includes('topsecret') && !e.message.includes('tok3n'), `a secret in: ${e.message}`);
  for (const re of patterns) assert.match(e.message, re);
  return e;
}

const clientAt = (
  route: string,
  fetch: DicomWebClientOptions['fetch'],
  more: Partial<DicomWebClientOptions> = {},
) =>
  new DicomWebClient({
    url: `${server.origin}/${route}`,
    ...(fetch === undefined ? {} : { fetch }),
    ...more,
  });

test('nobody listening: connection refused, naming the URL', async () => {
  const port = await freePort();
  for (const [, fetch] of FETCHES) {
    const c = new DicomWebClient({ url: `http://alice:topsecret@127.0.0.1:${port}/dicom-web`, fetch });
    await rejects(
      c.searchStudies(),
      'RUNTIME',
      new RegExp(
        `GET http://127\\.0\\.0\\.1:${port}/dicom-web/studies: cannot connect to http://127\\.0\\.0\\.1:${port}: `,
      ),
      /connection refused \(is the server running, on that port\?\)/,
    );
  }
});

test('no answer, or a body that stops: timed out after timeoutMs; a cancelled request is an AbortError', async () => {
  for (const [, fetch] of FETCHES) {
    const t0 = Date.now();
    await rejects(
      clientAt('hang', fetch, { timeoutMs: 300 }).searchStudies(),
      'RUNTIME',
      /no answer within 300 ms/,
    );
    await rejects(
      clientAt('stall', fetch, { timeoutMs: 300 }).retrieveSeries(STUDY, SERIES),
      'RUNTIME',
      /GET http:\/\/127\.0\.0\.1:\d+\/stall\/studies\/1\.2\.3\/series\/4\.5\.6: no answer within 300 ms/,
    );
    assert.ok(Date.now() - t0 < 3000, `${Date.now() - t0} ms`);
    const controller = new AbortController();
    const pending = clientAt('hang', fetch).searchStudies({ signal: controller.signal });
    setTimeout(() => {
      controller.abort();
    }, 50);
    const e = await rejects(pending, 'RUNTIME', /was cancelled/);
    assert.equal(e.name, 'AbortError');
  }
  assert.throws(
    () => clientAt('hang', undefined, { timeoutMs: 0 }),
    /timeoutMs must be a positive number, got 0/,
  );
});

test('answers that are not DICOM: a web page, a truncated multipart, a part that is not Part 10', async () => {
  for (const [, fetch] of FETCHES) {
    await rejects(
      clientAt('html', fetch).retrieveSeries(STUDY, SERIES),
      'RUNTIME',
      /expected multipart\/related DICOM instances, got "text\/html"/,
      /is http:\/\/127\.0\.0\.1:\d+\/html a DICOMweb service root\?/,
    );
    await rejects(
      clientAt('html', fetch).searchSeries(),
      'RUNTIME',
      /expected application\/dicom\+json, got text\/html/,
    );
    await rejects(
      clientAt('truncated', fetch).retrieveSeries(STUDY, SERIES),
      'BAD_INPUT',
      /malformed multipart: truncated/,
    );
    await rejects(
      clientAt('notdicom', fetch).retrieveInstance(STUDY, SERIES, '7.8'),
      'RUNTIME',
      /part 1 \(5 bytes\) is not a DICOM Part 10 file/,
    );
  }
});

test('HTTP errors: 401 without credentials, 403, 404, 500 (its body, secrets masked); 204 is no match', async () => {
  const bearer = { auth: { kind: 'bearer', token: 'tok3n' } } as const;
  for (const [, fetch] of FETCHES) {
    await rejects(
      clientAt('e401', fetch).searchStudies(),
      'BAD_INPUT',
      /HTTP 401: the server wants credentials/,
    );
    await rejects(
      clientAt('e401', fetch, bearer).searchStudies(),
      'BAD_INPUT',
      /refused the bearer credentials/,
    );
    await rejects(
      clientAt('e403', fetch, bearer).store([dicmFile()]),
      'BAD_INPUT',
      /POST .*\/e403\/studies: HTTP 403/,
    );
    await rejects(
      clientAt('nothing', fetch).retrieveSeries(STUDY, SERIES),
      'NOT_FOUND',
      /HTTP 404: not found/,
    );
    const basic = { auth: { kind: 'basic', user: 'alice', password: 'topsecret' } } as const;
    await rejects(
      clientAt('e500', fetch, basic).searchStudies(),
      'RUNTIME',
      /HTTP 500 Internal Server Error: trouble with password \*\*\*/,
    );
    assert.deepEqual(await clientAt('empty', fetch).searchStudies(), []);
  }
});

/** The smallest thing the client takes for Part 10: a preamble and "DICM". */
function dicmFile(): Uint8Array {
  const b = new Uint8Array(132);
  b.set([0x44, 0x49, 0x43, 0x4d], 128);
  return b;
}
