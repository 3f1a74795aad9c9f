/** The class head's accumulation step as a small ONNX graph (fused head of the sliding window, v1). */
import { Tensor } from '../engine/tensor.js';
import { IR_VERSION, OPSET_VERSION } from './export.js';
import { DataType, encodeModel } from './proto.js';

/**
 * nnU-Net v1's per-chunk step as an ONNX graph for `passes` TTA passes: inputs `features_<p>` (C, N),
 * `weight` (N, 1) and `sums` (N, K); output `out` = sums + weight · Σ_p softmax(Wᵀ-Gemm(features_p) + b) / P
 * (N, K), voxel-major like the stitching ring. Every op in float32 as torch computes it.
 */
export function classHeadStepModel(wT: Tensor, bias: Tensor, passes: number): Uint8Array {
  const [channels, classes] = wT.shape as [number, number];
  const raw = (t: Tensor): Uint8Array => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  type Node = Parameters<typeof encodeModel>[0]['graph']['nodes'][number];
  const nodes: Node[] = [];
  let mean = '';
  for (let p = 0; p < passes; p++) {
    nodes.push({
      name: `head_${p}`,
      opType: 'Gemm',
      inputs: [`features_${p}`, 'wT', 'b'],
      outputs: [`logits_${p}`],
      attributes: [{ name: 'transA', type: 'INT', i: 1 }],
    });
    nodes.push({
      name: `softmax_${p}`,
      opType: 'Softmax',
      inputs: [`logits_${p}`],
      outputs: [`probs_${p}`],
      attributes: [{ name: 'axis', type: 'INT', i: 1 }],
    });
    let term = `probs_${p}`;
    if (passes > 1) {
      nodes.push({
        name: `div_${p}`,
        opType: 'Div',
        inputs: [term, 'passes'],
        outputs: [`part_${p}`],
        attributes: [],
      });
      term = `part_${p}`;
    }
    if (p > 0) {
      nodes.push({
        name: `mean_${p}`,
        opType: 'Add',
        inputs: [mean, term],
        outputs: [`mean_${p}`],
        attributes: [],
      });
      term = `mean_${p}`;
    }
    mean = term;
  }
  nodes.push({
    name: 'weigh',
    opType: 'Mul',
    inputs: [mean, 'weight'],
    outputs: ['weighted'],
    attributes: [],
  });
  nodes.push({
    name: 'accumulate',
    opType: 'Add',
    inputs: ['sums', 'weighted'],
    outputs: ['out'],
    attributes: [],
  });
  const n = new Tensor([], Float32Array.of(passes));
  return encodeModel({
    irVersion: IR_VERSION,
    opsetImports: [{ domain: '', version: OPSET_VERSION }],
    producerName: 'stunet',
    producerVersion: '0',
    metadata: [],
    graph: {
      name: 'stunet_head',
      nodes,
      initializers: [
        { name: 'wT', dataType: DataType.FLOAT, dims: wT.shape, rawData: raw(wT) },
        { name: 'b', dataType: DataType.FLOAT, dims: bias.shape, rawData: raw(bias) },
        ...(passes > 1 ? [{ name: 'passes', dataType: DataType.FLOAT, dims: [], rawData: raw(n) }] : []),
      ],
      inputs: [
        ...Array.from({ length: passes }, (_, p) => ({
          name: `features_${p}`,
          elemType: DataType.FLOAT,
          dims: [channels, 'N'],
        })),
        { name: 'weight', elemType: DataType.FLOAT, dims: ['N', 1] },
        { name: 'sums', elemType: DataType.FLOAT, dims: ['N', classes] },
      ],
      outputs: [{ name: 'out', elemType: DataType.FLOAT, dims: ['N', classes] }],
      valueInfo: [],
    },
  }).finish();
}
