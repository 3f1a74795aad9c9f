/**
 * Issue 11: the browser app in headless Debian chromium, served cross-origin isolated by `stunet web`'s
 * server. Given the example CT crop and the official T1 v1 checkpoint through its file inputs, it runs on
 * ONNX Runtime Web (WASM) to the end; the label NIfTI it offers for download equals `stunet predict`'s on
 * the same inputs voxel for voxel (a voxel may differ only where the CLI's top two probabilities tie
 * within 1e-5, as in the parity tests), and so do the names and statistics JSON. The finished view shows
 * the overlay in the label colours and the class list with names. Bad inputs show one message and offer
 * no download.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { zipSync } from 'fflate';
import { createHash } from 'node:crypto';
import { serializeModel } from '../../src/checkpoint/model-folder.js';
import { loadModelFromStore } from '../../src/jobs/model-files.js';
import { MemoryStore } from '../../src/jobs/store.js';
import { cropNifti } from '../../src/io/nifti-crop.js';
import { readNifti, writeNifti, type NiftiImage } from '../../src/io/nifti.js';
import { decodePng } from '../../src/io/png.js';
import { defaultMeta } from '../../src/model/loaded-model.js';
import { initWeightsHe } from '../../src/model/init.js';
import { StuNet } from '../../src/model/stunet.js';
import { labelColour } from '../../web/src/colours.js';
import { runCli, tempDir } from '../cli/cli-helpers.js';
import { fixturePath, tinyArchitecture } from '../helpers.js';
import { download, openApp, runApp, type AppSession } from './browser.js';
import { excusedTies } from './ties.js';

const MODEL = [fixturePath('stunet-forward', 'T1.model'), fixturePath('stunet-forward', 'T1.model.pkl')];
const dir = tempDir();
const ctPath = join(dir, 'ct.nii.gz');
let app: AppSession;
/** The label map the app offered in the first test. */
let webLabels: Float32Array | null = null;

before(async () => {
  const ct = readNifti(readFileSync(fixturePath('nifti', 'example_ct_sm.nii.gz')));
  writeFileSync(ctPath, writeNifti(cropNifti(ct, [40, 30, 6], [48, 40, 16])));
  app = await openApp();
});

after(async () => {
  await app.close();
});

/** `stunet predict` on the same inputs, with the probabilities that decide ties. */
function cliPredict(): { labels: NiftiImage; names: string; statistics: string; probabilities: string } {
  const out = join(dir, 'cli');
  const r = runCli([
    'predict', '-i', ctPath, '-o', join(out, 'ct_seg.nii.gz'), '-m', MODEL[0] as string,
    '--no-tta', '--statistics', '--save-probabilities',
  ]); // prettier-ignore
  assert.equal(r.status, 0, r.stderr);
  return {
    labels: readNifti(readFileSync(join(out, 'ct_seg.nii.gz'))),
    names: readFileSync(join(out, 'ct_seg.json'), 'utf8'),
    statistics: readFileSync(join(out, 'ct_seg_statistics.json'), 'utf8'),
    probabilities: join(out, 'ct_seg_probabilities.npz'),
  };
}

