/**
 * DICOMweb against a real Orthanc (issue 12 item 5): STOW-RS the example CT, QIDO-RS finds it, WADO-RS
 * brings it back to the same volume; a SEG of it goes the same way and decodes to the same label voxels.
 * Refusals come back as one clear error.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { readDicomSeries } from '../../../../src/io/dicom/read.js';
import { readDicomSeg } from '../../../../src/io/dicom/seg-read.js';
import { writeDicomSeg } from '../../../../src/io/dicom/seg.js';
import { DicomWebClient } from '../../../../src/io/dicom/web/client.js';
import type { DownloadProgress } from '../../../../src/io/dicom/web/http.js';
import { readNifti } from '../../../../src/io/nifti.js';
import { StunetError } from '../../../../src/util/errors.js';
import { fixturePath } from '../../../helpers.js';
import { TOTALSEG_V2_NAMES } from '../derived-helpers.js';
import { exampleCt, type ExampleCt } from './example-ct.js';
import { startOrthanc, type Orthanc } from './orthanc.js';

let orthanc: Orthanc;
let ct: ExampleCt;
let client: DicomWebClient;
let ctStored: Promise<unknown> | undefined;
let ctRead: Promise<Awaited<ReturnType<typeof readDicomSeries>>> | undefined;

/** The example CT in Orthanc (stored once, by whichever test needs it first). */
const storeCt = (): Promise<unknown> => (ctStored ??= client.store(ct.files.map((f) => f.bytes)));

before(async () => {
  [orthanc, ct] = await Promise.all([startOrthanc(), exampleCt()]);
  client = new DicomWebClient({ url: orthanc.url, timeoutMs: 20_000 });
});

after(async () => {
  await orthanc.stop();
});

/** Asserts `p` rejects with a StunetError of `code` whose message matches every pattern. */
async function rejects(p: Promise<unknown>, code: string, ...patterns: RegExp[]): Promise<string> {
  const e = await p.then(
    () => assert.fail('expected an error'),
    (x: unknown) => x,
  );
  assert.ok(e instanceof StunetError, `not a StunetError: ${String(e)}`);
  assert.equal(e.code, code, e.message);
  assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
  for (const re of patterns) assert.match(e.message, re);
  return e.message;
}

test('STOW-RS the example CT, QIDO-RS finds it, WADO-RS gives back the same volume', async () => {
  const result = (await storeCt()) as Awaited<ReturnType<DicomWebClient['store']>>;
  assert.deepEqual([...result.stored].sort(), [...ct.sops].sort());
  assert.deepEqual(result.failed, []);

  const studies = await client.searchStudies({ studyInstanceUid: ct.study });
  const [study] = studies;
  assert.ok(study !== undefined && studies.length === 1);
  assert.equal(study.studyInstanceUid, ct.study);
  assert.deepEqual(study.modalitiesInStudy, ['CT']);
  const [series, ...more] = await client.searchSeries({ study: ct.study, modality: 'CT' });
  assert.ok(series !== undefined && more.length === 0);
  assert.equal(series.seriesInstanceUid, ct.series);
  assert.equal(series.modality, 'CT');
  assert.equal(series.numberOfSeriesRelatedInstances, 20);
  assert.deepEqual(await client.searchSeries({ study: ct.study, modality: 'MR' }), []);
  const instances = await client.searchInstances(ct.study, ct.series);
  assert.deepEqual(instances.map((i) => i.sopInstanceUid).sort(), [...ct.sops].sort());
  assert.ok(instances.every((i) => i.sopClassUid === '1.2.840.10008.5.1.4.1.1.2'));

  const progress: DownloadProgress[] = [];
  const files = await client.retrieveSeries(ct.study, ct.series, { onProgress: (p) => progress.push(p) });
  assert.equal(files.length, 20);
  // as stored: JPEG 2000 lossless, byte for byte the files sent
  const sent = new Map(ct.files.map((f) => [`${ct.sops[ct.files.indexOf(f)] ?? ''}.dcm`, f.bytes]));
  for (const f of files) assert.deepEqual(f.bytes, sent.get(f.name), f.name);
  const received = progress.map((p) => p.receivedBytes);
  assert.ok(received.length > 0 && received.every((r, i) => i === 0 || r > (received[i - 1] ?? 0)));
  const last = progress.at(-1);
  assert.ok((last?.receivedBytes ?? 0) > files.reduce((a, f) => a + f.bytes.length, 0)); // + multipart heads
  if (last?.totalBytes !== undefined) assert.equal(last.receivedBytes, last.totalBytes);

  const back = await (ctRead = readDicomSeries(files));
  assert.deepEqual(back.image.dims, ct.image.image.dims);
  assert.deepEqual(back.image.affine, ct.image.image.affine);
  assert.deepEqual(back.image.data, ct.image.image.data);
  assert.deepEqual(back.source.madeUp, []); // the UIDs are now in the files
  assert.equal(back.source.seriesInstanceUid, ct.series);
});

