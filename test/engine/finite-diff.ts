/**
 * Finite-difference gradients for the conformance suite: L(inputs) = Σ r·f(inputs) in float64, central
 * differences per element. The step is measured after float32 rounding (x + h is not exactly x + h).
 */
import { Tensor } from '../../src/engine/tensor.js';
import { Rng } from '../../src/util/random.js';

export function randomTensor(shape: readonly number[], seed: number, scale = 1, awayFromZero = 0): Tensor {
  const rng = new Rng(seed);
  const t = new Tensor(shape);
  for (let i = 0; i < t.size; i++) {
    const v = rng.normal() * scale;
    t.data[i] = Math.abs(v) < awayFromZero ? Math.sign(v || 1) * (awayFromZero + Math.abs(v)) : v;
  }
  return t;
}

export function dot(a: Tensor, r: Tensor): number {
  let s = 0;
  for (let i = 0; i < a.size; i++) s += (a.data[i] as number) * (r.data[i] as number);
  return s;
}

/** dL/dx by central differences, where L() reads x's (mutable) data. */
export function numericGradient(x: Tensor, loss: () => number, h = 1e-2): Float64Array {
  const g = new Float64Array(x.size);
  for (let i = 0; i < x.size; i++) {
    const v = x.data[i] as number;
    x.data[i] = v + h;
    const up = x.data[i] as number;
    const lp = loss();
    x.data[i] = v - h;
    const down = x.data[i] as number;
    const lm = loss();
    x.data[i] = v;
    g[i] = (lp - lm) / (up - down);
  }
  return g;
}
