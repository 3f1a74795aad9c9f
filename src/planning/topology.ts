/**
 * Network topology rules of nnU-Net v2 (experiment_planners/network_topology.py) and the VRAM proxy of
 * dynamic_network_architectures (PlainConvUNet.compute_conv_feature_map_size). Axes are in plans order.
 */

/** `get_shape_must_be_divisible_by` + `pad_shape`: round each size up to a multiple of its divisor. */
export function padShape(shape: readonly number[], divisibleBy: readonly number[]): number[] {
  return shape.map((s, i) => {
    const d = divisibleBy[i] ?? 1;
    // python float modulo keeps the sign of the divisor; sizes are positive here
    const r = s % d;
    return Math.trunc(r === 0 ? s : s + d - r);
  });
}

export interface PoolAndConvProps {
  numPoolPerAxis: number[];
  /** Starts with [1, 1, 1] (the first stage does not pool), as in nnU-Net's plans. */
  poolOpKernelSizes: number[][];
  /** One per stage (the bottleneck's is always 3s). */
  convKernelSizes: number[][];
  patchSize: number[];
  shapeMustBeDivisibleBy: number[];
}

/**
 * `get_pool_and_conv_props(spacing, patch_size, min_feature_map_size, max_numpool)`: pool every axis whose
 * spacing is within 2× of the finest valid one and whose size is still ≥ 2·min edge, until none is left;
 * a lone axis pools only while ≥ 3·min edge. Kernels become 3 once an axis is within 2× of the finest.
 * Worked example: spacing 1 mm, patch 128³, min edge 4 → five pools of [2, 2, 2] (128 → 4), patch 128³.
 */
export function getPoolAndConvProps(
  spacing: readonly number[],
  patchSize: readonly number[],
  minFeatureMapSize = 4,
  maxNumPool = 999999,
): PoolAndConvProps {
  const dim = spacing.length;
  const currentSpacing = [...spacing];
  const currentSize = [...patchSize];
  const pools: number[][] = [Array.from({ length: dim }, () => 1)];
  const convs: number[][] = [];
  const numPool = Array.from({ length: dim }, () => 0);
  const kernel = Array.from({ length: dim }, () => 1);
  const axes = [...Array(dim).keys()];
  for (;;) {
    let valid = axes.filter((i) => (currentSize[i] ?? 0) >= 2 * minFeatureMapSize);
    if (valid.length < 1) break;
    const minSpacingValid = Math.min(...valid.map((i) => currentSpacing[i] ?? Infinity));
    valid = valid.filter((i) => (currentSpacing[i] ?? 0) / minSpacingValid < 2);
    valid = valid.filter((i) => (numPool[i] ?? 0) < maxNumPool);
    if (valid.length === 1 && (currentSize[valid[0] ?? 0] ?? 0) < 3 * minFeatureMapSize) break;
    if (valid.length < 1) break;
    const minSpacing = Math.min(...currentSpacing);
    for (const d of axes) if (kernel[d] !== 3 && (currentSpacing[d] ?? 0) / minSpacing < 2) kernel[d] = 3;
    const pool = axes.map((d) => (valid.includes(d) ? 2 : 1));
    for (const v of valid) {
      numPool[v] = (numPool[v] ?? 0) + 1;
      currentSpacing[v] = (currentSpacing[v] ?? 0) * 2;
      currentSize[v] = Math.ceil((currentSize[v] ?? 0) / 2);
    }
    pools.push(pool);
    convs.push([...kernel]);
  }
  const divisible = numPool.map((n) => 2 ** n);
  convs.push(Array.from({ length: dim }, () => 3));
  return {
    numPoolPerAxis: numPool,
    poolOpKernelSizes: pools,
    convKernelSizes: convs,
    patchSize: padShape(patchSize, divisible),
    shapeMustBeDivisibleBy: divisible,
  };
}

export interface PlainUNetSpec {
  readonly featuresPerStage: readonly number[];
  /** Per stage, [1, 1, 1] first. */
  readonly strides: readonly (readonly number[])[];
  readonly nConvPerStage: readonly number[];
  readonly nConvPerStageDecoder: readonly number[];
  readonly numClasses: number;
  readonly deepSupervision: boolean;
}

/**
 * PlainConvUNet.compute_conv_feature_map_size(input_size): the number of feature-map elements its convs,
 * transposed convs and segmentation heads produce (no batch). The planner compares it with a reference
 * value (560e6 for 8 GB at batch 2), i.e. it stands in for memory.
 */
export function convFeatureMapSize(spec: PlainUNetSpec, inputSize: readonly number[]): number {
  const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);
  const div = (size: readonly number[], stride: readonly number[]): number[] =>
    size.map((s, i) => Math.floor(s / (stride[i] ?? 1)));
  let out = 0;
  let size = [...inputSize];
  spec.strides.forEach((stride, s) => {
    size = div(size, stride);
    out += (spec.nConvPerStage[s] ?? 0) * (spec.featuresPerStage[s] ?? 0) * prod(size);
  });
  // decoder: skip sizes of every stage but the bottleneck
  const skips: number[][] = [];
  size = [...inputSize];
  for (let s = 0; s < spec.strides.length - 1; s++) {
    size = div(size, spec.strides[s] ?? []);
    skips.push(size);
  }
  const nDec = spec.strides.length - 1;
  for (let s = 0; s < nDec; s++) {
    const skip = skips[nDec - 1 - s] ?? [];
    const feats = spec.featuresPerStage[spec.featuresPerStage.length - 2 - s] ?? 0;
    out += (spec.nConvPerStageDecoder[s] ?? 0) * feats * prod(skip); // conv blocks
    out += feats * prod(skip); // transposed conv
    if (spec.deepSupervision || s === nDec - 1) out += spec.numClasses * prod(skip);
  }
  return out;
}
