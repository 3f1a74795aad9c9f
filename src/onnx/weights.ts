import { TensorParams } from '../engine/engine.js';
import type { Tensor } from '../engine/tensor.js';
import type { WeightProvider } from './tracer.js';

/**
 * A WeightProvider over tensors keyed by state_dict name (what checkpoint loading and initWeightsHe
 * produce). Same lookup and errors as the eager engine's parameters: a missing key or a shape the
 * architecture does not expect fails naming both.
 */
export function weightsFromMap(tensors: ReadonlyMap<string, Tensor>): WeightProvider {
  const params = new TensorParams(tensors);
  return (name, shape) => params.param(name, shape).data;
}
