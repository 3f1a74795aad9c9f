/**
 * `stunet train` end to end over a TrainHost (files, engine, loaders): dataset → plans (planned here unless given) → preprocessed cache →
 * fold split → architecture and weights (fresh, pre-trained, or the latest checkpoint) → memory check →
 * loader → runTraining (src/training/trainer.ts) with checkpoints, JSON-lines log and curve →
 * checkpoint_final (our model folder, plans in its meta) → optional sliding-window validation with
 * summary.json. The steps live in train-setup.ts (options, plans, architecture, cache, split),
 * train-checkpoints.ts (fold files, starting point, clean-up after a kill), train-data.ts (cases in
 * memory or read per patch from the cache, loaders) and train-validation.ts. Layout of `outDir`:
 *   plans.json, splits_final.json, preprocessed/ (the cache),
 *   fold_N/ {checkpoint_latest, checkpoint_best, checkpoint_final}/ (model.json, weights.safetensors,
 *            optimizer.safetensors, trainer_state.json), log.jsonl, progress.png, validation/
 */
import { toJsonValue } from '../util/json.js';
import type { Backend } from '../engine/backend.js';
import { refBackend } from '../engine/backends/ref/index.js';
import { defaultMeta, type LoadedModel } from '../model/loaded-model.js';
import type { TrainerState } from '../training/checkpointing.js';
import { createTrainingState } from '../training/train-step.js';
import { runTraining, type TrainerHooks } from '../training/trainer.js';
import { removeLeftovers, saveCheckpoint, saveEpochOutputs, startingPoint } from './train-checkpoints.js';
import { openTrainingData, type TrainingData } from './train-data.js';
import { setUpRun, type TrainRunOptions } from './train-setup.js';
import type { TrainHost } from './train-host.js';
import { describeEpoch, describeRun, describeValidation, estimatingProgress } from './train-report.js';
import { validateFold } from './train-validation.js';

export { checkpointDir, removeLeftovers, saveCheckpoint, saveEpochOutputs } from './train-checkpoints.js';
export { IN_MEMORY_CASES_BYTES } from './train-data.js';
export type { TrainRunOptions } from './train-setup.js';
export type { TrainHost, WorkerLoaderRequest } from './train-host.js';

export interface TrainRunResult {
  readonly foldDir: string;
  /** checkpoint_final: the model folder for `stunet predict -m`. */
  readonly modelDir: string;
  readonly state: TrainerState;
  readonly summaryPath: string | null;
}

async function openBackend(
  host: TrainHost,
  o: TrainRunOptions,
): Promise<{ backend: Backend; close: () => Promise<void> }> {
  if (o.backend === 'ref') return { backend: refBackend, close: () => Promise.resolve() };
  const be = await host.runtime.createWasmBackend(o.threads === undefined ? {} : { threads: o.threads });
  return { backend: be, close: () => be.close() };
}

export async function trainRun(host: TrainHost, o: TrainRunOptions): Promise<TrainRunResult> {
  const { store } = host;
  const log = o.log ?? ((): void => undefined);
  const s = setUpRun(host, o, log);
  const { arch, foldDir, cfg } = s;
  removeLeftovers(store, foldDir);
  const start = startingPoint(store, o, s, log);
  for (const line of describeRun(s)) log(line);
  const { optimizer } = start;
  const meta = {
    ...defaultMeta('stunet'),
    trainerName: o.pretrained !== undefined ? 'stunet finetune' : 'stunet train',
    plans: toJsonValue(s.plans),
    configuration: '3d_fullres',
    datasetJson: toJsonValue(s.desc.json.raw),
    patchSizeZYX: [...s.patch],
    mirrorAxes: [0, 1, 2],
  };
  const { backend, close } = await openBackend(host, o);
  let data: TrainingData | null = null;
  try {
    const training = createTrainingState(arch, start.weights, backend, optimizer, {
      loss: { batchDice: false },
      clipNorm: 12,
    });
    const model = (): LoadedModel => ({ arch, weights: training.params, meta });
    data = openTrainingData(host, o, s, start.state.batchesConsumed);
    if (!data.inMemory) log('cases are read patch by patch from the preprocessed cache');
    const hooks: TrainerHooks = {
      trainLoader: data.trainLoader,
      valBatch: data.valBatch,
      onEpochEnd: (state: TrainerState, improved: boolean) => {
        saveCheckpoint(store, foldDir, 'checkpoint_latest', model(), optimizer, state);
        if (improved) saveCheckpoint(store, foldDir, 'checkpoint_best', model(), optimizer, state);
        saveEpochOutputs(store, foldDir, state);
        const e = state.log[state.log.length - 1];
        if (e !== undefined) log(describeEpoch(e, cfg.epochs));
      },
      onProgress: estimatingProgress(s, start.state.epoch, log, o.onProgress),
      ...(o.signal ? { signal: o.signal } : {}),
    };
    const until = o.stopAfterEpochs === undefined ? cfg.epochs : start.state.epoch + o.stopAfterEpochs;
    const state = await runTraining(training, start.state, cfg, hooks, until);
    const modelDir = store.join(foldDir, 'checkpoint_final');
    if (state.epoch < cfg.epochs) return { foldDir, modelDir, state, summaryPath: null };
    saveCheckpoint(store, foldDir, 'checkpoint_final', model(), optimizer, state);
    let summaryPath: string | null = null;
    if (o.finalValidation !== false) {
      const validation = await validateFold(
        store,
        o.datasetDir,
        s.desc,
        s.split.val,
        model(),
        backend,
        store.join(foldDir, 'validation'),
        {
          tta: o.validationTta !== false,
          ...(o.onProgress ? { onProgress: o.onProgress } : {}),
        },
      );
      summaryPath = validation.path;
      log(describeValidation(validation.summary, s.split.val.length, summaryPath));
    }
    return { foldDir, modelDir, state, summaryPath };
  } finally {
    await data?.close();
    await close();
  }
}
