/**
 * nnU-Net v1.7.1 `GenericPreprocessor.preprocess_test_case` on an image already in nnU-Net's array
 * convention (see io/volume.ts): crop to nonzero → transpose_forward → NaN → 0 → resample_patient to the
 * stage's target spacing → seg[seg < −1] = 0 → normalise. Normalisation comes AFTER resampling, as in
 * `resample_and_normalize`.
 */
import { fail } from '../util/errors.js';
import type { Volume } from '../io/volume.js';
import { imageCropperCrop, type BBox3 } from './crop.js';
import { normalizeIntensities, type IntensityProperties } from './normalize.js';
import { planResampling, resampleData, resampleSeg, SEPARATE_Z_ANISOTROPY_THRESHOLD } from './resample.js';
import type { Vec3 } from '../util/vec3.js';

/** The plan entries preprocessing reads (nnU-Net v1 plans keys in the comments). */
export interface PreprocessPlans {
  /** plans['normalization_schemes'], per modality. */
  readonly normalizationSchemes: readonly string[];
  /** plans['use_mask_for_norm'], per modality. */
  readonly useMaskForNorm: readonly boolean[];
  /** plans['transpose_forward']. */
  readonly transposeForward: Vec3;
  /** plans['plans_per_stage'][stage]['current_spacing'] (already in transposed order), mm. */
  readonly targetSpacing: Vec3;
  /** plans['dataset_properties']['intensityproperties'], per modality; needed for 'CT'. */
  readonly intensityProperties?: readonly IntensityProperties[] | null;
  /** GenericPreprocessor: 3 and 1 (PreprocessorFor2D / linearResampling variants differ). */
  readonly resampleOrderData?: number;
  readonly resampleOrderSeg?: number;
}

/** The released STU-Net TotalSegmentator plans (plan_files/*_ep4k.model.pkl, identical for S/B/L/H). */
export const STUNET_TOTALSEG_PLANS: PreprocessPlans = {
  normalizationSchemes: ['nonCT'],
  useMaskForNorm: [false],
  transposeForward: [0, 1, 2],
  targetSpacing: [1.5, 1.5, 1.5],
  intensityProperties: null,
};

/** The properties nnU-Net keeps to map predictions back (its own key names, un-transposed values). */
export interface PreprocessProperties {
  original_size_of_raw_data: [number, number, number];
  original_spacing: [number, number, number];
  crop_bbox: BBox3;
  classes: number[];
  size_after_cropping: [number, number, number];
  /** Transposed order. */
  size_after_resampling: [number, number, number];
  spacing_after_resampling: [number, number, number];
}

export interface PreprocessOptions {
  /** A reference segmentation to carry along (labels as integers). */
  readonly seg?: Volume<Int16Array>;
  /** Also resample and return the seg / nonzero-mask marker (default true; prediction does not need it). */
  readonly returnSeg?: boolean;
  /** resample_and_normalize's force_separate_z (default null: decide from the spacings). */
  readonly forceSeparateZ?: boolean | null;
}

export interface PreprocessResult {
  /** (C, Z', Y', X') float32, normalised. */
  readonly data: Volume;
  /** (C_seg, Z', Y', X'): the resampled seg, or the nonzero marker (−1 outside, 0 inside); null if not asked. */
  readonly seg: Volume<Int16Array> | null;
  readonly properties: PreprocessProperties;
}

/** [v[perm[0]], v[perm[1]], v[perm[2]]] (numpy fancy indexing with transpose_forward). */
function permute(v: Vec3, perm: Vec3): [number, number, number] {
  const at = (i: number): number => {
    const x = v[i];
    if (x === undefined) fail('BAD_INPUT', `preprocess: transpose_forward index ${i} out of range`);
    return x;
  };
  return [at(perm[0]), at(perm[1]), at(perm[2])];
}

function transpose<T extends Float32Array | Int16Array>(
  vol: Volume<T>,
  perm: Vec3,
  make: (n: number) => T,
): Volume<T> {
  if (perm[0] === 0 && perm[1] === 1 && perm[2] === 2) return vol;
  const [c, ...d] = vol.shape;
  const nd = permute(d, perm);
  const [s0, s1, s2] = permute([d[1] * d[2], d[2], 1], perm);
  const n = d[0] * d[1] * d[2];
  const out = make(vol.data.length);
  let o = 0;
  for (let ch = 0; ch < c; ch++) {
    for (let i = 0; i < nd[0]; i++)
      for (let j = 0; j < nd[1]; j++)
        for (let k = 0; k < nd[2]; k++) out[o++] = vol.data[ch * n + i * s0 + j * s1 + k * s2] as number;
  }
  return { data: out, shape: [c, nd[0], nd[1], nd[2]] };
}

/**
 * Preprocesses one case for inference. `volume` is (C, Z, Y, X) float32 as read (SimpleITK order),
 * `spacingZYX` its spacing. The input is not modified.
 */
export function preprocessTestCase(
  volume: Volume,
  spacingZYX: Vec3,
  plans: PreprocessPlans = STUNET_TOTALSEG_PLANS,
  opts: PreprocessOptions = {},
): PreprocessResult {
  const perm = plans.transposeForward;
  if ([...perm].sort().join() !== '0,1,2')
    fail('BAD_INPUT', `preprocess: transpose_forward [${perm.join(', ')}] is not a permutation`);
  const [, z, y, x] = volume.shape;
  const cropped = imageCropperCrop(volume, opts.seg ?? null);
  const data = transpose(cropped.data, perm, (n) => new Float32Array(n));
  let seg: Volume<Int16Array> | null = transpose(cropped.seg, perm, (n) => new Int16Array(n));
  // NaN → 0 (after cropping: NaN counted as nonzero for the mask).
  for (let i = 0; i < data.data.length; i++) if (Number.isNaN(data.data[i])) data.data[i] = 0;

  const spacingT = permute(spacingZYX, perm);
  const plan = planResampling(
    [data.shape[1], data.shape[2], data.shape[3]],
    spacingT,
    plans.targetSpacing,
    opts.forceSeparateZ ?? null,
    SEPARATE_Z_ANISOTROPY_THRESHOLD,
  );
  const common = { axis: plan.axis, doSeparateZ: plan.doSeparateZ, orderZ: 0 };
  const resampled = resampleData(data, plan.newShape, { ...common, order: plans.resampleOrderData ?? 3 });
  const needSeg = opts.returnSeg !== false || plans.useMaskForNorm.some((u) => u);
  if (needSeg) {
    seg = resampleSeg(seg, plan.newShape, { ...common, order: plans.resampleOrderSeg ?? 1 });
    for (let i = 0; i < seg.data.length; i++) if ((seg.data[i] as number) < -1) seg.data[i] = 0;
  } else {
    seg = null;
  }
  const normalized = normalizeIntensities(resampled, seg, {
    schemes: plans.normalizationSchemes,
    useNonzeroMask: plans.useMaskForNorm,
    intensityProperties: plans.intensityProperties ?? null,
  });
  return {
    data: normalized,
    seg: opts.returnSeg === false ? null : seg,
    properties: {
      original_size_of_raw_data: [z, y, x],
      original_spacing: [spacingZYX[0], spacingZYX[1], spacingZYX[2]],
      crop_bbox: cropped.properties.crop_bbox,
      classes: cropped.properties.classes,
      size_after_cropping: cropped.properties.size_after_cropping,
      size_after_resampling: [plan.newShape[0], plan.newShape[1], plan.newShape[2]],
      spacing_after_resampling: [plans.targetSpacing[0], plans.targetSpacing[1], plans.targetSpacing[2]],
    },
  };
}
