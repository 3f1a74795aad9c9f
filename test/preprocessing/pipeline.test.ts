import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { readNifti } from '../../src/io/nifti.js';
import { niftiToVolume } from '../../src/io/nifti-volume.js';
import { preprocessTestCase, STUNET_TOTALSEG_PLANS } from '../../src/preprocessing/pipeline.js';
import { expectClose, fixturePath } from '../helpers.js';
import { countMismatches, loadData, loadJson, loadSeg, maxAbsDiff } from './fixtures.js';

interface ECase {
  output_shape: number[];
  properties: Record<string, unknown>;
}
interface EResults {
  crop: ECase;
  full: ECase & {
    stats_float64: { mean: number; std: number; min: number; max: number; sum: number };
    center_z_slice_index: number;
    stride: number;
  };
}
const results = loadJson('e_results.json') as EResults;

/** The properties we produce, compared with the official dict (SimpleITK geometry comes from the reader). */
const KEYS = [
  'original_size_of_raw_data',
  'original_spacing',
  'crop_bbox',
  'classes',
  'size_after_cropping',
  'size_after_resampling',
  'spacing_after_resampling',
] as const;

test('(e) preprocess_test_case on the NIfTI crop with the STU-Net TotalSegmentator plans', (t) => {
  const input = loadData('e_input_crop_sitk_order.npy');
  const r = preprocessTestCase(input, [3, 3, 3], STUNET_TOTALSEG_PLANS);
  const exp = loadData('e_preprocessed_crop.npy');
  assert.deepEqual(r.data.shape, results.crop.output_shape);
  const { maxDiff } = maxAbsDiff(r.data.data, exp.data);
  t.diagnostic(`data max |diff| ${maxDiff.toExponential(3)}`);
  expectClose(r.data.data, exp.data, { atol: 1e-4, rtol: 1e-4 });
  const expSeg = loadSeg('e_preprocessed_crop_seg.npy');
  assert.ok(r.seg);
  t.diagnostic(`seg mismatches ${countMismatches(r.seg.data, expSeg.data)}`);
  assert.deepEqual(Array.from(r.seg.data), Array.from(expSeg.data));
  for (const k of KEYS) assert.deepEqual(r.properties[k], results.crop.properties[k], k);
});

test('(e) preprocess_test_case on the full example CT (224×202×244 output)', (t) => {
  const image = readNifti(readFileSync(fixturePath('preprocessing', 'example_ct.nii.gz')));
  const { volume, spacingZYX } = niftiToVolume(image);
  const t0 = performance.now();
  const r = preprocessTestCase(volume, spacingZYX, STUNET_TOTALSEG_PLANS, { returnSeg: false });
  t.diagnostic(`preprocessTestCase (no seg) ${(performance.now() - t0).toFixed(0)} ms`);
  const full = results.full;
  assert.deepEqual(r.data.shape, full.output_shape);
  for (const k of KEYS) {
    if (k !== 'classes') assert.deepEqual(r.properties[k], full.properties[k], k);
  }
  assert.deepEqual(r.properties.classes, full.properties.classes);

  const [, z, y, x] = r.data.shape;
  const s = full.stride;
  const sub: number[] = [];
  for (let i = 0; i < z; i += s)
    for (let j = 0; j < y; j += s)
      for (let k = 0; k < x; k += s) sub.push(r.data.data[(i * y + j) * x + k] as number);
  const expSub = loadData('e_preprocessed_full_stride4.npy');
  const d1 = maxAbsDiff(sub, expSub.data);
  t.diagnostic(`stride-4 max |diff| ${d1.maxDiff.toExponential(3)}`);
  expectClose(sub, expSub.data, { atol: 1e-4, rtol: 1e-4, label: 'stride 4' });

  const zc = full.center_z_slice_index;
  const slice = r.data.data.subarray(zc * y * x, (zc + 1) * y * x);
  const expSlice = loadData('e_preprocessed_full_center_z_slice.npy');
  const d2 = maxAbsDiff(slice, expSlice.data);
  t.diagnostic(`centre slice max |diff| ${d2.maxDiff.toExponential(3)}`);
  expectClose(slice, expSlice.data, { atol: 1e-4, rtol: 1e-4, label: 'centre slice' });

  let sum = 0;
  let sq = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of r.data.data) {
    sum += v;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const n = r.data.data.length;
  const mean = sum / n;
  for (const v of r.data.data) sq += (v - mean) ** 2;
  const st = full.stats_float64;
  t.diagnostic(`sum ${sum} (official ${st.sum}), std ${Math.sqrt(sq / n)}, min ${min}, max ${max}`);
  expectClose([mean, Math.sqrt(sq / n), min, max], [st.mean, st.std, st.min, st.max], {
    atol: 1e-5,
    rtol: 1e-5,
  });
  // Bit-exact output: only the float64 summation order of this test differs from NumPy's.
  assert.ok(Math.abs(sum - st.sum) < 1e-6, `sum ${sum} vs ${st.sum}`);

  const t1 = performance.now();
  const withSeg = preprocessTestCase(volume, spacingZYX, STUNET_TOTALSEG_PLANS);
  t.diagnostic(`preprocessTestCase (with seg) ${(performance.now() - t1).toFixed(0)} ms`);
  assert.deepEqual(withSeg.data.data, r.data.data);
  assert.deepEqual(withSeg.seg?.shape, [1, z, y, x]);
});
