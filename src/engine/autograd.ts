/**
 * Reverse-mode autograd over the engine's Tape. The backward pass is one loop over the tape in reverse
 * (no recursion, so depth never matters); every gradient it computes comes from a Backend kernel, so a new
 * backend only has to provide the kernels listed in `TrainingBackend`.
 *
 * Memory policy: the tape is consumed — each entry is popped before its gradients are computed, which
 * drops the tape's reference to the activations it kept; each intermediate gradient is deleted as soon
 * as the op that produced its tensor has been processed. Only the gradients of `wrt` survive.
 * Tensors that received no gradient (e.g. a deep-supervision head with loss weight 0) get no entry in the
 * result — as torch leaves `.grad` None — so an optimizer can skip them exactly as torch does.
 */
import type { Backend } from './backend.js';
import type { Tape, TapeEntry } from './engine.js';
import type { Tensor } from './tensor.js';
import { formatShape, sameShape } from './tensor.js';
import { fail } from '../util/errors.js';

const TRAINING_KERNELS = [
  'conv3dBackwardData',
  'conv3dBackwardWeight',
  'instanceNormBackward',
  'leakyReluBackward',
  'upsampleNearestBackward',
  'slice',
  'sgdUpdate',
] as const;

type TrainingKernel = (typeof TRAINING_KERNELS)[number];

/** A backend that implements every kernel training needs. */
export type TrainingBackend = Backend & Required<Pick<Backend, TrainingKernel>>;

export function hasTrainingKernels(backend: Backend): backend is TrainingBackend {
  return TRAINING_KERNELS.every((k) => typeof backend[k] === 'function');
}

/** The backend, narrowed; a backend without the backward kernels is refused by name. */
export function requireTrainingBackend(backend: Backend): TrainingBackend {
  if (hasTrainingKernels(backend)) return backend;
  const missing = TRAINING_KERNELS.filter((k) => typeof backend[k] !== 'function');
  fail(
    'UNSUPPORTED',
    `backend '${backend.name}' cannot train: it lacks ${missing.join(', ')}; use the 'ref' backend`,
  );
}

export interface BackwardStats {
  /** Most bytes of gradient tensors alive at once during the pass (float32, includes `wrt` grads). */
  peakGradBytes: number;
}

/**
 * Runs the backward pass. `seeds` pairs recorded outputs with dL/d(output) (same shapes); `wrt` are the
 * leaves whose gradients are wanted (parameters). Returns dL/d(t) for every t in `wrt` that the seeds
 * reach. Consumes `tape`.
 */
export function backward(
  tape: Tape,
  seeds: Iterable<readonly [Tensor, Tensor]>,
  wrt: readonly Tensor[],
  backendIn: Backend,
  stats?: BackwardStats,
): Map<Tensor, Tensor> {
  const backend = requireTrainingBackend(backendIn);
  const keep = new Set(wrt);
  const needs = needsGradient(tape.entries, keep);
  const grads = new Map<Tensor, Tensor>();
  // Live gradient bytes, counting a tensor shared by several entries (add's dy) once.
  const refs = new Map<Tensor, number>();
  let live = 0;
  const hold = (g: Tensor): void => {
    const n = refs.get(g) ?? 0;
    refs.set(g, n + 1);
    if (n > 0) return;
    live += 4 * g.size;
    if (stats !== undefined && live > stats.peakGradBytes) stats.peakGradBytes = live;
  };
  const release = (g: Tensor): void => {
    const n = (refs.get(g) ?? 1) - 1;
    if (n > 0) refs.set(g, n);
    else {
      refs.delete(g);
      live -= 4 * g.size;
    }
  };
  const accumulate = (t: Tensor | null, g: Tensor): void => {
    if (t === null || !needs.has(t)) return;
    const prev = grads.get(t);
    hold(g);
    if (prev === undefined) {
      grads.set(t, g);
      return;
    }
    const sum = backend.add(prev, g);
    hold(sum);
    grads.set(t, sum);
    release(prev);
    release(g);
  };
  for (const [y, dy] of seeds) {
    if (!sameShape(y.shape, dy.shape))
      fail('SHAPE_MISMATCH', `backward: seed ${formatShape(dy.shape)} for output ${formatShape(y.shape)}`);
    accumulate(y, dy);
  }
  for (let e = tape.entries.pop(); e !== undefined; e = tape.entries.pop()) {
    const dy = grads.get(e.output);
    if (dy === undefined) continue; // nothing downstream of this op reaches the loss
    backwardEntry(e, dy, backend, needs, accumulate);
    if (!keep.has(e.output)) {
      grads.delete(e.output);
      release(dy);
    }
  }
  const out = new Map<Tensor, Tensor>();
  for (const t of wrt) {
    const g = grads.get(t);
    if (g !== undefined) out.set(t, g);
  }
  return out;
}

/** Tensors on a path from a `wrt` leaf to some output: only these need gradients. */
function needsGradient(entries: readonly TapeEntry[], leaves: ReadonlySet<Tensor>): Set<Tensor> {
  const needs = new Set<Tensor>(leaves);
  for (const e of entries) {
    if (e.inputs.some((t) => t !== null && needs.has(t))) needs.add(e.output);
  }
  return needs;
}

function backwardEntry(
  e: TapeEntry,
  dy: Tensor,
  backend: TrainingBackend,
  needs: ReadonlySet<Tensor>,
  accumulate: (t: Tensor | null, g: Tensor) => void,
): void {
  switch (e.op) {
    case 'conv3d': {
      const [x, w, b] = e.inputs;
      if (needs.has(x)) accumulate(x, backend.conv3dBackwardData(dy, w, e.attrs, x.shape));
      if (needs.has(w) || (b !== null && needs.has(b))) {
        const { dWeight, dBias } = backend.conv3dBackwardWeight(x, dy, e.attrs, w.shape);
        accumulate(w, dWeight);
        accumulate(b, dBias);
      }
      return;
    }
    case 'instanceNorm': {
      const [x, w, b] = e.inputs;
      const g = backend.instanceNormBackward(x, w, dy, e.attrs.eps);
      accumulate(x, g.dx);
      accumulate(w, g.dWeight);
      accumulate(b, g.dBias);
      return;
    }
    case 'leakyRelu': {
      const [x] = e.inputs;
      if (needs.has(x)) accumulate(x, backend.leakyReluBackward(x, dy, e.attrs.negativeSlope));
      return;
    }
    case 'add': {
      // Kernels never mutate inputs, so both summands may share dy.
      accumulate(e.inputs[0], dy);
      accumulate(e.inputs[1], dy);
      return;
    }
    case 'concat': {
      let start = 0;
      for (const x of e.inputs) {
        const size = x.shape[e.attrs.axis];
        if (size === undefined)
          fail('SHAPE_MISMATCH', `concat: axis ${e.attrs.axis} of ${formatShape(x.shape)}`);
        if (needs.has(x)) accumulate(x, backend.slice(dy, e.attrs.axis, start, size));
        start += size;
      }
      return;
    }
    case 'upsampleNearest': {
      const [x] = e.inputs;
      if (needs.has(x)) accumulate(x, backend.upsampleNearestBackward(dy, e.attrs.scale, x.shape));
      return;
    }
  }
}
