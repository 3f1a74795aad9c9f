/**
 * Our model folder: `model.json` (architecture, meta, provenance) + `weights.safetensors` (float32, official
 * state_dict keys). Bytes in, bytes out; src/node/model-source.ts does the file system.
 */
import { checkWeightsMatch } from './infer-architecture.js';
import type { JsonValue } from '../util/json.js';
import { readSafetensors, writeSafetensorsChunks } from './safetensors.js';
import type { ByteSource } from './zip.js';
import { tensorToFloat32 } from './tensor.js';
import { fail } from '../util/errors.js';
import { Tensor } from '../engine/tensor.js';
import { type StunetArchitecture, validateArchitecture } from '../model/architecture.js';
import { defaultMeta, type LoadedModel, type ModelMeta } from '../model/loaded-model.js';
import { matchScale } from '../model/scales.js';
import { StuNet } from '../model/stunet.js';
import type { Vec3 } from '../util/vec3.js';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_FILE = 'weights.safetensors';
export const FORMAT = 'stunet-model';
export const FORMAT_VERSION = 1;

export interface ModelFolderFiles {
  readonly modelJson: string;
  /** weights.safetensors in chunks (the header, then each tensor's bytes uncopied): any model size. */
  readonly weights: Uint8Array[];
}

export function serializeModel(model: LoadedModel, producer = 'stunet'): ModelFolderFiles {
  const net = new StuNet(model.arch);
  checkWeightsMatch(model.arch, new Map([...model.weights].map(([k, t]) => [k, t.shape])));
  const ordered = net.parameterSpecs().map((s) => {
    const t = model.weights.get(s.name) as Tensor;
    return [s.name, { dtype: 'float32' as const, shape: t.shape, data: t.data }] as const;
  });
  const json = {
    format: FORMAT,
    formatVersion: FORMAT_VERSION,
    scale: matchScale(model.arch),
    architecture: model.arch,
    parameters: net.parameterCount(),
    weights: { file: WEIGHTS_FILE, dtype: 'float32' },
    meta: model.meta,
    producer,
  };
  return {
    modelJson: `${JSON.stringify(json, null, 2)}\n`,
    weights: writeSafetensorsChunks(ordered, { format: 'pt', producer }),
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An architecture from its JSON form (model.json's `architecture`, an exported ONNX's metadata), checked. */
export function readArchitecture(v: unknown, where: string = MODEL_JSON): StunetArchitecture {
  if (!isRecord(v)) fail('BAD_INPUT', `${where}: 'architecture' must be an object`);
  const ints = (k: string): number[] => {
    const x = v[k];
    if (!Array.isArray(x) || !x.every((n) => Number.isInteger(n)))
      fail('BAD_INPUT', `${where}: architecture.${k} must be a list of integers`);
    return x as number[];
  };
  const vecs = (k: string): Vec3[] => {
    const x = v[k];
    if (
      !Array.isArray(x) ||
      !x.every((r) => Array.isArray(r) && r.length === 3 && r.every((n) => Number.isInteger(n)))
    ) {
      fail('BAD_INPUT', `${where}: architecture.${k} must be a list of [z, y, x] integer triples`);
    }
    return x as Vec3[];
  };
  const int = (k: string): number => {
    const x = v[k];
    if (!Number.isInteger(x)) fail('BAD_INPUT', `${where}: architecture.${k} must be an integer`);
    return x as number;
  };
  const arch: StunetArchitecture = {
    inputChannels: int('inputChannels'),
    numClasses: int('numClasses'),
    depth: ints('depth'),
    dims: ints('dims'),
    poolOpKernelSizes: vecs('poolOpKernelSizes'),
    convKernelSizes: vecs('convKernelSizes'),
  };
  validateArchitecture(arch);
  return arch;
}

function readModelJson(modelJson: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(modelJson);
  } catch (e) {
    fail('BAD_INPUT', `${MODEL_JSON} is not valid JSON: ${(e as Error).message}`);
  }
  if (!isRecord(doc) || doc['format'] !== FORMAT)
    fail('BAD_INPUT', `${MODEL_JSON}: not a stunet model (format must be '${FORMAT}')`);
  if (doc['formatVersion'] !== FORMAT_VERSION) {
    fail(
      'UNSUPPORTED',
      `${MODEL_JSON}: format version ${String(doc['formatVersion'])} is not supported (this stunet reads ${FORMAT_VERSION})`,
    );
  }
  return doc;
}

/** The architecture of a model folder from its model.json alone (no weights read). */
export function parseModelArchitecture(modelJson: string): StunetArchitecture {
  return readArchitecture(readModelJson(modelJson)['architecture']);
}

export function parseModel(
  modelJson: string,
  /** null: the architecture and meta only (no weights); a byte source reads tensor by tensor. */
  weightsBytes: Uint8Array | ByteSource | null,
  source: string | null = null,
): LoadedModel {
  const doc = readModelJson(modelJson);
  const arch = readArchitecture(doc['architecture']);
  const weights = new Map<string, Tensor>();
  if (weightsBytes !== null) {
    const file = readSafetensors(weightsBytes);
    for (const [k, t] of file.tensors) weights.set(k, new Tensor(t.shape, tensorToFloat32(t)));
    checkWeightsMatch(arch, new Map([...weights].map(([k, t]) => [k, t.shape])));
  }
  const metaIn = isRecord(doc['meta']) ? (doc['meta'] as Partial<ModelMeta>) : {};
  const meta: ModelMeta = {
    ...defaultMeta(metaIn.origin ?? 'stunet'),
    ...metaIn,
    source: source ?? metaIn.source ?? null,
  };
  return { arch, weights, meta };
}

export type { JsonValue };
