/**
 * What a checkpoint holds besides the model folder: the trainer state (epoch, the loader's position,
 * EMA and best pseudo-Dice, the per-epoch log) as JSON, and the optimizer (optimizer-state.ts). With the
 * weights, these are everything a run needs to continue bit-exactly: the training batch stream is a
 * pure function of (seed, batch index), validation batches of (seed, epoch, index), and the learning
 * rate of the epoch. Files are bytes here; src/node/train-run.ts writes them atomically.
 */
import { fail } from '../util/errors.js';
import type { LoadedModel } from '../model/loaded-model.js';
import { serializeModel, MODEL_JSON, WEIGHTS_FILE } from '../checkpoint/model-folder.js';
import type { SgdOptimizer } from './optimizer.js';
import { serializeSgd } from './optimizer-state.js';

export const TRAINER_STATE_FILE = 'trainer_state.json';
export const OPTIMIZER_FILE = 'optimizer.safetensors';
export const CHECKPOINT_NAMES = ['checkpoint_latest', 'checkpoint_best', 'checkpoint_final'] as const;
export type CheckpointName = (typeof CHECKPOINT_NAMES)[number];

/** One line of the JSON-lines log (null where a number is NaN: JSON has none). */
export interface EpochLog {
  readonly epoch: number;
  readonly trainLoss: number | null;
  readonly pseudoDice: (number | null)[];
  readonly meanPseudoDice: number | null;
  readonly emaPseudoDice: number | null;
  readonly lr: number;
  readonly seconds: number;
}

export interface TrainerState {
  readonly format: 'stunet-trainer-state';
  readonly version: 1;
  /** Epochs completed. */
  readonly epoch: number;
  readonly totalEpochs: number;
  readonly itersPerEpoch: number;
  readonly seed: number;
  /** Training batches consumed = the loader's startBatch on resume. */
  readonly batchesConsumed: number;
  readonly emaPseudoDice: number | null;
  readonly bestEmaPseudoDice: number | null;
  readonly log: EpochLog[];
}

export function initialTrainerState(totalEpochs: number, itersPerEpoch: number, seed: number): TrainerState {
  return {
    format: 'stunet-trainer-state',
    version: 1,
    epoch: 0,
    totalEpochs,
    itersPerEpoch,
    seed,
    batchesConsumed: 0,
    emaPseudoDice: null,
    bestEmaPseudoDice: null,
    log: [],
  };
}

/** NaN and ±Infinity → null (JSON.stringify would write null anyway; this makes the type say so). */
export function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

export function parseTrainerState(text: string, what = TRAINER_STATE_FILE): TrainerState {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    fail('BAD_INPUT', `${what}: not valid JSON (${(e as Error).message})`);
  }
  const s = v as Partial<TrainerState> | null;
  if (s === null || typeof s !== 'object' || s.format !== 'stunet-trainer-state' || s.version !== 1)
    fail('BAD_INPUT', `${what}: not a stunet trainer state (version 1)`);
  for (const k of ['epoch', 'totalEpochs', 'itersPerEpoch', 'seed', 'batchesConsumed'] as const)
    if (typeof s[k] !== 'number') fail('BAD_INPUT', `${what}: '${k}' must be a number`);
  if (!Array.isArray(s.log)) fail('BAD_INPUT', `${what}: 'log' must be a list`);
  return s as TrainerState;
}

/** The files of one checkpoint folder: our model folder + optimizer + trainer state. */
export function checkpointFiles(
  model: LoadedModel,
  optimizer: SgdOptimizer,
  state: TrainerState,
): { name: string; data: FileData }[] {
  const m = serializeModel(model);
  return [
    { name: WEIGHTS_FILE, data: m.weights },
    { name: OPTIMIZER_FILE, data: serializeSgd(optimizer) },
    { name: MODEL_JSON, data: m.modelJson },
    { name: TRAINER_STATE_FILE, data: `${JSON.stringify(state, null, 1)}\n` },
  ];
}

/** One JSON line per epoch. */
export function logLine(e: EpochLog): string {
  return `${JSON.stringify(e)}\n`;
}

/** The file operations checkpoint folders need (src/node/train-run.ts passes node:fs). */
/** A file's content: text, bytes, or bytes in chunks (a model larger than one buffer). */
export type FileData = Uint8Array | string | readonly Uint8Array[];

export interface CheckpointFs {
  exists(path: string): boolean;
  makeDir(path: string): void;
  /** Recursive, and quiet when the path does not exist. */
  remove(path: string): void;
  rename(from: string, to: string): void;
  write(path: string, data: FileData): void;
}

/**
 * Writes a checkpoint folder by swapping whole folders: write `dir.partial`, move the old `dir` to
 * `dir.old`, move the new one in, delete the old. A crash leaves a complete folder under `dir`, or —
 * struck between the two moves — only under `dir.old` (findCheckpointDir takes it then).
 */
export function writeCheckpointDir(
  fs: CheckpointFs,
  dir: string,
  files: readonly { name: string; data: FileData }[],
): string {
  const partial = `${dir}.partial`;
  const old = `${dir}.old`;
  fs.remove(partial);
  fs.makeDir(partial);
  for (const f of files) fs.write(`${partial}/${f.name}`, f.data);
  if (fs.exists(dir)) {
    fs.remove(old);
    fs.rename(dir, old);
  }
  fs.rename(partial, dir);
  fs.remove(old);
  return dir;
}

/** The complete folder of checkpoint `name` in `foldDir` (see writeCheckpointDir). */
export function findCheckpointDir(fs: CheckpointFs, foldDir: string, name: CheckpointName): string {
  const dir = `${foldDir}/${name}`;
  if (fs.exists(`${dir}/${TRAINER_STATE_FILE}`)) return dir;
  if (fs.exists(`${dir}.old/${TRAINER_STATE_FILE}`)) return `${dir}.old`;
  fail('NOT_FOUND', `no ${name} in '${foldDir}' to continue from`);
}
