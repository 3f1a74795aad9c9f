/**
 * Authentication and HTTPS against a real Orthanc with Basic auth users: credentials in the address, wrong
 * and missing passwords; HTTPS with a self-signed certificate made here, through a Node TLS front (Orthanc's
 * own TLS crashes on Debian bookworm, see orthanc.ts), trusted with the CA file through the Node adapter or
 * `insecure`. Orthanc cannot check bearer tokens without a plugin, so a bearer-checking proxy on loopback
 * stands in front of it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DicomWebClient } from '../../../../src/io/dicom/web/client.js';
import { newUid, str, writeDicom } from '../../../../src/io/dicom/write.js';
import { nodeDicomWebClient, nodeDicomWebFetch } from '../../../../src/node/dicomweb.js';
import { StunetError } from '../../../../src/util/errors.js';
import { forward, localServer, type LocalServer } from './local-server.js';
import { selfSignedCert, startOrthanc, type Orthanc } from './orthanc.js';

const USER = 'alice';
const PASSWORD = 'pa55-w0rd-secret';
const TOKEN = 'tok3n.valid-0123';
let orthanc: Orthanc;
let certDir: string;
let caFile: string;
/** HTTPS in front of Orthanc (credentials passed through). */
let front: LocalServer;
/** Checks a bearer token, then forwards with Orthanc's Basic credentials. */
let proxy: LocalServer;

/** A small instance (8×8, 16 bits) of a new study and series. */
function tinyInstance(): { bytes: Uint8Array; study: string; series: string; sop: string } {
  const [study, series, sop] = [newUid(), newUid(), newUid()];
  const bytes = writeDicom([
    str(0x00080016, 'UI', '1.2.840.10008.5.1.4.1.1.7'), // Secondary Capture
    str(0x00080018, 'UI', sop),
    str(0x00080060, 'CS', 'OT'),
    str(0x00100020, 'LO', 'AUTH-TEST'),
    str(0x0020000d, 'UI', study),
    str(0x0020000e, 'UI', series),
    { tag: 0x00280002, vr: 'US', value: [1] },
    str(0x00280004, 'CS', 'MONOCHROME2'),
    { tag: 0x00280010, vr: 'US', value: [8] },
    { tag: 0x00280011, vr: 'US', value: [8] },
    { tag: 0x00280100, vr: 'US', value: [16] },
    { tag: 0x00280101, vr: 'US', value: [16] },
    { tag: 0x00280102, vr: 'US', value: [15] },
    { tag: 0x00280103, vr: 'US', value: [0] },
    { tag: 0x7fe00010, vr: 'OW', value: new Uint8Array(128).map((_, i) => i) },
  ]);
  return { bytes, study, series, sop };
}

before(async () => {
  orthanc = await startOrthanc({ users: { [USER]: PASSWORD } });
  certDir = mkdtempSync(join(tmpdir(), 'stunet-tls-'));
  const tls = selfSignedCert(certDir);
  caFile = tls.certFile;
  front = await localServer((req, res) => {
    forward(req, res, orthanc.origin);
  }, tls);
  const basic = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
  proxy = await localServer((req, res) => {
    if (req.headers.authorization === `Bearer ${TOKEN}`) forward(req, res, orthanc.origin, basic);
    else res.writeHead(401, { 'www-authenticate': 'Bearer realm="test"' }).end();
  });
});

after(async () => {
  await Promise.all([proxy.close(), front.close(), orthanc.stop()]);
  rmSync(certDir, { recursive: true, force: true });
});

async function rejects(p: Promise<unknown>, code: string, ...patterns: RegExp[]): Promise<string> {
  const e = await p.then(
    () => assert.fail('expected an error'),
    (x: unknown) => x,
  );
  assert.ok(e instanceof StunetError, `not a StunetError: ${String(e)}`);
  assert.equal(e.code, code, e.message);
  assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
  for (const secret of [PASSWORD, TOKEN, 'wrong-pw', 'tok3n.wrong'])
    assert.ok(!e.message.includes(secret), `a secret in: ${e.message}`);
  for (const re of patterns) assert.match(e.message, re);
  return e.message;
}

