/** Test helper: export a model fn with given weights, run it once in ONNX Runtime, release. */
import type { Tensor } from '../../src/engine/tensor.js';
import { exportOnnx, type ExportOptions, type OnnxModelFn } from '../../src/onnx/export.js';
import { createOrtSession, type OrtSessionOptions } from '../../src/onnx/session-node.js';
import { weightsFromMap } from '../../src/onnx/weights.js';

export async function runExported(
  model: OnnxModelFn,
  x: Tensor,
  weights: ReadonlyMap<string, Tensor> = new Map(),
  exportOptions: Partial<ExportOptions> = {},
  sessionOptions: OrtSessionOptions = {},
): Promise<Tensor[]> {
  const exported = exportOnnx(model, {
    inputShape: x.shape,
    weights: weightsFromMap(weights),
    ...exportOptions,
  });
  const session = await createOrtSession(exported.model, sessionOptions);
  try {
    return await session.run(x);
  } finally {
    await session.release();
  }
}
