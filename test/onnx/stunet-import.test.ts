/** Issue 17, item 10: an ONNX file from `stunet export-onnx` is a model again (`-m model.onnx`). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadModelFromStore } from '../../src/jobs/model-files.js';
import { MemoryStore } from '../../src/jobs/store.js';
import { loadNnunetV1 } from '../../src/checkpoint/nnunet-read.js';
import { exportStunetOnnx } from '../../src/onnx/stunet-export.js';
import { encodeModel } from '../../src/onnx/proto.js';
import { decodeModel } from '../../src/onnx/proto-read.js';
import { concatChunks } from '../../src/onnx/export.js';
import type { LoadedModel } from '../../src/model/loaded-model.js';
import { fixturePath } from '../helpers.js';

function t1(): LoadedModel {
  const path = fixturePath('stunet-forward', 'T1.model');
  return loadNnunetV1(readFileSync(path), readFileSync(`${path}.pkl`), path);
}

function storeWith(model: LoadedModel, external: boolean): MemoryStore {
  const ex = exportStunetOnnx(model, {
    ...(external ? { externalData: true } : {}),
    externalDataLocation: 'm.onnx.data',
  });
  const files: [string, Uint8Array][] = [['/d/m.onnx', ex.model]];
  assert.equal(ex.externalData !== undefined, external);
  if (ex.externalData !== undefined) files.push(['/d/m.onnx.data', concatChunks(ex.externalData.chunks)]);
  return new MemoryStore(files);
}

for (const external of [false, true]) {
  test(`an exported model reads back with the same weights and meta (${external ? 'external data' : 'inline'})`, () => {
    const model = t1();
    const back = loadModelFromStore(storeWith(model, external), '/d/m.onnx');
    assert.deepEqual(back.arch, model.arch);
    assert.deepEqual({ ...back.meta, source: null }, { ...model.meta, source: null });
    assert.equal(back.meta.source, '/d/m.onnx');
    assert.ok(back.meta.plans !== null, 'the plans travel with the file (preprocessing needs them)');
    const fullRes = `seg_outputs.${model.arch.poolOpKernelSizes.length - 1}.`;
    for (const [k, w] of model.weights) {
      const b = back.weights.get(k);
      if (k.startsWith('seg_outputs.') && !k.startsWith(fullRes)) {
        assert.equal(b, undefined, `${k}: a head the export without deep supervision does not hold`);
        continue;
      }
      assert.ok(b !== undefined, k);
      assert.deepEqual(b.shape, w.shape);
      assert.deepEqual(b.data, w.data, k);
    }
  });
}

test('an ONNX file without stunet metadata, or missing its weights file, is refused by name', () => {
  const model = t1();
  const spec = { ...decodeModel(exportStunetOnnx(model).model), metadata: [] };
  const foreign = new MemoryStore([['/d/other.onnx', encodeModel(spec).finish()]]);
  assert.throws(
    () => loadModelFromStore(foreign, '/d/other.onnx'),
    /other\.onnx was not exported by stunet export-onnx \(no stunet\.architecture metadata\)/,
  );
  const store = storeWith(model, true);
  store.remove('/d/m.onnx.data');
  assert.throws(
    () => loadModelFromStore(store, '/d/m.onnx'),
    /ONNX external data '\/d\/m\.onnx\.data' does not exist/,
  );
});
