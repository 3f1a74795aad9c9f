import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cubicCoefficients, sampleCubic, type Mat3 } from '../../src/augmentation/interpolate.js';
import {
  applySpatial,
  centerCrop,
  defaultSpatialParams,
  drawSpatial,
  flipAxes,
  getPatchSize,
  augmentMirror,
} from '../../src/augmentation/spatial.js';
import { Rng } from '../../src/util/random.js';
import { expectClose } from '../helpers.js';
import { randomSample, smoothSample, withinFourSigma } from './synthetic.js';

test('get_patch_size: 128³ with ±30° and scale (0.85, 1.25) → 205³ (nnUNetTrainerV2)', () => {
  const p = defaultSpatialParams([128, 128, 128]);
  assert.deepEqual(getPatchSize([128, 128, 128], p.rotationRad, [0.85, 1.25]), [205, 205, 205]);
  // A flat patch grows on every axis it is rotated into.
  assert.deepEqual(
    getPatchSize(
      [64, 64, 64],
      [
        [0, 0],
        [0, 0],
        [0, 0],
      ],
      [1, 1],
    ),
    [64, 64, 64],
  );
});

test('rotation 0 and scale 1 is the identity (order 3 reproduces samples at grid points)', () => {
  const s = randomSample([12, 14, 16], 2, [0, 1, 3], 7);
  const p = defaultSpatialParams([8, 10, 12]);
  const out = applySpatial(s, { angles: [0, 0, 0], scale: 1 }, p);
  const crop = centerCrop(s, [8, 10, 12]);
  expectClose(out.data, crop.data, { atol: 2e-5, label: 'data' });
  assert.deepEqual(out.seg, crop.seg);
});

test('rotation by 90° about axis 0 permutes axes, image and labels alike', () => {
  const n = 9;
  const s = randomSample([n, n, n], 1, [0, 1, 2, 4], 3);
  const p = defaultSpatialParams([n, n, n]);
  const out = applySpatial(s, { angles: [Math.PI / 2, 0, 0], scale: null }, p);
  // v·Rx(90°) = (v0, v2, −v1): out[a, b, c] = in[a, c, n − 1 − b]
  const exp = new Float32Array(n ** 3);
  const expSeg = new Int16Array(n ** 3);
  for (let a = 0; a < n; a++)
    for (let b = 0; b < n; b++)
      for (let c = 0; c < n; c++) {
        const from = (a * n + c) * n + (n - 1 - b);
        exp[(a * n + b) * n + c] = s.data[from] as number;
        expSeg[(a * n + b) * n + c] = s.seg[from] as number;
      }
  expectClose(out.data, exp, { atol: 1e-4 });
  assert.deepEqual(out.seg, expSeg);
});

test('order-3 sampling of a smooth field at rotated points is close to the field itself', () => {
  const shape = [24, 24, 24] as const;
  const f = (z: number, y: number, x: number): number => Math.sin(0.2 * z) * Math.cos(0.15 * y) + 0.05 * x;
  const src = new Float32Array(24 ** 3);
  for (let z = 0, p = 0; z < 24; z++)
    for (let y = 0; y < 24; y++) for (let x = 0; x < 24; x++, p++) src[p] = f(z, y, x);
  const coef = cubicCoefficients(src, shape);
  const t = 0.4;
  // a rotated, shifted 8³ grid well inside the volume
  const matrix: Mat3 = [1, 0, 0, 0, Math.cos(t), -Math.sin(t), 0, Math.sin(t), Math.cos(t)];
  const origin = [8.3, 9.1, 7.7] as const;
  const out = new Float32Array(512);
  sampleCubic(coef, shape, { center: [0, 0, 0], matrix, scale: 1, offset: origin }, [8, 8, 8], 0, out, 0);
  const exp = new Float32Array(512);
  for (let a = 0, p = 0; a < 8; a++)
    for (let b = 0; b < 8; b++)
      for (let c = 0; c < 8; c++, p++) {
        const x0 = origin[0] + a;
        const x1 = origin[1] + Math.cos(t) * b - Math.sin(t) * c;
        const x2 = origin[2] + Math.sin(t) * b + Math.cos(t) * c;
        exp[p] = f(x0, x1, x2);
      }
  expectClose(out, exp, { atol: 2e-3 });
});

