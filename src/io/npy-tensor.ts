import { fail } from '../util/errors.js';
import type { NpyArray } from './npy.js';
import { Tensor } from '../engine/tensor.js';

/** Any numeric .npy → float32 Tensor (int64 beyond 2^24 loses precision, as a float32 cast would). */
export function tensorFromNpy(a: NpyArray): Tensor {
  const data =
    a.data instanceof Float32Array ? a.data : Float32Array.from(a.data as ArrayLike<number | bigint>, Number);
  if (data.length !== a.shape.reduce((x, y) => x * y, 1))
    fail('BAD_INPUT', 'npy: data size does not match its shape');
  return new Tensor(a.shape, data);
}

export function npyFromTensor(t: Tensor): NpyArray {
  return { dtype: 'float32', shape: t.shape, data: t.data };
}
