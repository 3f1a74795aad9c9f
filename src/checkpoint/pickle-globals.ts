import { fail } from '../util/errors.js';
import { buildNdArray, buildNpDtype, describe, latin1Bytes, makeNpDtype, makeNpScalar } from './numpy.js';
import {
  pyRepr,
  NdArray,
  NpDtype,
  PyComplex,
  PyDevice,
  PyDict,
  PyGlobal,
  PySet,
  PySlice,
  PyTuple,
  TorchStorage,
  TorchTensor,
  type PyValue,
  type TorchDtype,
} from './py-values.js';
import { checkTensorBounds } from './tensor.js';

/**
 * The whitelist of Python names a pickle may mention. Nothing here runs Python: each allowed callable is a
 * small JS function that builds one of our value types. Any other name is refused before it can be called.
 */

type Handler = (args: readonly PyValue[]) => PyValue;

/** torch storage classes → element dtype. `UntypedStorage` (torch ≥ 2) is raw bytes. */
export const STORAGE_DTYPE: Readonly<Record<string, TorchDtype>> = {
  FloatStorage: 'float32',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  DoubleStorage: 'float64',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
  UntypedStorage: 'uint8',
};

/** torch dtype objects (`torch.float16` pickles as GLOBAL 'torch float16'), aliases included. */
export const TORCH_DTYPE_NAMES: Readonly<Record<string, TorchDtype>> = {
  float32: 'float32',
  float: 'float32',
  float16: 'float16',
  half: 'float16',
  bfloat16: 'bfloat16',
  float64: 'float64',
  double: 'float64',
  int64: 'int64',
  long: 'int64',
  int32: 'int32',
  int: 'int32',
  int16: 'int16',
  short: 'int16',
  int8: 'int8',
  uint8: 'uint8',
  bool: 'bool',
};

const CALLS = new Map<string, Handler>();
const VALUES = new Set<string>();

function ints(v: PyValue | undefined, what: string): number[] {
  const items =
    v instanceof PyTuple
      ? v.items
      : Array.isArray(v)
        ? v
        : fail('BAD_INPUT', `pickle: ${what} must be a tuple of ints, got ${describe(v ?? null)}`);
  return items.map((d) =>
    typeof d === 'number' && Number.isSafeInteger(d)
      ? d
      : fail('BAD_INPUT', `pickle: ${what} has a non-int entry`),
  );
}

function rebuildTensor(args: readonly PyValue[]): TorchTensor {
  const [storage, offset, size, stride, requiresGrad] = args;
  if (!(storage instanceof TorchStorage))
    fail(
      'BAD_INPUT',
      `pickle: _rebuild_tensor expects a storage (persistent id) first, got ${describe(storage ?? null)}`,
    );
  if (typeof offset !== 'number') fail('BAD_INPUT', 'pickle: _rebuild_tensor storage offset must be an int');
  const t = new TorchTensor(
    storage.dtype,
    ints(size, 'tensor size'),
    ints(stride, 'tensor stride'),
    offset,
    storage,
    requiresGrad === true,
  );
  checkTensorBounds(t, `tensor over storage '${storage.key}'`);
  return t;
}

function rebuildParameter(args: readonly PyValue[]): TorchTensor {
  const [data, requiresGrad] = args;
  if (!(data instanceof TorchTensor))
    fail('BAD_INPUT', `pickle: _rebuild_parameter expects a tensor, got ${describe(data ?? null)}`);
  return new TorchTensor(
    data.dtype,
    data.shape,
    data.stride,
    data.storageOffset,
    data.storage,
    requiresGrad === true,
    true,
  );
}

function device(args: readonly PyValue[]): PyDevice {
  const [spec, index] = args;
  if (typeof spec !== 'string') fail('BAD_INPUT', 'pickle: torch.device expects a str');
  const m = /^([a-z_]+)(?::(\d+))?$/.exec(spec);
  if (m === null) fail('BAD_INPUT', `pickle: bad torch.device '${spec}'`);
  const idx = typeof index === 'number' ? index : m[2] !== undefined ? Number(m[2]) : null;
  return new PyDevice(m[1] as string, idx);
}

