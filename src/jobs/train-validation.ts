/**
 * The end of `stunet train`: sliding-window validation of the fold's validation cases from the raw
 * dataset (as nnU-Net's perform_actual_validation), their label NIfTIs and summary.json.
 */
import type { Backend } from '../engine/backend.js';
import { summarize, summaryToJson, type CaseResult, type Summary } from '../evaluation/index.js';
import { fail } from '../util/errors.js';
import type { DatasetDescription } from '../io/dataset.js';
import { writeNifti } from '../io/nifti.js';
import { volumeToNifti } from '../io/nifti-volume.js';
import type { LoadedModel } from '../model/loaded-model.js';
import { evalNetwork, validateCase } from '../training/validation.js';
import type { ProgressListener } from '../util/progress.js';
import { readCaseVolume } from './datasets.js';
import type { FileStore } from './store.js';
import { modelDefaults } from '../inference/model-defaults.js';

/** Sliding-window prediction of the validation cases, their NIfTIs and summary.json; returns it and its path. */
export async function validateFold(
  store: FileStore,
  datasetDir: string,
  desc: DatasetDescription,
  keys: readonly string[],
  model: LoadedModel,
  backend: Backend,
  outDir: string,
  opts: { tta: boolean; onProgress?: ProgressListener },
): Promise<{ path: string; summary: Summary }> {
  const network = evalNetwork(model.arch, model.weights, backend);
  const d = modelDefaults(model);
  const labels = desc.json.labels.allLabels.filter((v) => v > 0);
  const cases: CaseResult[] = [];
  for (const [i, key] of keys.entries()) {
    opts.onProgress?.({ stage: 'validation', done: i, total: keys.length, message: key });
    const c = desc.cases.find((x) => x.id === key);
    if (c === undefined) fail('NOT_FOUND', `validation case ${key} is not in the dataset`);
    const { volume, spacingZYX, label } = readCaseVolume(store, datasetDir, c);
    const [, z, y, x] = volume.shape;
    const r = await validateCase(volume, spacingZYX, label.data, labels, {
      network,
      inputChannels: model.arch.inputChannels,
      patchSizeZYX: d.patchSizeZYX,
      plans: d.plans,
      mode: d.mode,
      mirrorAxes: opts.tta ? d.mirrorAxes : [],
    });
    const predPath = store.join(outDir, `${key}${desc.json.fileEnding}`);
    const nifti = writeNifti(volumeToNifti({ data: r.labels, shape: [1, z, y, x] }, label));
    store.writeAll([{ path: predPath, data: nifti }]);
    cases.push({
      reference_file: store.join(datasetDir, c.label ?? ''),
      prediction_file: predPath,
      metrics: r.metrics,
    });
  }
  opts.onProgress?.({ stage: 'validation', done: keys.length, total: keys.length });
  const path = store.join(outDir, 'summary.json');
  const summary = summarize(cases);
  store.writeAll([{ path, data: summaryToJson(summary) }]);
  return { path, summary };
}
