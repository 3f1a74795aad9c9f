import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  NIFTI_ECODE_COMMENT,
  labelNamesFromExtensions,
  labelSidecarJson,
  niftiLabelExtension,
  parseLabelJson,
  splitPerClass,
} from '../../src/inference/label-output.js';
import { labelNames } from '../../src/io/labels/index.js';
import { readNifti, writeNifti } from '../../src/io/nifti.js';
import { createNifti, defaultNiftiHeader } from '../../src/io/nifti-volume.js';
import { mat4 } from '../../src/io/geometry.js';

const NAMES = labelNames('stunet104');

test('sidecar JSON: {"labels": {"0": "background", "1": "adrenal_gland_left", …}}', () => {
  const parsed = JSON.parse(labelSidecarJson(NAMES)) as { labels: Record<string, string> };
  assert.equal(parsed.labels['0'], 'background');
  assert.equal(parsed.labels['1'], 'adrenal_gland_left');
  assert.equal(Object.keys(parsed.labels).length, 105);
  assert.deepEqual(parseLabelJson(labelSidecarJson(NAMES)), [...NAMES]);
});

test('the NIfTI extension (ecode 6, comment) survives writeNifti → readNifti with the names', () => {
  const ext = niftiLabelExtension(NAMES);
  assert.equal(ext.code, NIFTI_ECODE_COMMENT);
  const image = createNifti({
    raw: new Uint8Array([0, 1, 2, 104, 0, 0, 3, 5]),
    dims: [2, 2, 2],
    affine: mat4([
      [1.5, 0, 0, -10],
      [0, 1.5, 0, 20],
      [0, 0, 3, 5],
    ]),
    header: { ...defaultNiftiHeader(), extensions: [{ code: 4, data: new Uint8Array(8) }, ext] },
  });
  const back = readNifti(writeNifti(image));
  assert.deepEqual([...back.data], [0, 1, 2, 104, 0, 0, 3, 5]);
  assert.equal(back.header.extensions.length, 2);
  assert.equal(back.header.extensions[1]?.code, 6);
  assert.deepEqual(labelNamesFromExtensions(back.header.extensions), [...NAMES]);
  assert.equal(
    labelNamesFromExtensions([{ code: 6, data: new TextEncoder().encode('a comment') }]),
    undefined,
  );
});

test('parseLabelJson refuses what is not a label table', () => {
  assert.throws(() => parseLabelJson('{"labels": {"x": "liver"}}'), /entry "x"/);
  assert.throws(() => parseLabelJson('not json'), /not valid JSON/);
  assert.throws(() => parseLabelJson('{"names": []}'), /expected \{"labels"/);
});

test('splitPerClass yields a 0/1 mask per named class (empty ones too) and per other present label, ascending', () => {
  const labels = new Uint16Array([0, 3, 3, 1, 0, 300, 1, 0]);
  const out = [...splitPerClass(labels, ['background', 'a', 'b', 'c'])];
  assert.deepEqual(
    out.map((m) => [m.label, m.name, [...m.mask]]),
    [
      [1, 'a', [0, 0, 0, 1, 0, 0, 1, 0]],
      [2, 'b', [0, 0, 0, 0, 0, 0, 0, 0]],
      [3, 'c', [0, 1, 1, 0, 0, 0, 0, 0]],
      [300, 'label_300', [0, 0, 0, 0, 0, 1, 0, 0]],
    ],
  );
  assert.deepEqual([...splitPerClass(new Uint8Array(4), ['background'])], []);
});