test('HTTPS with the CA file and user:password@ in the address: STOW-RS, QIDO-RS, WADO-RS (Basic auth checked by Orthanc)', async () => {
  const address = `${front.origin.replace('https://', `https://${USER}:${PASSWORD}@`)}/dicom-web`;
  const client = nodeDicomWebClient({ url: address, caFile });
  assert.ok(!client.url.includes(PASSWORD));
  const one = tinyInstance();
  assert.deepEqual((await client.store([one.bytes], one.study)).stored, [one.sop]);
  const [series] = await client.searchSeries({ study: one.study });
  assert.equal(series?.seriesInstanceUid, one.series);
  assert.equal(series.modality, 'OT');
  const [file] = await client.retrieveSeries(one.study, one.series);
  assert.deepEqual(file?.bytes, one.bytes);
  assert.equal(file.name, `${one.sop}.dcm`);
  // and with `auth` given apart, and `insecure` instead of the CA
  const insecure = nodeDicomWebClient({
    url: `${front.origin}/dicom-web`,
    auth: { kind: 'basic', user: USER, password: PASSWORD },
    insecure: true,
  });
  assert.equal((await insecure.searchStudies({ studyInstanceUid: one.study }))[0]?.patientId, 'AUTH-TEST');
});

test('a certificate nobody vouched for is refused, with what to do', async () => {
  for (const fetch of [globalThis.fetch, nodeDicomWebFetch()]) {
    const client = new DicomWebClient({
      url: `${front.origin}/dicom-web`,
      auth: { kind: 'basic', user: USER, password: PASSWORD },
      fetch,
    });
    await rejects(
      client.searchStudies(),
      'RUNTIME',
      /TLS certificate is not trusted/,
      /--ca-file/,
      new RegExp(`GET ${front.origin}/dicom-web/studies`),
    );
  }
  assert.throws(() => nodeDicomWebFetch({ caFile: `${caFile}.missing` }), {
    code: 'NOT_FOUND',
    message: /CA file .* does not exist/,
  });
  // HTTPS to Orthanc's plain HTTP port, and plain HTTP to the HTTPS port
  for (const fetch of [globalThis.fetch, nodeDicomWebFetch()]) {
    const tlsToPlain = new DicomWebClient({ url: orthanc.url.replace('http:', 'https:'), fetch });
    await rejects(
      tlsToPlain.searchStudies(),
      'RUNTIME',
      /TLS failed \(\w+\): is https:\/\/127\.0\.0\.1:\d+ an HTTPS server\?/,
    );
  }
  const plain = new DicomWebClient({
    url: `${front.origin.replace('https:', 'http:')}/dicom-web`,
    fetch: nodeDicomWebFetch(),
    timeoutMs: 5000,
  });
  await rejects(
    plain.searchStudies(),
    'RUNTIME',
    new RegExp(
      `GET http://127\\.0\\.0\\.1:${front.port}/dicom-web/studies: the server closed the connection \\(if it serves HTTPS, use an https:// URL\\)`,
    ),
  );
});

test('wrong password, no password: HTTP 401, auth refused, the password never in the message', async () => {
  const wrong = new DicomWebClient({ url: orthanc.url.replace('http://', `http://${USER}:wrong-pw@`) });
  await rejects(
    wrong.searchStudies(),
    'BAD_INPUT',
    /HTTP 401: the server refused the basic credentials \(auth refused\)/,
  );
  await rejects(wrong.store([tinyInstance().bytes]), 'BAD_INPUT', /POST .*\/studies: HTTP 401/);
  const none = nodeDicomWebClient({ url: `${front.origin}/dicom-web`, caFile }); // over HTTPS too
  await rejects(none.retrieveSeries('1.2', '3.4'), 'BAD_INPUT', /HTTP 401: the server wants credentials/);
});

test('a bearer token: accepted through the checking proxy (STOW-RS and WADO-RS), a wrong one refused', async () => {
  const client = new DicomWebClient({
    url: `${proxy.origin}/dicom-web`,
    auth: { kind: 'bearer', token: TOKEN },
  });
  const one = tinyInstance();
  assert.deepEqual((await client.store([one.bytes])).stored, [one.sop]);
  assert.deepEqual((await client.retrieveInstance(one.study, one.series, one.sop)).bytes, one.bytes);
  const wrong = new DicomWebClient({
    url: `${proxy.origin}/dicom-web`,
    auth: { kind: 'bearer', token: 'tok3n.wrong' },
  });
  await rejects(wrong.searchStudies(), 'BAD_INPUT', /HTTP 401: the server refused the bearer credentials/);
});
