import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeIntensities } from '../../src/preprocessing/normalize.js';
import { StunetError } from '../../src/util/errors.js';
import { expectClose } from '../helpers.js';
import { loadData, loadSeg, maxAbsDiff } from './fixtures.js';

const ct = { mean: 84.3, sd: 172.9, percentile_00_5: -958.0, percentile_99_5: 1301.0 };

for (const scheme of ['CT', 'nonCT'] as const) {
  for (const mask of [false, true]) {
    test(`(d) ${scheme}, use_nonzero_mask ${mask} matches resample_and_normalize`, (t) => {
      const out = normalizeIntensities(loadData('d_input_data.npy'), loadSeg('d_input_seg.npy'), {
        schemes: [scheme],
        useNonzeroMask: [mask],
        intensityProperties: scheme === 'CT' ? [ct] : null,
      });
      const exp = loadData(`d_norm_${scheme}_mask${mask ? 1 : 0}.npy`);
      const { maxDiff } = maxAbsDiff(out.data, exp.data);
      t.diagnostic(`max |diff| ${maxDiff.toExponential(3)}`);
      expectClose(out.data, exp.data, { atol: 1e-5, rtol: 1e-5 });
    });
  }
}

test('CT without intensity properties, or a mask without a seg, is a BAD_INPUT error', () => {
  const data = loadData('d_input_data.npy');
  const bad = (e: unknown): boolean => e instanceof StunetError && e.code === 'BAD_INPUT';
  assert.throws(() => normalizeIntensities(data, null, { schemes: ['CT'], useNonzeroMask: [false] }), bad);
  assert.throws(() => normalizeIntensities(data, null, { schemes: ['nonCT'], useNonzeroMask: [true] }), bad);
});

test('noNorm leaves the data unchanged and the input is never modified', () => {
  const data = loadData('d_input_data.npy');
  const copy = data.data.slice();
  const out = normalizeIntensities(data, null, { schemes: ['noNorm'], useNonzeroMask: [false] });
  assert.deepEqual(out.data, copy);
  normalizeIntensities(data, null, { schemes: ['nonCT'], useNonzeroMask: [false] });
  assert.deepEqual(data.data, copy);
});