test('done-when: a SEG of the CT: STOW-RS, QIDO-RS finds it (SEG), WADO-RS, readDicomSeg gives the same label voxels', async () => {
  await storeCt();
  const seg = readNifti(new Uint8Array(readFileSync(fixturePath('dicom', 'example_seg_dicom.nii.gz'))));
  const bytes = writeDicomSeg({
    labels: seg,
    names: TOTALSEG_V2_NAMES,
    source: ct.image.source,
    algorithm: { name: 'STU-Net', version: '0.1.0' },
  });
  const result = await client.store([bytes], ct.study);
  assert.equal(result.stored.length, 1);
  const [segSeries, ...others] = await client.searchSeries({ study: ct.study, modality: 'SEG' });
  assert.ok(segSeries !== undefined && others.length === 0);
  assert.equal(segSeries.numberOfSeriesRelatedInstances, 1);
  const [instance] = await client.searchInstances(ct.study, segSeries.seriesInstanceUid);
  assert.equal(instance?.sopInstanceUid, result.stored[0]);
  assert.equal(instance?.sopClassUid, '1.2.840.10008.5.1.4.1.1.66.4');
  const file = await client.retrieveInstance(ct.study, segSeries.seriesInstanceUid, instance.sopInstanceUid);
  assert.deepEqual(file.bytes, bytes);
  // decoded against the CT as the server gives it back
  const ctBack = await (ctRead ??= client
    .retrieveSeries(ct.study, ct.series)
    .then((f) => readDicomSeries(f)));
  const back = readDicomSeg(file.bytes, ctBack.source, TOTALSEG_V2_NAMES);
  assert.equal(back.labels.length, seg.data.length);
  let diff = 0;
  let foreground = 0;
  for (let i = 0; i < back.labels.length; i++) {
    if (back.labels[i] !== seg.data[i]) diff++;
    if ((seg.data[i] ?? 0) > 0) foreground++;
  }
  assert.equal(diff, 0, `${diff} voxels differ`);
  assert.ok(foreground > 1000, `${foreground} foreground voxels`);
  const present = new Set(Array.from(seg.data).filter((v) => v > 0));
  assert.equal(back.segments.length, present.size);
});

test('STOW-RS refusals: not DICOM (nothing sent), DICM then garbage, an instance without UIDs: one clear error each', async () => {
  const url = `${orthanc.url}/studies`;
  await rejects(
    client.store([new TextEncoder().encode('hello, not DICOM')]),
    'BAD_INPUT',
    /instance 1 of 1 is not a DICOM Part 10 file/,
    /nothing was sent/,
  );
  await rejects(client.store([]), 'BAD_INPUT', /no instances/);
  const garbage = new Uint8Array(400).fill(0x41);
  garbage.set([0x44, 0x49, 0x43, 0x4d], 128);
  const m1 = await rejects(client.store([garbage]), 'BAD_INPUT', /HTTP 400/, /stored 0 of 1/);
  assert.ok(m1.includes(url), m1);
  // the anonymised fixture has no UIDs: Orthanc answers 200 and stores nothing
  const first = ct.original[0];
  assert.ok(first !== undefined);
  await rejects(client.store([first.bytes]), 'BAD_INPUT', /stored 0 of 1/, /not confirmed by the server/);
  // Orthanc stops at the first instance it cannot store: what it did not confirm is reported as failed
  const [good, bad] = [ct.files[0], ct.original[1]];
  assert.ok(good !== undefined && bad !== undefined);
  const partial = await client.store([good.bytes, bad.bytes], undefined, { allowFailures: true });
  assert.deepEqual(partial.stored, [ct.sops[0]]);
  assert.deepEqual(partial.failed, [{ sopInstanceUid: ct.sops[1], why: 'not confirmed by the server' }]);
});

test('WADO-RS and QIDO-RS refusals: unknown series (404), maxBytes, a service root that is not DICOMweb', async () => {
  await storeCt();
  await rejects(
    client.retrieveSeries('1.2.3', '4.5.6'),
    'NOT_FOUND',
    /HTTP 404/,
    /\/studies\/1\.2\.3\/series\/4\.5\.6/,
  );
  await rejects(
    client.retrieveSeries(ct.study, ct.series, { maxBytes: 100_000 }),
    'BAD_INPUT',
    /larger than maxBytes/,
  );
  await rejects(client.retrieveSeries('1.2.3', '../system'), 'BAD_INPUT', /not a DICOM UID/);
  const rest = new DicomWebClient({ url: orthanc.origin }); // Orthanc's REST API, not its DICOMweb root
  await rejects(
    rest.searchStudies(),
    'RUNTIME',
    /not a DICOM JSON array/,
    new RegExp(`GET ${orthanc.origin}/studies`),
  );
});
