import { StunetError, fail } from '../util/errors.js';
import { npyHeader, readNpy, type NpyArray } from '../io/npy.js';
import { NdArray, NpDtype, NpScalar, PyTuple, pyInt, pyRepr, type PyValue } from './py-values.js';

/**
 * numpy objects inside pickles. An ndarray pickles as `_reconstruct(ndarray, (0,), b'b')` followed by BUILD
 * with state `(version, shape, dtype, is_fortran, raw_bytes)`; a scalar as `scalar(dtype, raw_bytes)`; a dtype
 * as `dtype('f8', False, True)` + BUILD `(3, '<', …)`. The raw bytes are exactly an .npy payload, so we decode
 * them with the npy reader (endianness, Fortran order, float16 widening all handled there).
 */

/** py2-era pickles (read with encoding='latin1') carry raw bytes as str: one char per byte. */
export function latin1Bytes(v: PyValue, what: string): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') {
    const out = new Uint8Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const c = v.charCodeAt(i);
      if (c > 255)
        fail('BAD_INPUT', `${what}: str data has a char above U+00FF, so it is not latin1-encoded bytes`);
      out[i] = c;
    }
    return out;
  }
  return fail('BAD_INPUT', `${what}: expected bytes, got ${describe(v)}`);
}

export function describe(v: PyValue): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return 'list';
  if (v instanceof Uint8Array) return 'bytes';
  if (typeof v !== 'object') return typeof v;
  return Object.getPrototypeOf(v) === Object.prototype ? 'tensor input' : v.constructor.name;
}

function decodeRaw(
  dtype: NpDtype,
  shape: readonly number[],
  fortran: boolean,
  raw: Uint8Array,
  what: string,
): NpyArray {
  if (dtype.typecode.startsWith('O')) {
    fail(
      'UNSUPPORTED',
      `${what}: numpy object arrays (dtype=object) are not supported; store plain lists instead`,
    );
  }
  const head = npyHeader(dtype.descr, shape, fortran);
  const npy = new Uint8Array(head.length + raw.length);
  npy.set(head, 0);
  npy.set(raw, head.length);
  try {
    return readNpy(npy);
  } catch (e) {
    if (!(e instanceof StunetError)) throw e;
    throw new StunetError(e.code, `${what}: ${e.message.replace(/^npy: /, '')}`, { cause: e });
  }
}

function intList(v: PyValue, what: string): number[] {
  const items =
    v instanceof PyTuple
      ? v.items
      : Array.isArray(v)
        ? v
        : fail('BAD_INPUT', `${what}: shape must be a tuple, got ${describe(v)}`);
  return items.map((d) => {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0)
      fail('BAD_INPUT', `${what}: bad shape entry ${pyRepr(d)}`);
    return d;
  });
}

/** ndarray.__setstate__: `(version, shape, dtype, is_fortran, data)`, or the 4-tuple without version. */
export function buildNdArray(arr: NdArray, state: PyValue): void {
  const what = 'pickle: numpy array';
  if (!(state instanceof PyTuple))
    fail('BAD_INPUT', `${what}: BUILD state must be a tuple, got ${describe(state)}`);
  const items = state.items.length === 5 ? state.items.slice(1) : state.items;
  const [shapeV, dtypeV, fortranV, dataV] = items;
  if (
    items.length !== 4 ||
    !(dtypeV instanceof NpDtype) ||
    typeof fortranV !== 'boolean' ||
    dataV === undefined ||
    shapeV === undefined
  ) {
    return fail('BAD_INPUT', `${what}: unexpected BUILD state layout`);
  }
  if (Array.isArray(dataV)) fail('UNSUPPORTED', `${what}: object-dtype data (a list) is not supported`);
  const shape = intList(shapeV, what);
  const decoded = decodeRaw(dtypeV, shape, fortranV, latin1Bytes(dataV, what), what);
  arr.dtype = decoded.dtype;
  arr.descr = dtypeV.descr;
  arr.shape = [...decoded.shape];
  arr.fortranOrder = fortranV;
  arr.data = decoded.data;
}

/** dtype.__setstate__: `(version, byteorder, subdescr, names, fields, elsize, alignment, flags)`. */
export function buildNpDtype(dt: NpDtype, state: PyValue): void {
  if (!(state instanceof PyTuple) || typeof state.items[1] !== 'string') {
    fail('BAD_INPUT', 'pickle: numpy dtype BUILD state must be a tuple starting (version, byteorder, …)');
  }
  if (state.items[3] !== null && state.items[3] !== undefined) {
    fail('UNSUPPORTED', 'pickle: numpy structured dtypes (with named fields) are not supported');
  }
  dt.byteOrder = state.items[1];
}

/** `numpy.dtype(typecode, align, copy)`. */
export function makeNpDtype(args: readonly PyValue[]): NpDtype {
  const code = args[0];
  if (typeof code !== 'string')
    fail('BAD_INPUT', `pickle: numpy.dtype expects a typecode str, got ${describe(code ?? null)}`);
  return new NpDtype(code);
}

/** `numpy.core.multiarray.scalar(dtype, raw_bytes)`. */
export function makeNpScalar(args: readonly PyValue[]): NpScalar {
  const [dt, raw] = args;
  if (!(dt instanceof NpDtype) || raw === undefined)
    fail('BAD_INPUT', 'pickle: numpy scalar expects (dtype, bytes)');
  const a = decodeRaw(dt, [], false, latin1Bytes(raw, 'pickle: numpy scalar'), 'pickle: numpy scalar');
  const v = a.data[0];
  if (v === undefined) fail('BAD_INPUT', 'pickle: numpy scalar has no data');
  const value = a.dtype === 'bool' ? v !== 0 : typeof v === 'bigint' ? pyInt(v) : v;
  return new NpScalar(a.dtype, dt.descr, value);
}