test('the app segments the CT crop on WASM exactly as `stunet predict` does', async () => {
  const { page } = app;
  assert.equal(
    await page.evaluate(() => (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated),
    true,
    'served cross-origin isolated',
  );
  assert.equal(
    await runApp(page, { image: ctPath, model: MODEL }),
    'done',
    (await page.textContent('#error')) ?? '',
  );
  assert.match(
    (await page.textContent('#runtime')) ?? '',
    /ONNX Runtime Web on WASM \(2 threads|ONNX Runtime Web on WASM/,
  );
  assert.match((await page.textContent('#memory')) ?? '', /of wasm32's 4\.00 GiB/);
  const web = readNifti(await download(page, '_seg.nii.gz'));
  webLabels = web.data;
  const cli = cliPredict();
  assert.deepEqual(web.dims, cli.labels.dims);
  assert.deepEqual(web.affine, cli.labels.affine);
  assert.equal(web.datatype, cli.labels.datatype);
  const differ: number[] = [];
  web.data.forEach((v, i) => {
    if (v !== cli.labels.data[i]) differ.push(i);
  });
  assert.deepEqual(excusedTies(differ, web, cli.labels, cli.probabilities, 1e-5), differ, 'only ties differ');
  assert.ok(differ.length <= 5, `${differ.length} voxels differ`);
  assert.equal(new TextDecoder().decode(await download(page, '_seg.json')), cli.names);
  assert.equal(new TextDecoder().decode(await download(page, '_seg_statistics.json')), cli.statistics);
});

/** The pixels (indices) of a screenshot in the colour of `label` (±2 per channel). */
function pixelsOf(shot: { rgba: Uint8Array }, label: number): number[] {
  const [r, g, b] = labelColour(label);
  const out: number[] = [];
  const near = (p: number, v: number): boolean => Math.abs((shot.rgba[p] as number) - v) <= 2;
  for (let p = 0; p < shot.rgba.length; p += 4)
    if (near(p, r) && near(p + 1, g) && near(p + 2, b)) out.push(p / 4);
  return out;
}

test('the finished view: overlay pixels in the label colours, the class list with names and volumes, the name under the cursor', async () => {
  const { page } = app;
  assert.equal(await page.getAttribute('body', 'data-state'), 'done', 'after the run above');
  const names = (
    JSON.parse(readFileSync(join(dir, 'cli', 'ct_seg.json'), 'utf8')) as { labels: Record<string, string> }
  ).labels;
  const labels = readNifti(readFileSync(join(dir, 'cli', 'ct_seg.nii.gz')));
  const present = [...new Set(labels.data)].filter((l) => l > 0).sort((a, b) => a - b);
  const rows: { label: number; name: string; ml: number }[] = [];
  for (const tr of await page.locator('#classes tbody tr').all())
    rows.push({
      label: Number(await tr.getAttribute('data-label')),
      name: (await tr.locator('.class-name').textContent()) ?? '',
      ml: Number(await tr.locator('td:nth-child(3)').textContent()),
    });
  assert.deepEqual(
    rows.map((r) => r.label),
    present,
  );
  for (const r of rows) {
    assert.equal(r.name, names[String(r.label)]);
    assert.ok(r.ml > 0, `${r.name}: ${r.ml} mL`);
  }
  // opaque overlay, axial view: label pixels take the class colour exactly
  await page.fill('#opacity', '1');
  await page.dispatchEvent('#opacity', 'input');
  await page.click('#view-controls button[data-view="axial"]');
  await page.waitForTimeout(500);
  const shot = decodePng(new Uint8Array(await page.locator('#viewer').screenshot()));
  const counts = present.map((l) => pixelsOf(shot, l).length);
  assert.ok(counts.filter((n) => n >= 100).length >= 2, `pixels per class colour: ${counts.join(', ')}`);
  // the name under the cursor: a click inside a class's colour moves the cursor there
  const biggest = present[counts.indexOf(Math.max(...counts))] as number;
  const inside = new Set(pixelsOf(shot, biggest));
  const w = shot.width;
  const at = [...inside].find((p) => [-3, 3, -3 * w, 3 * w].every((d) => inside.has(p + d))) ?? -1;
  const box = await page.locator('#viewer').boundingBox();
  assert.ok(box !== null && at >= 0);
  await page.mouse.click(box.x + (at % w) + 0.5, box.y + Math.floor(at / w) + 0.5);
  await page.waitForSelector(`#hover:text-is("${names[String(biggest)] ?? ''}")`, { timeout: 5000 });
  // hiding a class removes its colour from the view
  await page.click(`#classes tr[data-label="${biggest}"] input`);
  await page.waitForTimeout(500);
  const hidden = decodePng(new Uint8Array(await page.locator('#viewer').screenshot()));
  const left = pixelsOf(hidden, biggest).length;
  assert.ok(left < 10, `${left} pixels of the hidden class remain`);
});

/** An STU-Net that takes two input channels, as our model folder zipped. */
function twoChannelModelZip(): string {
  const arch = tinyArchitecture(3, [4, 8], 2);
  const files = serializeModel({ arch, weights: initWeightsHe(new StuNet(arch), 1), meta: defaultMeta() });
  const weights = Buffer.concat(files.weights);
  const path = join(dir, 'two-channels.zip');
  writeFileSync(
    path,
    zipSync({
      'two-channels/model.json': new TextEncoder().encode(files.modelJson),
      'two-channels/weights.safetensors': weights,
    }),
  );
  return path;
}

test('bad inputs: random bytes as the image, a model with two input channels → one message, no download', async () => {
  const { page } = app;
  mkdirSync(join(dir, 'bad'), { recursive: true });
  const random = join(dir, 'bad', 'random.nii.gz');
  writeFileSync(
    random,
    Uint8Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24),
  );
  const cases = [
    { image: random, model: MODEL, message: /random\.nii\.gz/ },
    { image: ctPath, model: [twoChannelModelZip()], message: /takes 2 input channels/ },
  ];
  for (const c of cases) {
    assert.equal(await runApp(page, { image: c.image, model: c.model }), 'error');
    const message = (await page.textContent('#error')) ?? '';
    assert.match(message, c.message);
    assert.equal(message.split('\n').length, 1, message);
    assert.equal(await page.isVisible('#error'), true);
    assert.equal(await page.locator('#downloads a').count(), 0, 'no download offered');
    assert.equal(await page.isVisible('#results'), false);
  }
});

/** sha256 of T1 converted to our model folder's weights.safetensors (what the cache lists). */
function t1WeightsSha256(): string {
  const store = new MemoryStore(
    MODEL.map((p) => [`m/${p.split('/').pop() ?? ''}`, readFileSync(p)] as const),
  );
  const files = serializeModel(loadModelFromStore(store, 'm/T1.model'));
  return createHash('sha256').update(Buffer.concat(files.weights)).digest('hex');
}

test('a kept model is listed with its sha256 and runs without its files; cancel stops a run at once', async () => {
  const { page } = app;
  await page.reload();
  await page.setChecked('#keep', true);
  assert.equal(await runApp(page, { image: ctPath, model: MODEL }), 'done');
  const sha256 = t1WeightsSha256();
  await page.waitForSelector(`#cached-list li:has-text("${sha256}")`);
  await page.reload(); // no model file given now: the kept one
  await page.selectOption('#cached', sha256.slice(0, 16));
  assert.equal(
    await runApp(page, { image: ctPath, model: [] }),
    'done',
    (await page.textContent('#error')) ?? '',
  );
  const again = readNifti(await download(page, '_seg.nii.gz'));
  assert.ok(webLabels !== null && again.data.every((v, i) => v === webLabels?.[i]), 'the same labels');
  await page.click('#remove-cached');
  await page.waitForSelector('#cached-list li', { state: 'detached' });

  await page.setChecked('#tta', true); // 8 passes a tile: long enough to cancel
  await page.setInputFiles('#model', MODEL);
  await page.click('#run');
  await page.waitForSelector('#eta:has-text("tiles")');
  await page.click('#cancel');
  assert.equal(await page.getAttribute('body', 'data-state'), 'cancelled');
  assert.equal(await page.textContent('#status'), 'cancelled');
  await page.waitForTimeout(1500); // a worker still running would post its result now
  assert.equal(await page.getAttribute('body', 'data-state'), 'cancelled');
  assert.equal(await page.locator('#downloads a').count(), 0);
});

test('a v2 checkpoint with its plans.json and an .onnx from export-onnx: labels as `stunet predict` gives', async () => {
  const { page } = app;
  const conv = join(dir, 'conv');
  mkdirSync(conv, { recursive: true });
  const v2 = join(conv, 'checkpoint_final.pth');
  const onnx = join(conv, 't1.onnx');
  for (const args of [
    ['convert', MODEL[0] as string, '--to', 'torch-v2', '-o', v2],
    ['export-onnx', '-m', MODEL[0] as string, '-o', onnx],
  ]) {
    const r = runCli(args);
    assert.equal(r.status, 0, r.stderr);
  }
  const models = [
    { given: [v2, join(conv, 'plans.json'), join(conv, 'dataset.json')], cli: v2 },
    { given: [onnx], cli: onnx },
  ];
  for (const m of models) {
    await page.reload();
    assert.equal(
      await runApp(page, { image: ctPath, model: m.given }),
      'done',
      (await page.textContent('#error')) ?? '',
    );
    const web = readNifti(await download(page, '_seg.nii.gz'));
    const out = join(conv, `${m.cli.split('/').pop() ?? ''}_seg.nii.gz`);
    const r = runCli(['predict', '-i', ctPath, '-o', out, '-m', m.cli, '--no-tta', '--save-probabilities']);
    assert.equal(r.status, 0, r.stderr);
    const cli = readNifti(readFileSync(out));
    const differ = [...web.data.keys()].filter((i) => web.data[i] !== cli.data[i]);
    const npz = out.replace(/\.nii\.gz$/, '_probabilities.npz');
    assert.deepEqual(excusedTies(differ, web, cli, npz, 1e-5), differ, `${m.cli}: only ties differ`);
  }
});

test('a DICOM folder: the labels of `stunet predict` on the same folder, and a DICOM-SEG to download', async () => {
  const { page } = app;
  const series = fixturePath('dicom', 'syntaxes', 'implicit');
  await page.reload();
  const state = await runApp(page, { image: series, folder: true, model: MODEL });
  assert.equal(state, 'done', (await page.textContent('#error')) ?? '');
  const web = readNifti(await download(page, 'implicit_seg.nii.gz'));
  assert.ok((await download(page, '_seg.dcm')).length > 1000, 'a DICOM-SEG');
  const out = join(dir, 'dicom', 'implicit_seg.nii.gz');
  const r = runCli([
    'predict',
    '-i',
    series,
    '-o',
    out,
    '-m',
    MODEL[0] as string,
    '--no-tta',
    '--save-probabilities',
  ]);
  assert.equal(r.status, 0, r.stderr);
  const cli = readNifti(readFileSync(out));
  assert.deepEqual(web.dims, cli.dims);
  const differ = [...web.data.keys()].filter((i) => web.data[i] !== cli.data[i]);
  const npz = out.replace(/\.nii\.gz$/, '_probabilities.npz');
  assert.deepEqual(excusedTies(differ, web, cli, npz, 1e-5), differ, 'only ties differ');
});
