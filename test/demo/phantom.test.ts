import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generatePhantom, phantomDatasetJson, phantomNifti, PHANTOM_LABELS } from '../../src/demo/phantom.js';
import { parseDatasetJson, type DatasetProblem } from '../../src/io/dataset.js';
import { readNifti, writeNifti } from '../../src/io/nifti.js';
import { voxelSizesMm } from '../../src/io/geometry.js';

function meanHuPerLabel(image: Int16Array, label: Uint8Array): number[] {
  const sum = new Array<number>(PHANTOM_LABELS.length).fill(0);
  const n = new Array<number>(PHANTOM_LABELS.length).fill(0);
  for (let i = 0; i < label.length; i++) {
    const l = label[i] as number;
    sum[l] = (sum[l] as number) + (image[i] as number);
    n[l] = (n[l] as number) + 1;
  }
  return sum.map((s, l) => s / (n[l] as number));
}

test('phantoms: deterministic in the seed, different across seeds', () => {
  const a = generatePhantom('a', 7);
  const b = generatePhantom('b', 7);
  const c = generatePhantom('c', 8);
  assert.deepEqual(a.image, b.image);
  assert.deepEqual(a.label, b.label);
  assert.ok(c.dims.join() !== a.dims.join() || c.image.some((v, i) => v !== a.image[i]));
});

test('phantoms: every structure present, air outside, distinct attenuation per organ', () => {
  for (const seed of [1, 2, 3, 4]) {
    const p = generatePhantom('p', seed);
    const [ni, nj, nk] = p.dims;
    assert.equal(p.image.length, ni * nj * nk);
    const counts = new Array<number>(PHANTOM_LABELS.length).fill(0);
    for (const l of p.label) counts[l] = (counts[l] as number) + 1;
    for (let l = 1; l < PHANTOM_LABELS.length; l++)
      assert.ok((counts[l] as number) > 500, `seed ${seed}: ${PHANTOM_LABELS[l]} has ${counts[l]} voxels`);
    assert.ok((p.image[0] as number) < -900, 'corner voxel is air');
    const [, liver, spleen, kidney, aorta, spine] = meanHuPerLabel(p.image, p.label);
    // spleen < liver < kidney < aorta < spine, each clearly apart (≥ 15 HU, beyond the partial-volume blur)
    const order = [spleen, liver, kidney, aorta, spine] as number[];
    for (let i = 1; i < order.length; i++)
      assert.ok((order[i] as number) - (order[i - 1] as number) > 15, `seed ${seed}: ${order.join(', ')}`);
    // noise: a label region is not constant
    const liverValues = p.image.filter((_, i) => p.label[i] === 1);
    assert.ok(new Set(liverValues).size > 20);
  }
});

test('phantoms: NIfTI images carry the geometry; dataset.json is a valid nnU-Net v2 one', () => {
  const p = generatePhantom('p', 3);
  const { image, label } = phantomNifti(p);
  const back = readNifti(writeNifti(image));
  assert.deepEqual(back.dims, [...p.dims]);
  assert.deepEqual(back.data.slice(0, 100), Float32Array.from(p.image.slice(0, 100)));
  const sizes = voxelSizesMm(back.affine);
  sizes.forEach((s, i) => {
    assert.ok(Math.abs(s - (p.spacing[i] as number)) < 1e-5);
  });
  assert.deepEqual(readNifti(writeNifti(label)).affine, back.affine);
  const problems: DatasetProblem[] = [];
  const json = parseDatasetJson(JSON.parse(phantomDatasetJson(12, 4)), problems);
  assert.deepEqual(problems, []);
  assert.ok(json !== null);
  assert.equal(json.numTraining, 12);
  assert.deepEqual(json.channelNames, ['CT']);
});
