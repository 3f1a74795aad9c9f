/**
 * What prediction takes from a loaded model: preprocessing plans (v1 `.model.pkl` plans, v2 plans.json,
 * or the released STU-Net TotalSegmentator plans for our model folders without plans), patch size, TTA
 * axes, aggregation mode and class names.
 */
import type { JsonValue } from '../util/json.js';
import { labelNames } from '../io/labels/index.js';
import { fail } from '../util/errors.js';
import type { SlidingWindowMode } from './sliding-window.js';
import type { LoadedModel } from '../model/loaded-model.js';
import { STUNET_TOTALSEG_PLANS, type PreprocessPlans } from '../preprocessing/index.js';
import type { IntensityProperties } from '../preprocessing/normalize.js';
import { vec3, type Vec3 } from '../util/vec3.js';

type Obj = { [key: string]: JsonValue };

export interface ModelDefaults {
  readonly plans: PreprocessPlans;
  readonly patchSizeZYX: Vec3;
  readonly mirrorAxes: readonly number[];
  readonly mode: SlidingWindowMode;
  readonly labelNames: string[] | null;
  /**
   * Predict in the closest canonical (RAS) orientation by default: the TotalSegmentator-pretrained STU-Net
   * models (STU-Net's 104 classes) saw only canonically oriented CTs, as TotalSegmentator reorients; a
   * model trained on the user's own data predicts in the stored orientation, as nnU-Net does.
   */
  readonly reorient: boolean;
}

const isObj = (v: JsonValue | undefined): v is Obj =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A per-modality dict ({"0": …}) or list, as a list. */
function perChannel(v: JsonValue | undefined): JsonValue[] {
  if (Array.isArray(v)) return v;
  if (isObj(v))
    return Object.keys(v)
      .sort((a, b) => Number(a) - Number(b))
      .map((k) => v[k] ?? null);
  return [];
}

function plansVec3(v: JsonValue | undefined, what: string): Vec3 {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'number'))
    fail('BAD_INPUT', `plans: ${what} must be three numbers`);
  return vec3(v as number[], `plans: ${what}`);
}

function intensity(v: JsonValue | undefined): IntensityProperties[] | null {
  const list = perChannel(v);
  if (list.length === 0) return null;
  return list.map((p) => {
    const o = isObj(p) ? p : {};
    const num = (k: string): number => (typeof o[k] === 'number' ? o[k] : NaN);
    return {
      mean: num('mean'),
      sd: Number.isNaN(num('sd')) ? num('std') : num('sd'),
      percentile_00_5: num('percentile_00_5'),
      percentile_99_5: num('percentile_99_5'),
    };
  });
}

const V2_SCHEMES: Readonly<Record<string, string>> = {
  CTNormalization: 'CT',
  ZScoreNormalization: 'nonCT',
  NoNormalization: 'noNorm',
};

function plansFrom(plans: JsonValue | null, configuration: string | null): PreprocessPlans {
  if (!isObj(plans)) return STUNET_TOTALSEG_PLANS;
  const v2 = plans['configurations'];
  if (isObj(v2)) {
    const c = v2[configuration ?? '3d_fullres'] ?? v2['3d_fullres'];
    if (!isObj(c)) fail('BAD_INPUT', `plans: no configuration '${configuration ?? '3d_fullres'}'`);
    return {
      normalizationSchemes: perChannel(c['normalization_schemes']).map((s) => {
        const name = typeof s === 'string' ? s : JSON.stringify(s);
        return V2_SCHEMES[name] ?? name;
      }),
      useMaskForNorm: perChannel(c['use_mask_for_norm']).map((b) => b === true),
      transposeForward: plansVec3(plans['transpose_forward'] ?? [0, 1, 2], 'transpose_forward'),
      targetSpacing: plansVec3(c['spacing'], 'spacing'),
      intensityProperties: intensity(plans['foreground_intensity_properties_per_channel']),
    };
  }
  const stages = plans['plans_per_stage'];
  const stageKeys = isObj(stages) ? Object.keys(stages) : [];
  const stage = isObj(stages) ? stages[configuration ?? stageKeys[stageKeys.length - 1] ?? '0'] : undefined;
  if (!isObj(stage)) return STUNET_TOTALSEG_PLANS;
  const props = plans['dataset_properties'];
  return {
    normalizationSchemes: perChannel(plans['normalization_schemes']).map(String),
    useMaskForNorm: perChannel(plans['use_mask_for_norm']).map((b) => b === true),
    transposeForward: plansVec3(plans['transpose_forward'] ?? [0, 1, 2], 'transpose_forward'),
    targetSpacing: plansVec3(stage['current_spacing'], 'current_spacing'),
    intensityProperties: isObj(props) ? intensity(props['intensityproperties']) : null,
  };
}

function namesFromDataset(ds: JsonValue | null, classes: number): string[] | null {
  if (!isObj(ds) || !isObj(ds['labels'])) return null;
  const names = Array.from({ length: classes }, (_, i) => `label_${i}`);
  for (const [k, v] of Object.entries(ds['labels'])) {
    // v2: {"name": index}; v1: {"index": "name"}
    if (typeof v === 'number' && v < classes) names[v] = k;
    else if (typeof v === 'string' && Number(k) < classes) names[Number(k)] = v;
  }
  return names;
}

export function modelDefaults(model: LoadedModel): ModelDefaults {
  const m = model.meta;
  const names = namesFromDataset(m.datasetJson, model.arch.numClasses);
  const p = m.patchSizeZYX;
  return {
    plans: plansFrom(m.plans, m.configuration),
    patchSizeZYX: p !== null ? vec3(p, 'model patch size') : [128, 128, 128],
    mirrorAxes: m.mirrorAxes ?? [0, 1, 2],
    mode: m.aggregation === 'v2' ? 'v2-upstream' : 'v1',
    labelNames: names,
    reorient: isTotalSegmentatorModel(model.arch.numClasses, names),
  };
}

/** STU-Net's 104 TotalSegmentator classes, by count and, where the model names its classes, by name. */
function isTotalSegmentatorModel(classes: number, names: readonly string[] | null): boolean {
  const stunet = labelNames('stunet104');
  return classes === stunet.length && (names === null || names.every((n, i) => i === 0 || n === stunet[i]));
}
