import { fail } from '../util/errors.js';
import { map3, vec3, type Vec3 } from '../util/vec3.js';

/**
 * Everything that determines an STU-Net's parameters and forward pass (official STUNet.__init__
 * arguments). Stage count = dims.length; pools has one entry fewer.
 */
export interface StunetArchitecture {
  readonly inputChannels: number;
  readonly numClasses: number;
  /** Residual blocks per stage; the decoder stage at resolution i reuses depth[i]. */
  readonly depth: readonly number[];
  /** Channels per stage. */
  readonly dims: readonly number[];
  /** Downsampling stride between stage i and i+1 (= the nearest-upsampling factor back), per (D, H, W). */
  readonly poolOpKernelSizes: readonly Vec3[];
  /** Conv kernel per stage; STU-Net's trainers always use [3, 3, 3]. */
  readonly convKernelSizes: readonly Vec3[];
}

/** STU-Net trainers always build 5 pools: a plans' pool list is truncated or padded with [1, 1, 1]. */
export const STUNET_NUM_POOL = 5;

/** STUNetTrainer.process_plans (v1) / build_network_architecture (v2): pad/truncate strides to 5. */
export function stunetPoolsFromPlans(
  pools: readonly (readonly number[])[],
  numPool = STUNET_NUM_POOL,
): Vec3[] {
  const out: Vec3[] = pools.slice(0, numPool).map((p, i) => {
    if (p.length !== 3 || p.some((v) => !Number.isInteger(v) || v < 1)) {
      fail('BAD_INPUT', `pool_op_kernel_sizes[${i}] must be three positive integers, got [${p.join(', ')}]`);
    }
    return vec3(p, `pool_op_kernel_sizes[${i}]`);
  });
  while (out.length < numPool) out.push([1, 1, 1]);
  return out;
}

function positiveInts(what: string, xs: readonly number[]): void {
  if (xs.some((v) => !Number.isInteger(v) || v < 1))
    fail('BAD_INPUT', `${what} must be positive integers, got [${xs.join(', ')}]`);
}

/** Throws a BAD_INPUT error naming the first inconsistency. */
export function validateArchitecture(arch: StunetArchitecture): void {
  const stages = arch.dims.length;
  if (stages < 2) fail('BAD_INPUT', `an STU-Net needs at least 2 stages, got dims [${arch.dims.join(', ')}]`);
  positiveInts('dims', arch.dims);
  positiveInts('depth', arch.depth);
  positiveInts('input channels / classes', [arch.inputChannels, arch.numClasses]);
  if (arch.depth.length !== stages) {
    fail(
      'BAD_INPUT',
      `depth has ${arch.depth.length} entries but dims has ${stages}; give one depth per stage`,
    );
  }
  if (arch.poolOpKernelSizes.length !== stages - 1) {
    fail(
      'BAD_INPUT',
      `${stages} stages need ${stages - 1} pool kernel sizes, got ${arch.poolOpKernelSizes.length}`,
    );
  }
  if (arch.convKernelSizes.length !== stages) {
    fail(
      'BAD_INPUT',
      `${stages} stages need ${stages} conv kernel sizes, got ${arch.convKernelSizes.length}`,
    );
  }
  for (const p of arch.poolOpKernelSizes) positiveInts('pool kernel sizes', p);
  for (const k of arch.convKernelSizes) {
    positiveInts('conv kernel sizes', k);
    if (k.some((v) => v % 2 === 0))
      fail('BAD_INPUT', `conv kernel sizes must be odd (padding k//2 keeps the size), got [${k.join(', ')}]`);
  }
}

/** Product of the pools per axis: the patch must be divisible by it (official input_shape_must_be_divisible_by). */
export function divisibilityZYX(arch: StunetArchitecture): Vec3 {
  let f: Vec3 = [1, 1, 1];
  for (const p of arch.poolOpKernelSizes) f = map3(f, (v, a) => v * p[a]);
  return f;
}
