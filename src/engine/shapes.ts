import { fail } from '../util/errors.js';
import type { Conv3dAttrs } from './ops.js';
import { formatShape, sameShape } from './tensor.js';
import type { Vec3 } from '../util/vec3.js';

/**
 * Shape inference and validation for every op, shared by all executors so that the eager engine, the
 * ONNX tracer and the counter reject the same inputs with the same message.
 */
function need5d(op: string, shape: readonly number[]): void {
  if (shape.length !== 5)
    fail('SHAPE_MISMATCH', `${op}: expected a 5-D (N, C, D, H, W) input, got ${formatShape(shape)}`);
}

export function conv3dOutputShape(
  x: readonly number[],
  w: readonly number[],
  bias: readonly number[] | null,
  attrs: Conv3dAttrs,
): number[] {
  need5d('conv3d', x);
  if (w.length !== 5) fail('SHAPE_MISMATCH', `conv3d: weight must be 5-D, got ${formatShape(w)}`);
  const [n, cin] = x as [number, number, number, number, number];
  const [cout, wcin] = w as [number, number, number, number, number];
  if (wcin !== cin) {
    fail('SHAPE_MISMATCH', `conv3d: input has ${cin} channels but weight ${formatShape(w)} expects ${wcin}`);
  }
  if (bias !== null && !sameShape(bias, [cout])) {
    fail('SHAPE_MISMATCH', `conv3d: bias ${formatShape(bias)} does not match ${cout} output channels`);
  }
  for (let a = 0; a < 3; a++) {
    const s = attrs.stride[a];
    const p = attrs.padding[a];
    if (!Number.isInteger(s) || (s as number) < 1 || !Number.isInteger(p) || (p as number) < 0) {
      fail(
        'BAD_INPUT',
        `conv3d: stride [${attrs.stride.join(', ')}] must be ≥ 1 and padding [${attrs.padding.join(', ')}] ≥ 0 integers`,
      );
    }
  }
  const out = [n, cout];
  for (let a = 0; a < 3; a++) {
    const size = x[2 + a] as number;
    const k = w[2 + a] as number;
    const s = attrs.stride[a] as number;
    const p = attrs.padding[a] as number;
    const o = Math.floor((size + 2 * p - k) / s) + 1;
    if (o < 1)
      fail('SHAPE_MISMATCH', `conv3d: input ${formatShape(x)} is too small for kernel ${formatShape(w)}`);
    out.push(o);
  }
  return out;
}

export function instanceNormShape(
  x: readonly number[],
  weight: readonly number[],
  bias: readonly number[],
): number[] {
  need5d('instanceNorm', x);
  const c = x[1] as number;
  if (!sameShape(weight, [c]) || !sameShape(bias, [c])) {
    fail(
      'SHAPE_MISMATCH',
      `instanceNorm: weight ${formatShape(weight)} / bias ${formatShape(bias)} must be [${c}]`,
    );
  }
  return [...x];
}

export function addShape(a: readonly number[], b: readonly number[]): number[] {
  if (!sameShape(a, b)) fail('SHAPE_MISMATCH', `add: shapes ${formatShape(a)} and ${formatShape(b)} differ`);
  return [...a];
}

export function concatShape(xs: readonly (readonly number[])[], axis: number): number[] {
  const first = xs[0];
  if (first === undefined) fail('BAD_INPUT', 'concat: no inputs');
  if (!Number.isInteger(axis) || axis < 0 || axis >= first.length)
    fail('BAD_INPUT', `concat: bad axis ${axis}`);
  const out = [...first];
  out[axis] = 0;
  for (const s of xs) {
    const ok = s.length === first.length && s.every((d, i) => i === axis || d === first[i]);
    if (!ok)
      fail(
        'SHAPE_MISMATCH',
        `concat: ${formatShape(s)} does not match ${formatShape(first)} off axis ${axis}`,
      );
    out[axis] = out[axis] + (s[axis] as number);
  }
  return out;
}

export function upsampleNearestShape(x: readonly number[], scale: Vec3): number[] {
  need5d('upsampleNearest', x);
  for (const s of scale) {
    if (!Number.isInteger(s) || s < 1)
      fail('BAD_INPUT', `upsampleNearest: scale factors must be positive integers, got ${s}`);
  }
  return [
    x[0] as number,
    x[1] as number,
    (x[2] as number) * scale[0],
    (x[3] as number) * scale[1],
    (x[4] as number) * scale[2],
  ];
}
