/** The class head on an ONNX runtime the host provides (onnxruntime-node, onnxruntime-web). */
import { Tensor } from '../engine/tensor.js';
import { classHeadStepModel } from '../onnx/head-graph.js';
import type { OnnxSession, OnnxSessionFactory } from '../onnx/session.js';
import { fail } from '../util/errors.js';
import { jsClassHead, type ClassHead } from './head.js';

/**
 * The v1 head step on an ONNX runtime (`accumulateSoftmax`: 1×1×1 head as a Gemm, Softmax over the classes,
 * the TTA mean, the Gaussian weight and the running sum, one graph per TTA pass count, made on first use)
 * with ORT's vectorised exponentials and threads; `apply` (logits, v2) stays in JS. The output goes to one
 * reused (N, K) array.
 */
export async function onnxClassHead(
  weight: Tensor,
  bias: Tensor,
  threads: number | undefined,
  createSession: OnnxSessionFactory,
): Promise<{
  head: ClassHead;
  close: () => Promise<void>;
}> {
  const [classes, channels] = weight.shape;
  if (classes === undefined || channels === undefined)
    fail('SHAPE_MISMATCH', `class head weight must be (K, C, 1, 1, 1), got [${weight.shape.join(', ')}]`);
  const wT = new Tensor([channels, classes]);
  for (let k = 0; k < classes; k++)
    for (let c = 0; c < channels; c++) wT.data[c * classes + k] = weight.data[k * channels + c] as number;
  const sessions = new Map<number, Promise<OnnxSession>>();
  const session = (passes: number): Promise<OnnxSession> => {
    let s = sessions.get(passes);
    if (s === undefined) {
      s = createSession(classHeadStepModel(wT, bias, passes), {
        allowSpinning: false, // 128 short runs per tile with ring I/O between them
        ...(threads === undefined ? {} : { intraOpThreads: threads }),
      });
      sessions.set(passes, s);
    }
    return s;
  };
  await session(1);
  const js = jsClassHead(weight.data, bias.data);
  let out = new Float32Array(0);
  let ones = new Float32Array(0);
  return {
    head: {
      classes,
      channels,
      apply: (f, dims) => js.apply(f, dims),
      accumulateSoftmax: async (features, n, g, sums) => {
        if (
          features.length < 1 ||
          features.some((f) => f.length !== channels * n) ||
          sums.length !== n * classes
        )
          fail('SHAPE_MISMATCH', `class head: expected ${channels}×${n} features and ${n}×${classes} sums`);
        if (g !== null && g.length !== n) fail('SHAPE_MISMATCH', `class head: expected ${n} weights`);
        if (out.length !== n * classes) out = new Float32Array(n * classes);
        if (g === null && ones.length !== n) ones = new Float32Array(n).fill(1);
        const inputs: Record<string, Tensor> = {
          weight: new Tensor([n, 1], g ?? ones),
          sums: new Tensor([n, classes], sums),
        };
        features.forEach((f, p) => (inputs[`features_${p}`] = new Tensor([channels, n], f)));
        const s = await session(features.length);
        await s.run(inputs, { out: new Tensor([n, classes], out) });
        return out;
      },
    },
    close: async () => {
      for (const s of sessions.values()) await (await s).release();
    },
  };
}