test('points outside the input get cval for data and 0 for labels (mode constant)', () => {
  const s = smoothSample([6, 6, 6], 1, [3]);
  const p = { ...defaultSpatialParams([12, 12, 12]), cvalData: -7 };
  // scale 1 on a 12³ grid centred on a 6³ input: the outer shell lies outside.
  const out = applySpatial({ ...s, seg: s.seg.fill(3) }, { angles: [0, 0, 0], scale: 1 }, p);
  assert.equal(out.data[0], -7);
  assert.equal(out.seg[0], 0);
  const centre = (6 * 12 + 6) * 12 + 6;
  assert.equal(out.seg[centre], 3);
});

test('random rotations and scalings never create labels', () => {
  const labels = [-1, 0, 2, 5, 9];
  const s = randomSample([14, 14, 14], 1, labels, 11);
  const p = defaultSpatialParams([10, 10, 10]);
  const rng = new Rng(5);
  for (let i = 0; i < 20; i++) {
    const draw = {
      angles: [rng.next() - 0.5, rng.next() - 0.5, rng.next() - 0.5] as const,
      scale: 0.7 + 0.7 * rng.next(),
    };
    const out = applySpatial(s, draw, p);
    for (const v of out.seg) assert.ok(labels.includes(v), `label ${v}`);
    assert.equal(out.data.length, 1000);
  }
});

test('rotation and scaling are drawn with p 0.2 each, independently, within their ranges', () => {
  const p = defaultSpatialParams([8, 8, 8]);
  const rng = new Rng(123);
  const N = 4000;
  let rot = 0;
  let sc = 0;
  let both = 0;
  let below = 0;
  for (let i = 0; i < N; i++) {
    const d = drawSpatial(p, rng);
    if (d.angles !== null) {
      rot++;
      for (const a of d.angles) assert.ok(Math.abs(a) <= Math.PI / 6);
    }
    if (d.scale !== null) {
      sc++;
      assert.ok(d.scale >= 0.7 && d.scale <= 1.4);
      if (d.scale < 1) below++;
    }
    if (d.angles !== null && d.scale !== null) both++;
  }
  assert.ok(withinFourSigma(rot, N, 0.2), `rotation ${rot}/${N}`);
  assert.ok(withinFourSigma(sc, N, 0.2), `scale ${sc}/${N}`);
  assert.ok(withinFourSigma(both, N, 0.04), `both ${both}/${N}`);
  assert.ok(withinFourSigma(below, sc, 0.5), `scale < 1 ${below}/${sc}`);
});

test('mirroring twice is the identity; one flip reverses the axis for data and seg', () => {
  const s = randomSample([3, 4, 5], 2, [0, 1, 2], 9);
  const copy = { ...s, data: s.data.slice(), seg: s.seg.slice() };
  flipAxes(copy, [1]);
  // element (c, z, y, x) moved to (c, z, 3 − y, x)
  assert.equal(copy.data[20 + (1 * 4 + 3) * 5 + 2], s.data[20 + (1 * 4 + 0) * 5 + 2]);
  assert.equal(copy.seg[(2 * 4 + 1) * 5 + 4], s.seg[(2 * 4 + 2) * 5 + 4]);
  flipAxes(copy, [1]);
  assert.deepEqual(copy.data, s.data);
  for (const axes of [[0], [2], [0, 1, 2]] as (0 | 1 | 2)[][]) {
    const t = { ...s, data: s.data.slice(), seg: s.seg.slice() };
    flipAxes(t, axes);
    assert.notDeepEqual(t.data, s.data);
    flipAxes(t, axes);
    assert.deepEqual(t.data, s.data);
    assert.deepEqual(t.seg, s.seg);
  }
});

test('each axis is mirrored with probability ½', () => {
  const rng = new Rng(77);
  const s = randomSample([2, 2, 2], 1, [0, 1], 1);
  const counts = [0, 0, 0];
  const N = 2000;
  for (let i = 0; i < N; i++)
    for (const a of augmentMirror(s, [0, 1, 2], rng)) counts[a] = (counts[a] as number) + 1;
  for (const c of counts) assert.ok(withinFourSigma(c, N, 0.5), `mirror ${c}/${N}`);
  assert.deepEqual(augmentMirror(s, [], rng), []);
});
