import { fail } from '../util/errors.js';
import type { StunetArchitecture } from './architecture.js';
import type { Vec3 } from '../util/vec3.js';

/** The released scales (STUNetTrainer_{small,base,large,huge}); dims are base·[1, 2, 4, 8, 16, 16]. */
export const SCALES = {
  S: { depth: [1, 1, 1, 1, 1, 1], dims: [16, 32, 64, 128, 256, 256], trainer: 'STUNetTrainer_small' },
  B: { depth: [1, 1, 1, 1, 1, 1], dims: [32, 64, 128, 256, 512, 512], trainer: 'STUNetTrainer_base' },
  L: { depth: [2, 2, 2, 2, 2, 2], dims: [64, 128, 256, 512, 1024, 1024], trainer: 'STUNetTrainer_large' },
  H: { depth: [3, 3, 3, 3, 3, 3], dims: [96, 192, 384, 768, 1536, 1536], trainer: 'STUNetTrainer_huge' },
} as const;

export type ScaleName = keyof typeof SCALES;

/** Pools of the released TotalSegmentator plans (1.5 mm, patch 128³). */
export const TOTALSEG_POOLS: readonly Vec3[] = [
  [2, 2, 2],
  [2, 2, 2],
  [2, 2, 2],
  [2, 2, 2],
  [1, 1, 2],
];

export const TOTALSEG_NUM_CLASSES = 105; // 104 structures + background
export const KERNEL_3: Vec3 = [3, 3, 3];

export function isScaleName(s: string): s is ScaleName {
  return Object.hasOwn(SCALES, s);
}

export function scaleArchitecture(
  scale: string,
  overrides: Partial<StunetArchitecture> = {},
): StunetArchitecture {
  if (!isScaleName(scale)) fail('BAD_INPUT', `unknown scale '${scale}': use one of S, B, L, H`);
  const preset = SCALES[scale];
  const dims = overrides.dims ?? preset.dims;
  return {
    inputChannels: overrides.inputChannels ?? 1,
    numClasses: overrides.numClasses ?? TOTALSEG_NUM_CLASSES,
    depth: overrides.depth ?? preset.depth,
    dims,
    poolOpKernelSizes: overrides.poolOpKernelSizes ?? TOTALSEG_POOLS,
    convKernelSizes: overrides.convKernelSizes ?? dims.map(() => KERNEL_3),
  };
}

/** Recognises a released scale from depth and dims (e.g. for a converted checkpoint); null when custom. */
export function matchScale(arch: Pick<StunetArchitecture, 'depth' | 'dims'>): ScaleName | null {
  for (const [name, s] of Object.entries(SCALES) as [ScaleName, (typeof SCALES)[ScaleName]][]) {
    const same = (a: readonly number[], b: readonly number[]): boolean =>
      a.length === b.length && a.every((v, i) => v === b[i]);
    if (same(arch.depth, s.depth) && same(arch.dims, s.dims)) return name;
  }
  return null;
}
