/** `stunet demo` on disk: the demo job with the Node host (files, ONNX Runtime, trainRun, ring files). */
import { resolve } from 'node:path';
import { runDemo, type DemoHost, type DemoOptions, type DemoResult } from '../jobs/demo.js';
import { nodePredictHost, ringStoreFor } from './predict-files.js';
import { nodeRuntime } from './runtime.js';
import { trainRun } from './train-host.js';

export const nodeDemoHost: DemoHost = {
  ...nodePredictHost(),
  runtime: nodeRuntime,
  predictOptions: { ringStore: ringStoreFor(256 * 2 ** 20) },
  train: (r) =>
    trainRun({
      ...r,
      scale: 'S',
      fold: 'all',
      backend: 'wasm',
      fingerprintSamples: 'all',
      finalValidation: false,
    }),
};

export const runDemoOnDisk = (o: DemoOptions): Promise<DemoResult> =>
  runDemo(nodeDemoHost, { ...o, out: resolve(o.out) });