function orderedDict(args: readonly PyValue[]): PyDict {
  const d = new PyDict(true);
  const [items] = args;
  if (items === undefined) return d;
  const list = Array.isArray(items)
    ? items
    : items instanceof PyTuple
      ? items.items
      : fail('BAD_INPUT', 'pickle: OrderedDict(...) expects a list of pairs');
  for (const pair of list) {
    const kv = pair instanceof PyTuple ? pair.items : Array.isArray(pair) ? pair : [];
    if (kv.length !== 2) fail('BAD_INPUT', 'pickle: OrderedDict(...) item is not a (key, value) pair');
    d.set(kv[0] as PyValue, kv[1] as PyValue);
  }
  return d;
}

function setOf(frozen: boolean): Handler {
  return ([items]) => {
    if (items === undefined) return new PySet([], frozen);
    if (Array.isArray(items)) return new PySet([...items], frozen);
    if (items instanceof PyTuple) return new PySet([...items.items], frozen);
    return fail('BAD_INPUT', 'pickle: set(...) expects a list');
  };
}

function bytesCall(args: readonly PyValue[]): Uint8Array {
  const [a, enc] = args;
  if (a === undefined) return new Uint8Array(0);
  if (typeof a === 'string') return encode([a, enc ?? 'latin1']);
  if (a instanceof Uint8Array) return new Uint8Array(a);
  if (Array.isArray(a) && a.every((b) => typeof b === 'number' && Number.isInteger(b) && b >= 0 && b < 256))
    return Uint8Array.from(a as number[]);
  return fail('BAD_INPUT', `pickle: bytes(...) of ${describe(a)} is not supported`);
}

/** `_codecs.encode(str, encoding)`: how protocol 2 writes Python 3 bytes. */
function encode(args: readonly PyValue[]): Uint8Array {
  const [text, enc] = args;
  if (typeof text !== 'string' || typeof enc !== 'string')
    fail('BAD_INPUT', 'pickle: _codecs.encode expects (str, encoding)');
  const e = enc.toLowerCase().replace(/_/g, '-');
  if (e === 'latin1' || e === 'latin-1' || e === 'iso-8859-1' || e === 'iso8859-1')
    return latin1Bytes(text, 'pickle: _codecs.encode');
  if (e === 'utf-8' || e === 'utf8') return new TextEncoder().encode(text);
  return fail('UNSUPPORTED', `pickle: _codecs.encode with encoding '${enc}' is not supported`);
}

function reconstruct([cls]: readonly PyValue[]): NdArray {
  if (!(cls instanceof PyGlobal) || cls.name !== 'ndarray') {
    fail(
      'UNSAFE_PICKLE',
      `pickle: numpy _reconstruct of ${cls instanceof PyGlobal ? cls.qualifiedName : describe(cls ?? null)} refused: only numpy.ndarray is allowed`,
    );
  }
  return new NdArray();
}

