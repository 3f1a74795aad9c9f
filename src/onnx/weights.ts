import { fail } from '../errors.js';
import { formatShape, sameShape, type Tensor } from '../engine/tensor.js';
import type { WeightProvider } from './tracer.js';

/**
 * A WeightProvider over tensors keyed by state_dict name (what checkpoint loading and initWeightsHe
 * produce). A missing key or a shape the architecture does not expect fails naming both.
 */
export function weightsFromMap(tensors: ReadonlyMap<string, Tensor>): WeightProvider {
  return (name, shape) => {
    const t = tensors.get(name);
    if (t === undefined)
      fail('NOT_FOUND', `weights have no entry '${name}' (expected shape ${formatShape(shape)})`);
    if (!sameShape(t.shape, shape)) {
      fail(
        'SHAPE_MISMATCH',
        `'${name}': weights have shape ${formatShape(t.shape)}, architecture needs ${formatShape(shape)}`,
      );
    }
    return t.data;
  };
}
