/**
 * One conformance suite over every backend in ./backends.ts: each op's forward against the ref backend
 * (and conv3d against its definition), each gradient (through the autograd tape) against the ref backend
 * and — for every backend — against central finite differences on tiny shapes; then one T1 training step
 * against the official fixture (test/fixtures/train-steps).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { loadNnunetV1 } from '../../src/checkpoint/nnunet-read.js';
import { asStateDict, loadTorch } from '../../src/checkpoint/torch-load.js';
import { tensorToFloat32 } from '../../src/checkpoint/tensor.js';
import { backward } from '../../src/engine/autograd.js';
import type { Backend } from '../../src/engine/backend.js';
import { refBackend } from '../../src/engine/backends/ref/index.js';
import { Engine, Tape } from '../../src/engine/engine.js';
import { tensorFromNpy } from '../../src/io/npy-tensor.js';
import type { Conv3dAttrs } from '../../src/engine/ops.js';
import { Tensor } from '../../src/engine/tensor.js';
import { labelMapFromNpy } from '../../src/augmentation/deep-supervision.js';
import { NNUNET_SGD, SgdOptimizer } from '../../src/training/optimizer.js';
import { createTrainingState, trainStep } from '../../src/training/train-step.js';
import { expectClose, fixturePath, loadNpyFixture } from '../helpers.js';
import { BACKENDS, type BackendUnderTest } from './backends.js';
import { dot, numericGradient, randomTensor } from './finite-diff.js';
import type { Vec3 } from '../../src/util/vec3.js';

type Run = (e: Engine, xs: readonly Tensor[]) => Tensor;
const FD_TOL = 5e-3; // finite differences vs analytic, relative to max|gradient|

function gradients(backend: Backend, inputs: readonly Tensor[], run: Run, r: Tensor): Tensor[] {
  const e = new Engine(backend);
  e.tape = new Tape();
  const y = run(e, inputs);
  const g = backward(e.tape, [[y, r]], inputs, backend);
  return inputs.map((t) => g.get(t) ?? new Tensor(t.shape));
}

/** Forward and every input gradient of `run` on `backend` vs ref, and ref's gradients vs finite differences. */
function checkOp(
  b: BackendUnderTest,
  backend: Backend,
  label: string,
  inputs: Tensor[],
  run: Run,
  seed: number,
): void {
  const y = run(new Engine(backend), inputs);
  const yRef = run(new Engine(refBackend), inputs);
  expectClose(y.data, yRef.data, { maxRelTol: b.tol.forward, label: `${label} forward` });
  // dy = random + y: a component along y makes every term of a gradient count (e.g. instance norm's
  // x̂·mean(dy·x̂), which a purely random dy barely excites).
  const r = randomTensor(y.shape, seed);
  for (let i = 0; i < r.size; i++) r.data[i] = (r.data[i] as number) + (yRef.data[i] as number);
  const g = gradients(backend, inputs, run, r);
  const gRef = backend === refBackend ? g : gradients(refBackend, inputs, run, r);
  inputs.forEach((x, i) => {
    expectClose(g[i]?.data ?? [], gRef[i]?.data ?? [], {
      maxRelTol: b.tol.gradient,
      label: `${label} grad ${i} vs ref`,
    });
    const fd = numericGradient(x, () => dot(run(new Engine(backend), inputs), r));
    expectClose(g[i]?.data ?? [], fd, {
      maxRelTol: FD_TOL,
      label: `${label} grad ${i} vs finite differences`,
    });
  });
}

