import { concatChunks } from '../util/bytes.js';
import { isLittleEndian } from '../util/endian.js';
import { fail } from '../util/errors.js';
import type { Ops, ParamSource } from '../engine/ops.js';
import { formatShape } from '../engine/tensor.js';
import { DataType, encodeModel, type TensorSpec, type ValueInfoSpec } from './proto.js';
import {
  OnnxParams,
  OnnxTracer,
  type SymbolicValue,
  type TracedInitializer,
  type WeightProvider,
} from './tracer.js';

/**
 * Traces a network written against `Ops<T>` and encodes it as an ONNX model (opset 17, IR 8).
 * Usage: `exportOnnx((ops, params, x) => net.forward(ops, params, x, opts), { inputShape, weights })`.
 */

/** The network as the exporter sees it: returns its outputs, e.g. 5 deep-supervision heads or 1. */
export type OnnxModelFn = (
  ops: Ops<SymbolicValue>,
  params: ParamSource<SymbolicValue>,
  x: SymbolicValue,
) => readonly SymbolicValue[];

export const OPSET_VERSION = 17;
export const IR_VERSION = 8;
/** Inline initializers above this total go to a side file: protobuf messages cannot exceed 2 GiB. */
export const DEFAULT_EXTERNAL_DATA_THRESHOLD = 1.5 * 1024 ** 3;
const PROTOBUF_LIMIT = 2 ** 31 - 1;
/** Default symbolic names for dynamic axes: batch and the three spatial axes of NCDHW. */
export const DEFAULT_DYNAMIC_AXES: Readonly<Record<number, string>> = { 0: 'N', 2: 'D', 3: 'H', 4: 'W' };

export interface ExportOptions {
  /** (N, C, D, H, W) used for tracing; it must be a size the network accepts (divisible by its strides). */
  readonly inputShape: readonly number[];
  readonly weights: WeightProvider;
  readonly inputName?: string;
  /** Default: output_0, output_1, … in the order the model returns them (full resolution first for STU-Net). */
  readonly outputNames?: readonly string[];
  /**
   * Input axis → dim_param name; false for a fully static graph. Outputs share an axis's name where their
   * size equals the input's at the trace size, else get `<name>_<output>` (deep-supervision heads are smaller).
   */
  readonly dynamicAxes?: Readonly<Record<number, string>> | false;
  /** Stored as ModelProto.metadata_props; readable without ORT via readOnnxFileInfo(). */
  readonly metadata?: Readonly<Record<string, string>>;
  /** true: always, false: never, 'auto' (default): when weights exceed externalDataThreshold bytes. */
  readonly externalData?: boolean | 'auto';
  readonly externalDataThreshold?: number;
  /** Side-file name, relative to the model file's folder. Default 'model.onnx.data'. */
  readonly externalDataLocation?: string;
  readonly graphName?: string;
  readonly producerVersion?: string;
}

export interface ExternalDataFile {
  /** As written in the model; the file must sit at this path relative to the model file. */
  readonly location: string;
  readonly byteLength: number;
  /** File contents in order (zero padding included); weight chunks are views of the provider's arrays. */
  readonly chunks: readonly Uint8Array[];
}

export interface OnnxExport {
  /** The .onnx file contents. */
  readonly model: Uint8Array;
  readonly externalData?: ExternalDataFile;
  readonly inputName: string;
  readonly outputNames: readonly string[];
  /** State_dict keys that became initializers (those the outputs depend on), in first-use order. */
  readonly paramNames: readonly string[];
  /** Total bytes of the parameters (initializers from the weight provider). */
  readonly weightBytes: number;
  readonly nodeCount: number;
}

