import { fail } from '../util/errors.js';
import type { Conv3dAttrs } from './ops.js';
import { formatShape, sameShape } from './tensor.js';
import type { Vec3 } from '../util/vec3.js';

/**
 * Shape inference and validation for every op, shared by all executors so that the eager engine, the
 * ONNX tracer and the counter reject the same inputs with the same message.
 */
/** (N, C, D, H, W). */
type Shape5 = readonly [number, number, number, number, number];

function as5d(shape: readonly number[]): Shape5 | null {
  const [n, c, d, h, w] = shape;
  if (
    shape.length !== 5 ||
    n === undefined ||
    c === undefined ||
    d === undefined ||
    h === undefined ||
    w === undefined
  )
    return null;
  return [n, c, d, h, w];
}

function need5d(op: string, shape: readonly number[]): Shape5 {
  return (
    as5d(shape) ??
    fail('SHAPE_MISMATCH', `${op}: expected a 5-D (N, C, D, H, W) input, got ${formatShape(shape)}`)
  );
}

const AXES = [0, 1, 2] as const;

export function conv3dOutputShape(
  x: readonly number[],
  w: readonly number[],
  bias: readonly number[] | null,
  attrs: Conv3dAttrs,
): number[] {
  const [n, cin, ...size] = need5d('conv3d', x);
  const [cout, wcin, ...kernel] =
    as5d(w) ?? fail('SHAPE_MISMATCH', `conv3d: weight must be 5-D, got ${formatShape(w)}`);
  if (wcin !== cin) {
    fail('SHAPE_MISMATCH', `conv3d: input has ${cin} channels but weight ${formatShape(w)} expects ${wcin}`);
  }
  if (bias !== null && !sameShape(bias, [cout])) {
    fail('SHAPE_MISMATCH', `conv3d: bias ${formatShape(bias)} does not match ${cout} output channels`);
  }
  for (const a of AXES) {
    const s = attrs.stride[a];
    const p = attrs.padding[a];
    if (!Number.isInteger(s) || s < 1 || !Number.isInteger(p) || p < 0) {
      fail(
        'BAD_INPUT',
        `conv3d: stride [${attrs.stride.join(', ')}] must be ≥ 1 and padding [${attrs.padding.join(', ')}] ≥ 0 integers`,
      );
    }
  }
  const out = [n, cout];
  for (const a of AXES) {
    const o = Math.floor((size[a] + 2 * attrs.padding[a] - kernel[a]) / attrs.stride[a]) + 1;
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
  const [, c] = need5d('instanceNorm', x);
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
  let total = 0;
  for (const s of xs) {
    const size = s[axis];
    const ok = s.length === first.length && s.every((d, i) => i === axis || d === first[i]);
    if (!ok || size === undefined)
      fail(
        'SHAPE_MISMATCH',
        `concat: ${formatShape(s)} does not match ${formatShape(first)} off axis ${axis}`,
      );
    total += size;
  }
  const out = [...first];
  out[axis] = total;
  return out;
}

export function upsampleNearestShape(x: readonly number[], scale: Vec3): number[] {
  const [n, c, d, h, w] = need5d('upsampleNearest', x);
  for (const s of scale) {
    if (!Number.isInteger(s) || s < 1)
      fail('BAD_INPUT', `upsampleNearest: scale factors must be positive integers, got ${s}`);
  }
  return [n, c, d * scale[0], h * scale[1], w * scale[2]];
}