/** conv3d by its definition (gather over taps, float64), independent of every kernel. */
function convByDefinition(x: Tensor, w: Tensor, bias: Tensor, attrs: Conv3dAttrs, out: Tensor): Float64Array {
  const [N, Ci, D, H, W] = x.shape as [number, number, number, number, number];
  const [Co, , kD, kH, kW] = w.shape as [number, number, number, number, number];
  const [, , oD, oH, oW] = out.shape as [number, number, number, number, number];
  const y = new Float64Array(out.size);
  let k = 0;
  for (let n = 0; n < N; n++)
    for (let co = 0; co < Co; co++)
      for (let od = 0; od < oD; od++)
        for (let oh = 0; oh < oH; oh++)
          for (let ow = 0; ow < oW; ow++) {
            let s = bias.data[co] as number;
            for (let ci = 0; ci < Ci; ci++)
              for (let a = 0; a < kD; a++)
                for (let c = 0; c < kH; c++)
                  for (let d = 0; d < kW; d++) {
                    const [i, j, l] = [
                      od * attrs.stride[0] - attrs.padding[0] + a,
                      oh * attrs.stride[1] - attrs.padding[1] + c,
                      ow * attrs.stride[2] - attrs.padding[2] + d,
                    ];
                    if (i < 0 || j < 0 || l < 0 || i >= D || j >= H || l >= W) continue;
                    s +=
                      (w.data[(((co * Ci + ci) * kD + a) * kH + c) * kW + d] as number) *
                      (x.data[(((n * Ci + ci) * D + i) * H + j) * W + l] as number);
                  }
            y[k++] = s;
          }
  return y;
}

const CONVS: { kernel: Vec3; stride: Vec3 }[] = [
  { kernel: [3, 3, 3], stride: [1, 1, 1] },
  { kernel: [3, 3, 3], stride: [2, 2, 2] },
  { kernel: [3, 3, 3], stride: [1, 1, 2] },
  { kernel: [1, 1, 1], stride: [1, 1, 1] },
  { kernel: [1, 1, 1], stride: [2, 2, 2] },
  { kernel: [1, 1, 1], stride: [1, 1, 2] },
];

