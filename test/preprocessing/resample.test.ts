import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  computeNewShape,
  getDoSeparateZ,
  getLowresAxis,
  planResampling,
  resampleData,
  resamplePatient,
  resampleSeg,
} from '../../src/preprocessing/resample.js';
import { roundHalfEven } from '../../src/util/rounding.js';
import { expectClose } from '../helpers.js';
import { countMismatches, loadData, loadSeg, maxAbsDiff } from './fixtures.js';

test('(a) isotropic 3 mm → 1.5 mm: data order 3 and seg order 1 match resample_data_or_seg', (t) => {
  const data = loadData('a_input_data.npy');
  const seg = loadSeg('a_input_seg.npy');
  const expData = loadData('a_resampled_data.npy');
  const expSeg = loadSeg('a_resampled_seg.npy');
  const newShape = computeNewShape([28, 36, 44], [3, 3, 3], [1.5, 1.5, 1.5]);
  assert.deepEqual(newShape, [56, 72, 88]);
  const opts = { axis: null, doSeparateZ: false, orderZ: 0 };
  const d = resampleData(data, newShape, { ...opts, order: 3 });
  assert.deepEqual(d.shape, expData.shape);
  const { maxDiff, maxRef } = maxAbsDiff(d.data, expData.data);
  t.diagnostic(`data max |diff| ${maxDiff.toExponential(3)} (max |ref| ${maxRef})`);
  expectClose(d.data, expData.data, { atol: 1e-3, rtol: 1e-4, label: 'a data' });
  const s = resampleSeg(seg, newShape, { ...opts, order: 1 });
  t.diagnostic(`seg mismatches ${countMismatches(s.data, expSeg.data)} / ${expSeg.data.length}`);
  assert.deepEqual(Array.from(s.data), Array.from(expSeg.data));
});

test('(b) separate z along axis 0: resample_patient (5, 0.8, 0.8) → (3, 1, 1)', (t) => {
  const data = loadData('b_input_data.npy');
  const seg = loadSeg('b_input_seg.npy');
  const expData = loadData('b_resampled_data.npy');
  const expSeg = loadSeg('b_resampled_seg.npy');
  const plan = planResampling([12, 40, 44], [5, 0.8, 0.8], [3, 1, 1], null);
  assert.deepEqual(plan, { newShape: [20, 32, 35], doSeparateZ: true, axis: 0 });
  const r = resamplePatient(data, seg, [5, 0.8, 0.8], [3, 1, 1], {
    orderData: 3,
    orderSeg: 1,
    forceSeparateZ: null,
  });
  assert.ok(r.data && r.seg);
  assert.deepEqual(r.data.shape, expData.shape);
  const { maxDiff, maxRef } = maxAbsDiff(r.data.data, expData.data);
  t.diagnostic(`data max |diff| ${maxDiff.toExponential(3)} (max |ref| ${maxRef})`);
  expectClose(r.data.data, expData.data, { atol: 1e-3, rtol: 1e-4, label: 'b data' });
  t.diagnostic(`seg mismatches ${countMismatches(r.seg.data, expSeg.data)} / ${expSeg.data.length}`);
  assert.deepEqual(Array.from(r.seg.data), Array.from(expSeg.data));
});

test('planResampling: separate z from the target spacing, axis 2; two coarse axes disable it', () => {
  assert.deepEqual(planResampling([10, 20, 30], [0.7, 0.7, 4], [1, 1, 2.5], null), {
    newShape: [7, 14, 48],
    doSeparateZ: true,
    axis: 2,
  });
  assert.equal(planResampling([10, 10, 10], [0.24, 1.25, 1.25], [1, 1, 1], null).doSeparateZ, false);
  assert.equal(planResampling([10, 10, 10], [5, 1, 1], [1, 1, 1], false).doSeparateZ, false);
  assert.equal(planResampling([10, 10, 10], [1, 1, 1], [1, 1, 1], true).doSeparateZ, false);
  assert.equal(getDoSeparateZ([3, 1, 1]), false);
  assert.equal(getDoSeparateZ([3.01, 1, 1]), true);
  assert.deepEqual(getLowresAxis([1.25, 1.25, 0.24]), [0, 1]);
});

test('separate z along axis 2 keeps in-plane spline and picks nearest slices along x', () => {
  // (0.7, 0.7, 4) → (1, 1, 2.5): each x-slice resized in (z, y), then order 0 along x.
  const data = loadData('b_input_data.npy');
  const r = resamplePatient(data, null, [0.7, 0.7, 4], [1, 1, 2.5], { forceSeparateZ: null });
  assert.ok(r.data);
  const [, z, y, x] = r.data.shape;
  assert.deepEqual([z, y, x], [8, 28, 70]);
  // Output x index k reads input column floor(44/70·(k + 0.5) − 0.5 + 0.5); compare one column to a
  // separate-z resize of that single column's slice.
  const col = (vol: Float32Array, dims: readonly number[], k: number): number[] => {
    const out: number[] = [];
    for (let i = 0; i < (dims[0] as number) * (dims[1] as number); i++)
      out.push(vol[i * (dims[2] as number) + k] as number);
    return out;
  };
  const k = 37;
  const src = Math.floor((44 / 70) * (k + 0.5) - 0.5 + 0.5);
  const single = resampleData(
    { data: Float32Array.from(col(data.data, [12, 40, 44], src)), shape: [1, 12, 40, 1] },
    [8, 28, 1],
    { axis: null, doSeparateZ: false, order: 3, orderZ: 0 },
  );
  expectClose(col(r.data.data, [8, 28, 70], k), single.data, { atol: 1e-6 });
});

test('roundHalfEven and new shape follow np.round', () => {
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, 2.6].map(roundHalfEven), [0, 2, 2, -0, -2, 2, 3]);
  assert.deepEqual(computeNewShape([5, 7, 9], [1, 1, 1], [2, 2, 2]), [2, 4, 4]);
});