export function exportOnnx(model: OnnxModelFn, options: ExportOptions): OnnxExport {
  if (!isLittleEndian())
    fail('UNSUPPORTED', 'ONNX export needs a little-endian machine (raw_data is little-endian)');
  const { inputShape, inputName = 'input' } = options;
  if (inputShape.length !== 5 || inputShape.some((d) => !Number.isInteger(d) || d < 1)) {
    fail(
      'BAD_INPUT',
      `export inputShape must be 5 positive integers (N, C, D, H, W), got ${formatShape(inputShape)}`,
    );
  }
  const tracer = new OnnxTracer();
  const params = new OnnxParams(tracer, options.weights);
  const x = tracer.input(inputName, inputShape);
  const results = model(tracer, params, x);
  if (results.length === 0) fail('BAD_INPUT', 'the model returned no outputs');
  const outputNames = options.outputNames ?? results.map((_, i) => `output_${i}`);
  if (outputNames.length !== results.length) {
    fail(
      'BAD_INPUT',
      `${outputNames.length} output names given but the model returns ${results.length} outputs`,
    );
  }
  results.forEach((r, i) => tracer.output(r, outputNames[i] as string));
  const graph = tracer.graph();

  const axes = dynamicAxes(options.dynamicAxes, inputShape);
  const inputInfo: ValueInfoSpec = {
    name: inputName,
    elemType: DataType.FLOAT,
    dims: inputShape.map((d, a) => axes.get(a) ?? d),
  };
  const outputInfos = graph.outputs.map((o): ValueInfoSpec => ({
    name: o.name,
    elemType: DataType.FLOAT,
    dims: o.shape.map((d, a) => {
      const name = axes.get(a);
      if (name === undefined) return d;
      return d === inputShape[a] ? name : `${name}_${o.name}`;
    }),
  }));

  const weightBytes = graph.initializers.reduce(
    (n, t) => n + (t.kind === 'param' ? t.data.byteLength : 0),
    0,
  );
  const mode = options.externalData ?? 'auto';
  const external =
    mode === 'auto' ? weightBytes > (options.externalDataThreshold ?? DEFAULT_EXTERNAL_DATA_THRESHOLD) : mode;
  const location = options.externalDataLocation ?? 'model.onnx.data';
  const { initializers, externalData } = external
    ? layoutExternal(graph.initializers, location)
    : { initializers: graph.initializers.map(inline), externalData: undefined };

  const writer = encodeModel({
    irVersion: IR_VERSION,
    opsetImports: [{ domain: '', version: OPSET_VERSION }],
    producerName: 'stunet',
    producerVersion: options.producerVersion ?? '0',
    graph: {
      name: options.graphName ?? 'stunet',
      nodes: graph.nodes,
      initializers,
      inputs: [inputInfo],
      outputs: outputInfos,
      valueInfo: [],
    },
    metadata: Object.entries(options.metadata ?? {}),
  });
  if (writer.length > PROTOBUF_LIMIT) {
    fail(
      'UNSUPPORTED',
      `the ONNX model would be ${writer.length} bytes, over protobuf's 2 GiB limit; export with externalData: true (or a lower externalDataThreshold)`,
    );
  }
  return {
    model: writer.finish(),
    ...(externalData === undefined ? {} : { externalData }),
    inputName,
    outputNames: graph.outputs.map((o) => o.name),
    paramNames: graph.initializers.filter((t) => t.kind === 'param').map((t) => t.name),
    weightBytes,
    nodeCount: graph.nodes.length,
  };
}

function dynamicAxes(spec: ExportOptions['dynamicAxes'], inputShape: readonly number[]): Map<number, string> {
  const out = new Map<number, string>();
  if (spec === false) return out;
  for (const [k, name] of Object.entries(spec ?? DEFAULT_DYNAMIC_AXES)) {
    const axis = Number(k);
    if (!Number.isInteger(axis) || axis < 0 || axis >= inputShape.length) {
      fail('BAD_INPUT', `dynamicAxes: axis '${k}' is not an axis of the ${inputShape.length}-D input`);
    }
    if (name === '') fail('BAD_INPUT', `dynamicAxes: axis ${axis} needs a non-empty name`);
    out.set(axis, name);
  }
  return out;
}

/** float32 → little-endian bytes without copying (the caller checked the machine is little-endian). */
function bytesOf(data: Float32Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function inline(t: TracedInitializer): TensorSpec {
  return { name: t.name, dataType: DataType.FLOAT, dims: t.dims, rawData: bytesOf(t.data) };
}

/**
 * Lays parameters out in one side file (tracer constants stay inline, see TracedInitializer.kind). Tensors of a page or more start on a 4096-byte boundary (the
 * ONNX recommendation, lets runtimes mmap them); small ones are packed at 16-byte alignment.
 */
function layoutExternal(
  inits: readonly TracedInitializer[],
  location: string,
): { initializers: TensorSpec[]; externalData: ExternalDataFile } {
  if (location === '' || location.startsWith('/') || location.split(/[\\/]/).includes('..')) {
    fail('BAD_INPUT', `externalDataLocation '${location}' must be a relative path inside the model's folder`);
  }
  const chunks: Uint8Array[] = [];
  const initializers: TensorSpec[] = [];
  let offset = 0;
  for (const t of inits) {
    if (t.kind === 'constant') {
      initializers.push(inline(t));
      continue;
    }
    const bytes = bytesOf(t.data);
    const align = bytes.length >= 4096 ? 4096 : 16;
    const pad = (align - (offset % align)) % align;
    if (pad > 0) chunks.push(new Uint8Array(pad));
    offset += pad;
    chunks.push(bytes);
    initializers.push({
      name: t.name,
      dataType: DataType.FLOAT,
      dims: t.dims,
      externalData: { location, offset, length: bytes.length },
    });
    offset += bytes.length;
  }
  return { initializers, externalData: { location, byteLength: offset, chunks } };
}

/** The side file as one array, e.g. for createOrtSession(bytes, { externalData }): concatChunks of its chunks. */
export { concatChunks };
