/**
 * The split that keeps prediction memory flat in the class count: the network up to its last decoder
 * feature map (run on any executor), and its class head applied by the sliding window plane by plane.
 */
import type { Backend } from '../engine/backend.js';
import { Tensor } from '../engine/tensor.js';
import type { LoadedModel } from '../model/loaded-model.js';
import { StuNet } from '../model/stunet.js';
import { fail } from '../util/errors.js';
import { headVoxels, type ClassHead } from './head.js';

/**
 * The model with its full-resolution head `seg_outputs.<last>` replaced by the identity on its C input
 * channels (and the unused deep-supervision heads by zeros of the same width): its output is the last
 * decoder feature map, exactly (1·f + 0·others). Returns that model and the original head's weights.
 */
export function featureModel(model: LoadedModel): {
  model: LoadedModel;
  weight: Tensor;
  bias: Tensor;
} {
  const net = new StuNet(model.arch);
  const heads = net.segOutputs.length;
  const channels = model.arch.dims[0] ?? fail('BAD_INPUT', 'architecture without dims');
  const last = `seg_outputs.${heads - 1}`;
  const weight = model.weights.get(`${last}.weight`) ?? fail('NOT_FOUND', `weights have no '${last}.weight'`);
  const bias = model.weights.get(`${last}.bias`) ?? fail('NOT_FOUND', `weights have no '${last}.bias'`);
  const weights = new Map(model.weights);
  // The heads' widths come from the architecture: a model exported without deep supervision (an .onnx)
  // has no weights for the heads it never ran.
  const specs = new Map(net.parameterSpecs().map((s) => [s.name, s.shape]));
  for (let u = 0; u < heads; u++) {
    const cin = specs.get(`seg_outputs.${u}.weight`)?.[1] ?? fail('SHAPE_MISMATCH', `no seg_outputs.${u}`);
    const nw = new Tensor([channels, cin, 1, 1, 1]);
    if (u === heads - 1) for (let c = 0; c < channels; c++) nw.data[c * cin + c] = 1;
    weights.set(`seg_outputs.${u}.weight`, nw);
    weights.set(`seg_outputs.${u}.bias`, new Tensor([channels]));
  }
  return { model: { ...model, arch: { ...model.arch, numClasses: channels }, weights }, weight, bias };
}

/** The head on an engine backend's 1×1×1 convolution (wasm: SIMD, threads): (C, n) → (K, n). */
export function backendClassHead(be: Backend, weight: Tensor, bias: Tensor): ClassHead {
  const [classes, channels] = weight.shape;
  if (classes === undefined || channels === undefined)
    fail('SHAPE_MISMATCH', `class head weight must be (K, C, 1, 1, 1), got [${weight.shape.join(', ')}]`);
  const attrs = { stride: [1, 1, 1], padding: [0, 0, 0] } as const;
  return {
    classes,
    channels,
    apply(features: Float32Array, dims: readonly [number, number, number]): Float32Array {
      const voxels = headVoxels(features, channels, dims);
      const x = new Tensor([1, channels, 1, 1, voxels], features);
      return be.conv3d(x, weight, bias, attrs, [1, classes, 1, 1, voxels]).data;
    },
  };
}