CALLS.set('torch._utils._rebuild_tensor_v2', rebuildTensor);
CALLS.set('torch._utils._rebuild_tensor', rebuildTensor);
CALLS.set('torch._utils._rebuild_parameter', rebuildParameter);
CALLS.set('torch._utils._rebuild_parameter_with_state', rebuildParameter);
CALLS.set('collections.OrderedDict', orderedDict);
CALLS.set('torch.device', device);
CALLS.set('torch.Size', ([dims]) => new PyTuple(ints(dims, 'torch.Size')));
CALLS.set('torch.serialization._get_layout', ([name]) => {
  if (name !== 'torch.strided')
    fail('UNSUPPORTED', `pickle: tensor layout ${pyRepr(name)} is not supported (only torch.strided)`);
  return new PyGlobal('torch', 'strided');
});
for (const s of Object.keys(STORAGE_DTYPE)) VALUES.add(`torch.${s}`);
for (const d of Object.keys(TORCH_DTYPE_NAMES)) VALUES.add(`torch.${d}`);
VALUES.add('torch.strided');
for (const np of ['numpy.core.multiarray', 'numpy._core.multiarray']) {
  CALLS.set(`${np}._reconstruct`, reconstruct);
  CALLS.set(`${np}.scalar`, makeNpScalar);
}
CALLS.set('numpy.dtype', makeNpDtype);
VALUES.add('numpy.ndarray');
for (const b of ['builtins', '__builtin__']) {
  CALLS.set(`${b}.set`, setOf(false));
  CALLS.set(`${b}.frozenset`, setOf(true));
  CALLS.set(`${b}.bytes`, bytesCall);
  CALLS.set(`${b}.bytearray`, bytesCall);
  CALLS.set(`${b}.slice`, ([a, b2, c]) => new PySlice(a ?? null, b2 ?? null, c ?? null));
  CALLS.set(
    `${b}.complex`,
    ([re, im]) => new PyComplex(typeof re === 'number' ? re : 0, typeof im === 'number' ? im : 0),
  );
}
CALLS.set('_codecs.encode', encode);

/** GLOBAL / STACK_GLOBAL: whitelisted names become a {@link PyGlobal}; anything else is refused. */
export function resolveGlobal(module: string, name: string, at: number): PyGlobal {
  const q = `${module}.${name}`;
  // numpy ≥ 1.25 may name a dtype by its class (numpy.dtypes.Float64DType); it reduces like numpy.dtype.
  if (CALLS.has(q) || VALUES.has(q) || (module === 'numpy.dtypes' && /^[A-Za-z0-9]+DType$/.test(name)))
    return new PyGlobal(module, name);
  return fail(
    'UNSAFE_PICKLE',
    `pickle: refused global '${q}' at byte ${at}: only torch tensor/storage, numpy array/scalar and OrderedDict names are allowed. ` +
      `The file may try to run code; if it is a whole pickled model, load it in Python and re-save model.state_dict().`,
  );
}

/** REDUCE / NEWOBJ / OBJ / INST: call a whitelisted callable. The callable must be a resolved global. */
export function callGlobal(callable: PyValue, args: readonly PyValue[], at: number): PyValue {
  if (!(callable instanceof PyGlobal)) {
    fail(
      'UNSAFE_PICKLE',
      `pickle: refused call at byte ${at}: the callable is a ${describe(callable)}, not a whitelisted global`,
    );
  }
  const h =
    CALLS.get(callable.qualifiedName) ?? (callable.module === 'numpy.dtypes' ? makeNpDtype : undefined);
  if (h === undefined)
    fail(
      'UNSAFE_PICKLE',
      `pickle: refused call of '${callable.qualifiedName}' at byte ${at}: it is not a whitelisted callable`,
    );
  return h(args);
}

/** BUILD (`obj.__setstate__(state)`) for the few types that carry state. */
export function buildObject(target: PyValue, state: PyValue, at: number): void {
  if (target instanceof NdArray) {
    buildNdArray(target, state);
    return;
  }
  if (target instanceof NpDtype) {
    buildNpDtype(target, state);
    return;
  }
  if (target instanceof PyDict) {
    // OrderedDict with instance attributes: state is vars(obj), or (vars, slots) from object.__reduce_ex__.
    const parts = state instanceof PyTuple ? state.items : [state];
    for (const part of parts) {
      if (part === null) continue;
      if (!(part instanceof PyDict))
        fail('BAD_INPUT', `pickle: dict BUILD state at byte ${at} must be a dict, got ${describe(part)}`);
      for (const [k, v] of part) {
        if (typeof k !== 'string') fail('BAD_INPUT', `pickle: attribute name at byte ${at} is not a str`);
        target.attrs.set(k, v);
      }
    }
    return;
  }
  if (target instanceof TorchTensor && state instanceof PyDict && state.size === 0) return; // empty tensor __dict__
  fail('UNSUPPORTED', `pickle: BUILD on a ${describe(target)} at byte ${at} is not supported`);
}
