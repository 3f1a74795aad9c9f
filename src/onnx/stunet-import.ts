/**
 * An ONNX file written by `stunet export-onnx` back as a model: the architecture and meta (plans,
 * dataset.json, mirror axes) from its metadata, the weights from its initializers (inline or in the
 * external-data file beside it). So `-m model.onnx` predicts exactly as the model it was exported from.
 */
import { readArchitecture } from '../checkpoint/model-folder.js';
import { float16BitsToFloat32 } from '../checkpoint/tensor.js';
import { Tensor } from '../engine/tensor.js';
import { defaultMeta, type LoadedModel, type ModelMeta, type ModelOrigin } from '../model/loaded-model.js';
import { StuNet } from '../model/stunet.js';
import { fail } from '../util/errors.js';
import { decodeModel } from './proto-read.js';
import type { TensorSpec } from './proto.js';

/** Bytes of an external-data file named by a tensor (`location` is relative to the model's folder). */
export type ExternalDataReader = (location: string, offset: number, length: number) => Uint8Array;

const FLOAT = 1;
const FLOAT16 = 10;

function parseJson(text: string, key: string, path: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    fail('BAD_INPUT', `${path}: metadata ${key} is not valid JSON: ${(e as Error).message}`);
  }
}

function isOrigin(v: unknown): v is ModelOrigin {
  return v === 'nnunet-v1' || v === 'nnunet-v2' || v === 'stunet';
}

function metaFrom(md: ReadonlyMap<string, string>, path: string): ModelMeta {
  const full = md.get('stunet.meta');
  const origin = md.get('stunet.origin');
  const base = defaultMeta(isOrigin(origin) ? origin : 'stunet');
  if (full === undefined) {
    // Exports before stunet.meta: provenance only (no plans: preprocessing falls back to the defaults).
    const patch = md.get('stunet.patch_size');
    return {
      ...base,
      trainerName: md.get('stunet.trainer') || null,
      patchSizeZYX:
        patch === undefined ? null : (parseJson(patch, 'stunet.patch_size', path) as number[] | null),
      source: path,
    };
  }
  const parsed = parseJson(full, 'stunet.meta', path);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    fail('BAD_INPUT', `${path}: metadata stunet.meta must be a JSON object`);
  return { ...base, ...(parsed as Partial<ModelMeta>), source: path };
}

function tensorValues(t: TensorSpec, external: ExternalDataReader, path: string): Float32Array {
  const numel = t.dims.reduce((a, b) => a * b, 1);
  const type: number = t.dataType; // the decoder passes any type through; we write FLOAT only
  const width = type === FLOAT ? 4 : type === FLOAT16 ? 2 : 0;
  if (width === 0)
    fail('BAD_INPUT', `${path}: weight ${t.name} has ONNX data type ${t.dataType}, not float or float16`);
  let bytes: Uint8Array;
  if (t.externalData !== undefined) {
    const { location, offset, length } = t.externalData;
    if (length !== -1 && length !== numel * width)
      fail(
        'BAD_INPUT',
        `${path}: weight ${t.name} declares ${length} external bytes, its shape needs ${numel * width}`,
      );
    bytes = external(location, offset, numel * width);
  } else bytes = t.rawData ?? new Uint8Array(0);
  if (bytes.length !== numel * width)
    fail(
      'BAD_INPUT',
      `${path}: weight ${t.name} holds ${bytes.length} bytes, its shape [${t.dims.join(', ')}] needs ${numel * width}`,
    );
  const copy = bytes.slice(); // aligned, and independent of the file's buffer
  return width === 4 ? new Float32Array(copy.buffer) : float16BitsToFloat32(new Uint16Array(copy.buffer));
}

/**
 * The model in an ONNX file exported by stunet. Weights not in the file (the deep-supervision heads of
 * an export without them) are absent: enough to predict; convert and fine-tune name what is missing.
 */
export function loadStunetOnnx(bytes: Uint8Array, external: ExternalDataReader, path: string): LoadedModel {
  const spec = decodeModel(bytes);
  const md = new Map(spec.metadata);
  const archJson = md.get('stunet.architecture');
  if (archJson === undefined)
    fail(
      'BAD_INPUT',
      `${path} was not exported by stunet export-onnx (no stunet.architecture metadata): ` +
        'predict needs the architecture and plans; run other ONNX models with stunet run-network',
    );
  const arch = readArchitecture(parseJson(archJson, 'stunet.architecture', path), path);
  const expected = new Map(new StuNet(arch).parameterSpecs().map((s) => [s.name, s.shape]));
  const weights = new Map<string, Tensor>();
  for (const t of spec.graph.initializers) {
    const shape = expected.get(t.name);
    if (shape === undefined) continue; // a constant of the graph, not a parameter
    if (shape.length !== t.dims.length || shape.some((d, i) => d !== t.dims[i]))
      fail(
        'BAD_INPUT',
        `${path}: weight ${t.name} has shape [${t.dims.join(', ')}], the architecture expects [${shape.join(', ')}]`,
      );
    weights.set(t.name, new Tensor([...shape], tensorValues(t, external, path)));
  }
  // Without deep supervision the export holds the full-resolution head only (the last seg_outputs).
  const fullRes = `seg_outputs.${arch.poolOpKernelSizes.length - 1}.`;
  const needed = [...expected.keys()].filter(
    (k) => (!k.startsWith('seg_outputs.') || k.startsWith(fullRes)) && !weights.has(k),
  );
  if (needed.length > 0)
    fail(
      'BAD_INPUT',
      `${path}: ${needed.length} weights are missing from the ONNX file (first: ${needed[0]})`,
    );
  return { arch, weights, meta: metaFrom(md, path) };
}
