import { StunetError, fail } from '../util/errors.js';
import { describe } from './numpy.js';
import { STORAGE_DTYPE, TORCH_DTYPE_NAMES } from './pickle-globals.js';
import { unpickle, unpickleAt } from './pickle.js';
import {
  PyDict,
  PyGlobal,
  PyTuple,
  TorchStorage,
  TorchTensor,
  pyRepr,
  type PyValue,
  type TorchDtype,
} from './py-values.js';
import { ELEMENT_SIZE } from './tensor.js';
import { ZipReader, bytesSource, isZip, type ByteSource } from './zip.js';

/**
 * torch.load without Python: the zip format (PyTorch ≥ 1.6) and the legacy format (magic number pickle,
 * protocol pickle, sys_info pickle, the data pickle, a pickle of storage keys, then each storage as int64
 * numel + raw bytes). Tensors come back as {@link TorchTensor} views over shared {@link TorchStorage}s
 * (always on the CPU; the saved location is kept in `storage.location`).
 */

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

interface StorageRef {
  dtype: TorchDtype;
  key: string;
  location: string;
  numel: number;
  view: PyValue;
}

/** ('storage', storage_type, key, location, numel[, view_metadata]) → its parts, checked. */
function parseStorageId(pid: PyValue): StorageRef {
  const parts = pid instanceof PyTuple ? pid.items : [];
  const [kind, type, key, location, numel, view] = parts;
  if (kind === 'module')
    fail(
      'UNSUPPORTED',
      'torch checkpoint: it pickles module source code (torch.save of a whole model); re-save model.state_dict()',
    );
  if (
    kind !== 'storage' ||
    typeof key !== 'string' ||
    typeof location !== 'string' ||
    typeof numel !== 'number'
  ) {
    fail('BAD_INPUT', `torch checkpoint: unexpected persistent id (${describe(pid)} of ${parts.length})`);
  }
  let dtype: TorchDtype | undefined;
  if (type instanceof PyGlobal && type.module === 'torch')
    dtype = STORAGE_DTYPE[type.name] ?? TORCH_DTYPE_NAMES[type.name];
  if (dtype === undefined) {
    fail(
      'UNSUPPORTED',
      `torch checkpoint: storage type ${type instanceof PyGlobal ? type.qualifiedName : describe(type ?? null)} is not supported`,
    );
  }
  return { dtype, key, location, numel, view: view ?? null };
}

export interface LoadOptions {
  /** Keep integral Python floats as {@link PyFloat} (see `UnpickleOptions.exactFloats`). */
  exactFloats?: boolean;
}

/** Loads a torch.save file (zip or legacy) held in memory. Stored tensors are views into `bytes`, not copies. */
export function loadTorch(bytes: Uint8Array, opts: LoadOptions = {}): PyValue {
  if (isZip(bytes)) return loadTorchZip(bytesSource(bytes), opts);
  return loadTorchLegacy(bytes, opts);
}

