import { Tensor } from '../engine/tensor.js';
import { Rng } from '../util/random.js';
import type { StuNet } from './stunet.js';

/**
 * Fresh weights as the official InitWeights_He(neg_slope=1e-2) leaves them: conv weights
 * kaiming_normal_(a=1e-2) (fan_in, std = gain/√fan_in, gain = √(2/(1+a²))), conv biases 0; instance-norm
 * weight 1, bias 0 (PyTorch's default for affine norms). Seeded, so a seed gives the same network.
 * The RNG stream is ours, not torch's: the same seed does not give torch's numbers.
 */
export function initWeightsHe(net: StuNet, seed = 0, negSlope = 1e-2): Map<string, Tensor> {
  const rng = new Rng(seed);
  const gain = Math.sqrt(2 / (1 + negSlope * negSlope));
  const weights = new Map<string, Tensor>();
  for (const spec of net.parameterSpecs()) {
    const t = new Tensor(spec.shape);
    if (spec.shape.length === 5) {
      const fanIn = spec.shape.slice(1).reduce((a, b) => a * b, 1);
      const std = gain / Math.sqrt(fanIn);
      for (let i = 0; i < t.size; i++) t.data[i] = rng.normal() * std;
    } else if (/\.norm\d\.weight$/.test(spec.name)) {
      t.data.fill(1);
    }
    weights.set(spec.name, t);
  }
  return weights;
}
