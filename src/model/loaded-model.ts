import type { JsonValue } from '../util/json.js';
import type { Tensor } from '../engine/tensor.js';
import type { StunetArchitecture } from './architecture.js';

/** Where a model came from; decides defaults such as the TTA aggregation. */
export type ModelOrigin = 'nnunet-v1' | 'nnunet-v2' | 'stunet';

export interface ModelMeta {
  readonly origin: ModelOrigin;
  /** Official trainer class name, e.g. STUNetTrainer_large_ft (v1 `.model.pkl` name / v2 trainer_name). */
  readonly trainerName: string | null;
  /** nnU-Net plans as JSON (v1 `.model.pkl` plans or v2 plans.json), kept for preprocessing. */
  readonly plans: JsonValue | null;
  /** v1: the plans stage used; v2: the configuration name. */
  readonly configuration: string | null;
  /** v2 dataset.json (labels, channel names), when known. */
  readonly datasetJson: JsonValue | null;
  readonly patchSizeZYX: readonly number[] | null;
  readonly mirrorAxes: readonly number[] | null;
  /** Test-time augmentation aggregation: v1 averages softmax per pass, v2 averages logits. */
  readonly aggregation: 'v1' | 'v2';
  /** The file it was read from, for provenance. */
  readonly source: string | null;
}

export interface LoadedModel {
  readonly arch: StunetArchitecture;
  /** float32 weights by official state_dict key. */
  readonly weights: Map<string, Tensor>;
  readonly meta: ModelMeta;
}

export function defaultMeta(origin: ModelOrigin = 'stunet'): ModelMeta {
  return {
    origin,
    trainerName: null,
    plans: null,
    configuration: null,
    datasetJson: null,
    patchSizeZYX: null,
    mirrorAxes: null,
    aggregation: origin === 'nnunet-v2' ? 'v2' : 'v1',
    source: null,
  };
}