/** The zip format from any byte source (e.g. a file handle, for checkpoints too big for one buffer). */
export function loadTorchZip(src: ByteSource, opts: LoadOptions = {}): PyValue {
  const zip = new ZipReader(src);
  const pkl =
    zip.entries.find((e) => /^[^/]+\/data\.pkl$/.test(e.name)) ??
    zip.entries.find((e) => e.name.endsWith('/data.pkl'));
  if (pkl === undefined)
    fail('BAD_INPUT', 'torch checkpoint: the zip has no <root>/data.pkl, so it is not a torch.save file');
  const root = pkl.name.slice(0, -'data.pkl'.length);
  if (zip.has(`${root}byteorder`)) {
    const order = new TextDecoder().decode(zip.read(`${root}byteorder`)).trim();
    if (order !== 'little')
      fail('UNSUPPORTED', `torch checkpoint: byte order '${order}' (only little-endian files are supported)`);
  }
  const storages = new Map<string, TorchStorage>();
  return unpickle(zip.read(pkl.name, { verifyCrc: true }), {
    ...opts,
    persistentLoad(pid) {
      const ref = parseStorageId(pid);
      const cached = storages.get(`${ref.key}:${ref.dtype}`);
      if (cached !== undefined) return cached;
      const name = `${root}data/${ref.key}`;
      if (!zip.has(name)) fail('BAD_INPUT', `torch checkpoint: storage record '${name}' is missing`);
      const size = zip.entry(name).uncompressedSize;
      const nbytes = ref.numel * ELEMENT_SIZE[ref.dtype];
      if (size < nbytes)
        fail(
          'BAD_INPUT',
          `torch checkpoint: storage '${ref.key}' has ${size} bytes, needs ${nbytes} for ${ref.numel} × ${ref.dtype}`,
        );
      // Read when a tensor's values are asked for (views of in-memory bytes cost nothing; from a file,
      // only the storages used are ever read, and each read is let go after use).
      const s = new TorchStorage(ref.key, ref.dtype, ref.location, ref.numel, new Uint8Array(0), () =>
        zip.read(name).subarray(0, nbytes),
      );
      storages.set(`${ref.key}:${ref.dtype}`, s);
      return s;
    },
  });
}

/** torch.load of bytes in memory or of a byte source (a file read piece by piece; zip format only). */
export function loadTorchFrom(src: Uint8Array | ByteSource, opts: LoadOptions = {}): PyValue {
  if (src instanceof Uint8Array) return loadTorch(src, opts);
  if (src.size >= 4 && isZip(src.read(0, 4))) return loadTorchZip(src, opts);
  return loadTorchLegacy(src.read(0, src.size), opts);
}

