/**
 * nnU-Net v1 get_moreDA_augmentation (default_data_augmentation.py) for 3-D, as nnUNetTrainerV2 sets it
 * up — the transform order and per-sample probabilities:
 * spatial (rot p 0.2, scale p 0.2) → noise 0.1 → blur 0.2 → brightness 0.15 → contrast 0.15 →
 * low resolution 0.25 → inverted gamma 0.1 → gamma 0.3 → mirror → seg −1 → 0 → deep-supervision targets.
 */
import { downsampleSegForDs, type LabelMap } from './deep-supervision.js';
import type { Rng } from '../util/random.js';
import {
  brightnessMultiplicative,
  contrast,
  gamma,
  gaussianBlur,
  gaussianNoise,
  simulateLowResolution,
} from './intensity.js';
import { voxelCount, type Sample } from './sample.js';
import {
  applySpatial,
  augmentMirror,
  defaultSpatialParams,
  drawSpatial,
  type Range,
  type SpatialParams,
} from './spatial.js';
import type { Vec3 } from '../util/vec3.js';

export interface AugmentationParams {
  readonly spatial: SpatialParams;
  readonly pNoise: number;
  readonly noiseVariance: Range;
  readonly pBlur: number;
  readonly blurSigma: Range;
  readonly pBlurPerChannel: number;
  readonly pBrightness: number;
  readonly brightnessRange: Range;
  readonly pContrast: number;
  readonly contrastRange: Range;
  readonly pLowRes: number;
  readonly lowResZoom: Range;
  readonly pLowResPerChannel: number;
  readonly pGammaInverted: number;
  readonly pGamma: number;
  readonly gammaRange: Range;
  /** Spatial axes mirrored with probability ½ each (nnU-Net: all three). */
  readonly mirrorAxes: readonly (0 | 1 | 2)[];
}

/** The moreDA defaults for a 3-D network patch. */
export function defaultAugmentationParams(patchSizeZYX: Vec3): AugmentationParams {
  return {
    spatial: defaultSpatialParams(patchSizeZYX),
    pNoise: 0.1,
    noiseVariance: [0, 0.1],
    pBlur: 0.2,
    blurSigma: [0.5, 1],
    pBlurPerChannel: 0.5,
    pBrightness: 0.15,
    brightnessRange: [0.75, 1.25],
    pContrast: 0.15,
    contrastRange: [0.75, 1.25],
    pLowRes: 0.25,
    lowResZoom: [0.5, 1],
    pLowResPerChannel: 0.5,
    pGammaInverted: 0.1,
    pGamma: 0.3,
    gammaRange: [0.7, 1.5],
    mirrorAxes: [0, 1, 2],
  };
}

/** Names of the transforms `augmentSample` applied, in order (for tests and logs). */
export type AppliedTransform =
  | 'rotation'
  | 'scale'
  | 'noise'
  | 'blur'
  | 'brightness'
  | 'contrast'
  | 'lowres'
  | 'gamma-inverted'
  | 'gamma'
  | 'mirror-0'
  | 'mirror-1'
  | 'mirror-2';

/**
 * All augmentations for one sample (of the generator patch size); returns a new sample of the network's
 * patch size with −1 labels set to 0. `trace`, when given, receives the transforms applied.
 */
export function augmentSample(
  input: Sample,
  p: AugmentationParams,
  rng: Rng,
  trace?: AppliedTransform[],
): Sample {
  const draw = drawSpatial(p.spatial, rng);
  const s = applySpatial(input, draw, p.spatial);
  const t: AppliedTransform[] = [];
  if (draw.angles !== null) t.push('rotation');
  if (draw.scale !== null) t.push('scale');
  const maybe = (prob: number, name: AppliedTransform, f: () => unknown): void => {
    if (rng.next() < prob) {
      f();
      t.push(name);
    }
  };
  maybe(p.pNoise, 'noise', () => gaussianNoise(s, rng, p.noiseVariance));
  maybe(p.pBlur, 'blur', () => gaussianBlur(s, rng, p.blurSigma, p.pBlurPerChannel));
  maybe(p.pBrightness, 'brightness', () => brightnessMultiplicative(s, rng, p.brightnessRange));
  maybe(p.pContrast, 'contrast', () => contrast(s, rng, p.contrastRange));
  maybe(p.pLowRes, 'lowres', () => simulateLowResolution(s, rng, p.lowResZoom, p.pLowResPerChannel));
  maybe(p.pGammaInverted, 'gamma-inverted', () => gamma(s, rng, true, p.gammaRange));
  maybe(p.pGamma, 'gamma', () => gamma(s, rng, false, p.gammaRange));
  if (p.mirrorAxes.length > 0) for (const a of augmentMirror(s, p.mirrorAxes, rng)) t.push(`mirror-${a}`);
  // RemoveLabelTransform(-1, 0)
  for (let i = 0; i < s.seg.length; i++) if (s.seg[i] === -1) s.seg[i] = 0;
  trace?.push(...t);
  return s;
}

/** A training batch: data (B, C, Z, Y, X) and one label map (B, 1, …) per deep-supervision output. */
export interface TrainingBatch {
  readonly shapeBCZYX: readonly [number, number, number, number, number];
  readonly data: Float32Array;
  readonly targets: LabelMap[];
  /** Case keys, one per sample. */
  readonly keys: string[];
}

/** Stacks augmented samples and builds the deep-supervision targets (nearest, downsampleSegForDs). */
export function collate(
  samples: readonly Sample[],
  keys: string[],
  dsScales: readonly Vec3[],
): TrainingBatch {
  const first = samples[0];
  if (first === undefined)
    return { shapeBCZYX: [0, 0, 0, 0, 0], data: new Float32Array(0), targets: [], keys };
  const n = voxelCount(first.shapeZYX);
  const data = new Float32Array(samples.length * first.channels * n);
  const seg = new Float32Array(samples.length * n);
  samples.forEach((s, b) => {
    data.set(s.data, b * first.channels * n);
    seg.set(s.seg, b * n);
  });
  const [z, y, x] = first.shapeZYX;
  const full: LabelMap = { shape: [samples.length, 1, z, y, x], data: seg };
  const scales = dsScales.length > 0 ? dsScales : [[1, 1, 1] as const];
  return {
    shapeBCZYX: [samples.length, first.channels, z, y, x],
    data,
    targets: downsampleSegForDs(
      full,
      scales.map((v) => [v[0], v[1], v[2]]),
    ),
    keys,
  };
}
