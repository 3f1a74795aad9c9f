/**
 * Issue 12, item 5, done-when: `stunet predict --dicomweb … --study … --output-type nifti,dicom-seg --store`
 * against a real Orthanc: the example CT goes in by STOW, predict finds it by QIDO and pulls it by WADO,
 * and the SEG it stores back is found by QIDO, comes back by WADO and decodes to the label voxels of the
 * NIfTI written beside it. Credentials come from the environment; a refused login and bad combinations are
 * one clear error, with nothing written.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { after, before, test } from 'node:test';
import { DicomWebClient } from '../../src/io/dicom/web/client.js';
import { readDicomSeg } from '../../src/io/dicom/seg-read.js';
import { readNifti } from '../../src/io/nifti.js';
import { fixturePath } from '../helpers.js';
import { exampleCt, type ExampleCt } from '../io/dicom/web/example-ct.js';
import { startOrthanc, type Orthanc } from '../io/dicom/web/orthanc.js';
import { ROOT } from '../architecture/graph.js';
import { tempDir } from './cli-helpers.js';

const MODEL = fixturePath('stunet-forward', 'T1.model');
const USER = 'radiology';
const PASSWORD = 'pa55:word';

let orthanc: Orthanc;
let ct: ExampleCt;

before(async () => {
  orthanc = await startOrthanc({ users: { [USER]: PASSWORD } });
  ct = await exampleCt();
  const client = new DicomWebClient({
    url: orthanc.url,
    auth: { kind: 'basic', user: USER, password: PASSWORD },
  });
  await client.store(ct.files.map((f) => f.bytes));
});

after(async () => {
  await orthanc.stop();
});

/** The CLI with `env` added (credentials), as a user runs it. */
function cli(args: readonly string[], env: Record<string, string> = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'index.ts'), ...args], {
    encoding: 'utf8',
    cwd: ROOT,
    env: { ...process.env, ...env },
  });
}

const login = { STUNET_DICOMWEB_USER: USER, STUNET_DICOMWEB_PASSWORD: PASSWORD };

test('predict --dicomweb --store: the SEG goes back by STOW, QIDO finds it, WADO returns it, it decodes to the labels', async () => {
  const out = join(tempDir(), 'out');
  const args = ['predict', '--dicomweb', orthanc.url, '--study', ct.study, '-o', out, '-m', MODEL, '--fast'];
  const r = cli([...args, '--output-type', 'nifti,dicom-seg', '--store'], login);
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}\n${orthanc.log().slice(-2000)}`);
  assert.match(
    r.stdout,
    new RegExp(`series ${ct.series.replace(/\./g, '\\.')} \\(CT 'CT Body 3\\.0' 20 instances\\)`),
  );
  assert.match(r.stdout, /dicomweb: stored 1 object\(s\) in study /);
  assert.deepEqual(readdirSync(out).sort(), [
    `${ct.series}.json`,
    `${ct.series}.nii.gz`,
    `${ct.series}_seg.dcm`,
  ]);
  const labels = readNifti(readFileSync(join(out, `${ct.series}.nii.gz`))).data;

  const client = new DicomWebClient({
    url: orthanc.url,
    auth: { kind: 'basic', user: USER, password: PASSWORD },
  });
  const segs = (await client.searchSeries({ study: ct.study })).filter((s) => s.modality === 'SEG');
  assert.equal(segs.length, 1, 'QIDO finds one SEG series in the study');
  const seg = segs[0];
  assert.ok(seg !== undefined);
  const [file, ...more] = await client.retrieveSeries(ct.study, seg.seriesInstanceUid);
  assert.ok(file !== undefined && more.length === 0);
  assert.deepEqual(file.bytes, new Uint8Array(readFileSync(join(out, `${ct.series}_seg.dcm`))));
  const { labels: names } = JSON.parse(readFileSync(join(out, `${ct.series}.json`), 'utf8')) as {
    labels: Record<string, string>;
  };
  const decoded = readDicomSeg(file.bytes, ct.image.source, Object.values(names));
  assert.deepEqual(Float32Array.from(decoded.labels), labels);
  assert.ok(
    labels.some((v) => v > 0),
    'the model labels something',
  );
});

test('predict --dicomweb: refused login, unknown study, bad combinations: one clear error, nothing written', () => {
  const dir = tempDir();
  const out = (k: string): string => join(dir, k);
  const base = (k: string): string[] => ['predict', '-o', out(k), '-m', MODEL, '--fast'];
  const cases: [string[], Record<string, string>, RegExp][] = [
    [
      [...base('a'), '--dicomweb', orthanc.url, '--study', ct.study],
      { ...login, STUNET_DICOMWEB_PASSWORD: 'nope' },
      /HTTP 401.*(refused|credentials)/i,
    ],
    [[...base('b'), '--dicomweb', orthanc.url, '--study', '1.2.3.999'], login, /no study 1\.2\.3\.999/],
    [
      [...base('c'), '--dicomweb', orthanc.url, '--study', ct.study, '--series', '1.2.3'],
      login,
      /has no series 1\.2\.3; it has .*CT/,
    ],
    [
      [...base('d'), '--dicomweb', orthanc.url, '--study', ct.study, '--store'],
      login,
      /--store sends DICOM-SEG or RTSTRUCT back: add --output-type dicom-seg/,
    ],
    [[...base('e'), '--dicomweb', orthanc.url], login, /--dicomweb needs --study/],
    [
      [...base('f'), '-i', fixturePath('dicom', 'example_ct_dicom'), '--study', ct.study],
      login,
      /--study applies to --dicomweb/,
    ],
    [
      [...base('g'), '--dicomweb', 'ftp://x/dicom-web', '--study', ct.study],
      login,
      /ftp:\/\/ is not supported/,
    ],
  ];
  for (const [args, env, message] of cases) {
    const r = cli(args, env);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stdout}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(!r.stderr.includes('nope') && !r.stderr.includes(PASSWORD), 'no password in the message');
  }
  assert.deepEqual(readdirSync(dir), [], 'no output folder was made');
});
