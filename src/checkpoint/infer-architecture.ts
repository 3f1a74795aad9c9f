import { fail } from '../util/errors.js';
import { type StunetArchitecture, stunetPoolsFromPlans } from '../model/architecture.js';
import { StuNet } from '../model/stunet.js';
import { formatShape, sameShape } from '../engine/tensor.js';
import { vec3, type Vec3 } from '../util/vec3.js';

/**
 * Recovers an STU-Net architecture from official state_dict shapes plus the plans' pool list. Depth and
 * dims are read from the weights (a checkpoint's trainer name need not be a known class), pools come
 * from the plans (they have no weights), padded/truncated to the stage count as STUNetTrainer does.
 */
export function inferArchitecture(
  shapes: ReadonlyMap<string, readonly number[]>,
  planPools: readonly (readonly number[])[],
): StunetArchitecture {
  const get = (key: string): readonly number[] => {
    const s = shapes.get(key);
    if (s === undefined) fail('BAD_INPUT', `checkpoint is not an STU-Net state_dict: it has no '${key}'`);
    return s;
  };
  const depth: number[] = [];
  const dims: number[] = [];
  const kernels: Vec3[] = [];
  for (let d = 0; shapes.has(`conv_blocks_context.${d}.0.conv1.weight`); d++) {
    let blocks = 0;
    while (shapes.has(`conv_blocks_context.${d}.${blocks}.conv1.weight`)) blocks++;
    const w = get(`conv_blocks_context.${d}.0.conv1.weight`);
    const [out] = w;
    if (w.length !== 5 || out === undefined)
      fail('BAD_INPUT', `conv_blocks_context.${d}.0.conv1.weight must be 5-D, got ${formatShape(w)}`);
    depth.push(blocks);
    dims.push(out);
    kernels.push(vec3(w.slice(2), `conv_blocks_context.${d}.0.conv1.weight kernel`));
  }
  if (dims.length < 2)
    fail(
      'BAD_INPUT',
      "checkpoint is not an STU-Net state_dict: no 'conv_blocks_context.<stage>.0.conv1.weight' entries",
    );
  const [, inputChannels] = get('conv_blocks_context.0.0.conv1.weight');
  const head = get('seg_outputs.0.weight');
  const [numClasses] = head;
  // (the first conv weight is 5-D, checked above; the rest of the head's shape by checkWeightsMatch)
  if (inputChannels === undefined || numClasses === undefined)
    fail('BAD_INPUT', `seg_outputs.0.weight must be (classes, C, 1, 1, 1), got ${formatShape(head)}`);
  const arch: StunetArchitecture = {
    inputChannels,
    numClasses,
    depth,
    dims,
    poolOpKernelSizes: stunetPoolsFromPlans(planPools, dims.length - 1),
    convKernelSizes: kernels,
  };
  checkWeightsMatch(arch, shapes);
  return arch;
}

/**
 * Strict load, like torch's load_state_dict(strict=True): every architecture key present with its exact
 * shape, and no extra keys. Errors name the key and both shapes.
 */
export function checkWeightsMatch(
  arch: StunetArchitecture,
  shapes: ReadonlyMap<string, readonly number[]>,
): void {
  const specs = new StuNet(arch).parameterSpecs();
  for (const spec of specs) {
    const s = shapes.get(spec.name);
    if (s === undefined)
      fail(
        'SHAPE_MISMATCH',
        `checkpoint lacks '${spec.name}' (architecture needs ${formatShape(spec.shape)})`,
      );
    if (!sameShape(s, spec.shape)) {
      fail(
        'SHAPE_MISMATCH',
        `'${spec.name}': checkpoint has shape ${formatShape(s)}, architecture needs ${formatShape(spec.shape)}`,
      );
    }
  }
  const known = new Set(specs.map((s) => s.name));
  const extra = [...shapes.keys()].filter((k) => !known.has(k));
  if (extra.length > 0) {
    fail(
      'SHAPE_MISMATCH',
      `checkpoint has ${extra.length} entries the architecture does not: ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ', …' : ''}`,
    );
  }
}

/** DataParallel (`module.`) and torch.compile (`_orig_mod.`) prefixes, stripped as nnU-Net does. */
export function stripWrapperPrefix(key: string): string {
  let k = key;
  for (;;) {
    if (k.startsWith('module.')) k = k.slice(7);
    else if (k.startsWith('_orig_mod.')) k = k.slice(10);
    else return k;
  }
}