/** The pre-1.6 format: several pickles back to back, then the raw storages. */
export function loadTorchLegacy(bytes: Uint8Array, opts: LoadOptions = {}): PyValue {
  if (bytes.length > 262 && new TextDecoder().decode(bytes.subarray(257, 262)) === 'ustar') {
    fail(
      'UNSUPPORTED',
      'torch checkpoint: tar-format file from PyTorch < 0.4; re-save it with a newer PyTorch',
    );
  }
  // Legacy files start with the protocol-2 magic-number pickle (PROTO 2); anything else is not one.
  if (bytes[0] !== 0x80)
    fail('BAD_INPUT', 'not a torch checkpoint: neither a zip nor a legacy torch.save file');
  let magic: PyValue;
  let pos: number;
  try {
    ({ value: magic, end: pos } = unpickleAt(bytes));
  } catch (e) {
    if (e instanceof StunetError && e.code === 'UNSAFE_PICKLE') throw e;
    fail(
      'BAD_INPUT',
      `not a torch checkpoint: neither a zip nor a legacy torch.save file (${e instanceof Error ? e.message : String(e)})`,
    );
  }
  if (magic !== LEGACY_MAGIC)
    fail(
      'BAD_INPUT',
      'not a torch checkpoint: no torch magic number (if this is a plain pickle, use loadPickle)',
    );
  const proto = unpickleAt(bytes, { offset: pos });
  if (proto.value !== LEGACY_PROTOCOL)
    fail(
      'UNSUPPORTED',
      `torch checkpoint: legacy protocol ${pyRepr(proto.value)} (expected ${LEGACY_PROTOCOL})`,
    );
  const sys = unpickleAt(bytes, { offset: proto.end });
  if (sys.value instanceof PyDict && sys.value.get('little_endian') === false)
    fail('UNSUPPORTED', 'torch checkpoint: saved on a big-endian machine');

  const storages = new Map<string, TorchStorage>();
  const views: { view: TorchStorage; root: TorchStorage; offset: number }[] = [];
  const main = unpickleAt(bytes, {
    ...opts,
    offset: sys.end,
    persistentLoad(pid) {
      const ref = parseStorageId(pid);
      let root = storages.get(ref.key);
      if (root === undefined) {
        root = new TorchStorage(ref.key, ref.dtype, ref.location, ref.numel, new Uint8Array(0));
        storages.set(ref.key, root);
      }
      if (ref.view === null) return root;
      // Pre-0.4 storage views: (view_key, offset, size) into the root storage.
      const v = ref.view instanceof PyTuple ? ref.view.items : [];
      const [viewKey, offset, size] = v;
      if (
        typeof viewKey !== 'string' ||
        typeof offset !== 'number' ||
        typeof size !== 'number' ||
        offset + size > root.numel
      ) {
        fail('BAD_INPUT', 'torch checkpoint: bad storage view metadata');
      }
      const existing = storages.get(viewKey);
      if (existing !== undefined) return existing;
      const view = new TorchStorage(viewKey, ref.dtype, ref.location, size, new Uint8Array(0));
      storages.set(viewKey, view);
      views.push({ view, root, offset });
      return view;
    },
  });
  const keys = unpickleAt(bytes, { offset: main.end });
  if (!Array.isArray(keys.value)) fail('BAD_INPUT', 'torch checkpoint: storage key list missing');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = keys.end;
  for (const key of keys.value) {
    const s = typeof key === 'string' ? storages.get(key) : undefined;
    if (s === undefined)
      fail('BAD_INPUT', `torch checkpoint: storage key ${pyRepr(key)} was never referenced`);
    if (p + 8 > bytes.length) fail('BAD_INPUT', `torch checkpoint: truncated before storage '${s.key}'`);
    const numel = Number(dv.getBigInt64(p, true));
    if (numel !== s.numel)
      fail(
        'BAD_INPUT',
        `torch checkpoint: storage '${s.key}' has ${numel} elements in the file, the pickle says ${s.numel}`,
      );
    const n = numel * ELEMENT_SIZE[s.dtype];
    if (p + 8 + n > bytes.length) fail('BAD_INPUT', `torch checkpoint: truncated inside storage '${s.key}'`);
    s.bytes = bytes.subarray(p + 8, p + 8 + n);
    p += 8 + n;
  }
  for (const { view, root, offset } of views) {
    const es = ELEMENT_SIZE[root.dtype];
    view.bytes = root.bytes.subarray(offset * es, (offset + view.numel) * es);
  }
  for (const s of storages.values()) {
    if (s.bytes.length < s.numel * ELEMENT_SIZE[s.dtype])
      fail('BAD_INPUT', `torch checkpoint: storage '${s.key}' has no data`);
  }
  return main.value;
}

/** A plain pickle (nnU-Net `plans.pkl`, `*.model.pkl`): numpy arrays and scalars, OrderedDicts, … */
export function loadPickle(bytes: Uint8Array, opts: LoadOptions = {}): PyValue {
  if (isZip(bytes)) fail('BAD_INPUT', 'loadPickle: this is a zip (a torch.save checkpoint?); use loadTorch');
  return unpickle(bytes, opts);
}

/**
 * A state dict as `name → tensor`. Accepts the dict itself; anything else (or a non-tensor entry) is a
 * BAD_INPUT error naming what was found, e.g. for checkpoints that wrap it under 'state_dict'.
 */
export function asStateDict(value: PyValue): Map<string, TorchTensor> {
  if (!(value instanceof PyDict)) fail('BAD_INPUT', `state dict: expected a dict, got ${describe(value)}`);
  const out = new Map<string, TorchTensor>();
  for (const [k, v] of value) {
    if (typeof k !== 'string') fail('BAD_INPUT', `state dict: key ${pyRepr(k)} is not a str`);
    if (!(v instanceof TorchTensor))
      fail(
        'BAD_INPUT',
        `state dict: '${k}' is a ${describe(v)}, not a tensor (is the state dict nested under a key such as 'state_dict'?)`,
      );
    out.set(k, v);
  }
  return out;
}