for (const b of BACKENDS) {
  describe(`conformance: ${b.name} backend`, () => {
    let backend: Backend = refBackend;
    before(async () => {
      backend = await b.create();
    });
    after(async () => {
      if (b.close !== undefined) await b.close(backend);
    });

    CONVS.forEach(({ kernel, stride }, c) => {
      test(`conv3d kernel ${kernel.join('×')} stride [${stride.join(', ')}]: forward and dx, dw, db`, () => {
        const padding = kernel.map((k) => Math.floor(k / 2)) as unknown as Vec3;
        const attrs = { stride, padding };
        const x = randomTensor([2, 2, 3, 4, 5], 10 + c);
        const w = randomTensor([3, 2, ...kernel], 20 + c, 0.5);
        const bias = randomTensor([3], 30 + c);
        const y = new Engine(backend).conv3d(x, w, bias, attrs);
        expectClose(y.data, convByDefinition(x, w, bias, attrs, y), {
          maxRelTol: Math.max(b.tol.forward, 1e-6),
          label: 'definition',
        });
        checkOp(
          b,
          backend,
          'conv3d',
          [x, w, bias],
          (e, [a, bb, cc]) => e.conv3d(a as Tensor, bb as Tensor, cc as Tensor, attrs),
          40 + c,
        );
      });
    });

    test('instanceNorm (affine, eps 1e-5): forward and dx, dγ, dβ', () => {
      const x = randomTensor([2, 3, 2, 3, 4], 1, 2);
      const w = randomTensor([3], 2);
      const bias = randomTensor([3], 3);
      checkOp(
        b,
        backend,
        'instanceNorm',
        [x, w, bias],
        (e, [a, bb, cc]) => e.instanceNorm(a as Tensor, bb as Tensor, cc as Tensor, 1e-5),
        4,
      );
    });

    test('leakyRelu 0.01: forward and dx (inputs kept off the kink)', () => {
      const x = randomTensor([2, 2, 2, 3, 4], 5, 1, 0.05);
      checkOp(b, backend, 'leakyRelu', [x], (e, [a]) => e.leakyRelu(a as Tensor, 0.01), 6);
    });

    test('add and concat (channel axis, three inputs): forward and every input gradient', () => {
      const [p, q] = [randomTensor([2, 2, 2, 2, 3], 7), randomTensor([2, 2, 2, 2, 3], 8)];
      checkOp(b, backend, 'add', [p, q], (e, [a, bb]) => e.add(a as Tensor, bb as Tensor), 9);
      const r = randomTensor([2, 1, 2, 2, 3], 10);
      checkOp(b, backend, 'concat', [p, r, q], (e, xs) => e.concat(xs, 1), 11);
    });

    for (const scale of [
      [2, 2, 2],
      [1, 1, 2],
    ] as Vec3[]) {
      test(`upsampleNearest [${scale.join(', ')}]: forward and its adjoint`, () => {
        const x = randomTensor([2, 2, 2, 3, 2], 12);
        checkOp(b, backend, 'upsampleNearest', [x], (e, [a]) => e.upsampleNearest(a as Tensor, scale), 13);
      });
    }

    test('a tensor used twice (skip connection) accumulates both gradients', () => {
      const x = randomTensor([1, 2, 2, 2, 3], 14);
      const w = randomTensor([2, 2, 1, 1, 1], 15);
      checkOp(
        b,
        backend,
        'x + conv(x)',
        [x, w],
        (e, [a, ww]) =>
          e.add(
            a as Tensor,
            e.conv3d(a as Tensor, ww as Tensor, null, { stride: [1, 1, 1], padding: [0, 0, 0] }),
          ),
        16,
      );
    });

    test('slice and sgdUpdate agree with ref', () => {
      const x = randomTensor([2, 5, 3], 17);
      expectClose(backend.slice?.(x, 1, 1, 3).data ?? [], refBackend.slice?.(x, 1, 1, 3).data ?? [0], {
        label: 'slice',
      });
      const run = (k: Backend): Float32Array[] => {
        const p = randomTensor([40], 18);
        const buf = randomTensor([40], 19);
        k.sgdUpdate?.(p, randomTensor([40], 20), buf, { ...NNUNET_SGD, lr: 0.1 }, false);
        return [p.data, buf.data];
      };
      const [mine, ref] = [run(backend), run(refBackend)];
      mine.forEach((m, i) => {
        expectClose(m, ref[i] ?? [], { maxRelTol: Math.max(b.tol.gradient, 1e-7), label: `sgd ${i}` });
      });
    });

    test('T1: one official training step (loss, grad norm, weights after the step)', () => {
      const bytes = (...p: string[]): Uint8Array => new Uint8Array(readFileSync(fixturePath(...p)));
      const model = loadNnunetV1(
        bytes('stunet-forward', 'T1.model'),
        bytes('stunet-forward', 'T1.model.pkl'),
      );
      const state = createTrainingState(model.arch, model.weights, backend, new SgdOptimizer(NNUNET_SGD), {
        loss: { batchDice: false },
        clipNorm: 12,
      });
      const targets = [0, 1, 2, 3, 4].map((i) =>
        labelMapFromNpy(loadNpyFixture('train-steps', `target_${i}.npy`)),
      );
      const r = trainStep(state, tensorFromNpy(loadNpyFixture('train-steps', 'input.npy')), targets);
      const res = JSON.parse(readFileSync(fixturePath('train-steps', 'results.json'), 'utf8')) as {
        losses_per_step: number[];
        grad_norm_before_clip_per_step: number[];
      };
      expectClose(
        [r.loss, r.gradNorm],
        [res.losses_per_step[0] ?? 0, res.grad_norm_before_clip_per_step[0] ?? 0],
        { rtol: b.tol.trainStep, label: 'loss, grad norm' },
      );
      for (const [k, t] of asStateDict(loadTorch(bytes('train-steps', 'state_dict_step1.pth')))) {
        const got = state.params.get(k);
        assert.ok(got !== undefined, k);
        expectClose(got.data, tensorToFloat32(t), { maxRelTol: b.tol.trainStep, atol: 1e-6, label: k });
      }
    });
  });
}
