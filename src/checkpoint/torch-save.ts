import { fail } from '../util/errors.js';
import { Pickler, type SaveValue } from './pickle-writer.js';
import { PyDict, PyGlobal, PyTuple, TorchStorage, TorchTensor, type TorchDtype } from './py-values.js';
import {
  ELEMENT_SIZE,
  checkTensorBounds,
  contiguousStride,
  tensorBytes,
  tensorFromData,
  type TensorInput,
} from './tensor.js';
import { concatChunks, writeZipChunks } from './zip-writer.js';

/**
 * torch.save, zip format (PyTorch ≥ 1.6), readable by `torch.load` including `weights_only=True`:
 *
 *   <root>/data.pkl       protocol-2 pickle; tensors as torch._utils._rebuild_tensor_v2(persistent storage,
 *                         offset, size, stride, requires_grad, OrderedDict()); storages as BINPERSID of
 *                         ('storage', torch.FloatStorage, '<key>', 'cpu', numel)
 *   <root>/byteorder      'little'
 *   <root>/data/<key>     raw little-endian storage bytes, 64-byte aligned in the file
 *   <root>/version        '3\n'
 */

export interface SaveTorchOptions {
  /** The zip's root folder (torch uses the file's stem). Default `archive`. */
  archiveName?: string;
  /**
   * Default false: tensors that share a storage keep sharing it (the whole storage is written once and
   * views keep their stride/offset), as torch does. True: every tensor gets its own contiguous storage
   * holding exactly its elements — smaller when saving small views of big storages.
   */
  compact?: boolean;
  /** For tests: force zip64 fields on every entry. */
  zip64?: 'auto' | 'always';
}

const STORAGE_CLASS: Record<TorchDtype, string> = {
  float32: 'FloatStorage',
  float16: 'HalfStorage',
  bfloat16: 'BFloat16Storage',
  float64: 'DoubleStorage',
  int64: 'LongStorage',
  int32: 'IntStorage',
  int16: 'ShortStorage',
  int8: 'CharStorage',
  uint8: 'ByteStorage',
  bool: 'BoolStorage',
};

function isTensorInput(v: unknown): v is TensorInput {
  return (
    typeof v === 'object' &&
    v !== null &&
    Object.getPrototypeOf(v) === Object.prototype &&
    'dtype' in v &&
    'shape' in v &&
    'data' in v
  );
}

/** The zip as chunks in file order (headers plus the tensors' own bytes, uncopied where possible). */
export function saveTorchChunks(value: SaveValue, opts: SaveTorchOptions = {}): Uint8Array[] {
  const root = opts.archiveName ?? 'archive';
  if (!/^[A-Za-z0-9_.-]+$/.test(root))
    fail('BAD_INPUT', `saveTorch: archive name '${root}' must be a plain folder name`);
  const compact = opts.compact ?? false;
  const keys = new Map<TorchStorage, string>();
  // Storages of converted inputs / compacted views, keyed by the tensor they were made for.
  const own = new Map<object, TorchTensor>();

  const asStored = (v: TorchTensor | TensorInput): TorchTensor => {
    const hit = own.get(v);
    if (hit !== undefined) return hit;
    let t: TorchTensor;
    if (v instanceof TorchTensor) {
      if (v.dtype !== v.storage.dtype)
        fail('BAD_INPUT', `saveTorch: tensor dtype ${v.dtype} differs from its storage's ${v.storage.dtype}`);
      checkTensorBounds(v, 'saveTorch');
      const whole = v.storageOffset === 0 && v.isContiguous && v.numel === v.storage.numel;
      if (!compact || whole) return v;
      const storage = new TorchStorage('', v.dtype, 'cpu', v.numel, tensorBytes(v));
      t = new TorchTensor(
        v.dtype,
        v.shape,
        contiguousStride(v.shape),
        0,
        storage,
        v.requiresGrad,
        v.isParameter,
      );
    } else t = tensorFromData(v);
    own.set(v, t);
    return t;
  };

  const pickle = Pickler.dumps(value, {
    persistentId(v) {
      if (!(v instanceof TorchStorage)) return undefined;
      let key = keys.get(v);
      if (key === undefined) {
        key = String(keys.size);
        keys.set(v, key);
      }
      return new PyTuple<SaveValue>([
        'storage',
        new PyGlobal('torch', STORAGE_CLASS[v.dtype]),
        key,
        'cpu',
        v.numel,
      ]);
    },
    reduce(v) {
      if (!(v instanceof TorchTensor) && !isTensorInput(v)) return undefined;
      const t = asStored(v);
      const plain = new TorchTensor(t.dtype, t.shape, t.stride, t.storageOffset, t.storage, false, false);
      const args = new PyTuple<SaveValue>([
        t.storage,
        t.storageOffset,
        new PyTuple(t.shape),
        new PyTuple(t.stride),
        t.requiresGrad,
        new PyDict(true),
      ]);
      if (!t.isParameter) return [new PyGlobal('torch._utils', '_rebuild_tensor_v2'), args];
      // nn.Parameter reduces to _rebuild_parameter(plain tensor, requires_grad, OrderedDict()).
      return [
        new PyGlobal('torch._utils', '_rebuild_parameter'),
        new PyTuple<SaveValue>([plain, t.requiresGrad, new PyDict(true)]),
      ];
    },
  });

  const enc = new TextEncoder();
  const files = [
    { name: `${root}/data.pkl`, data: pickle },
    { name: `${root}/byteorder`, data: enc.encode('little') },
  ];
  // torch writes the records in sorted key order ('0', '1', '10', '100', '11', …).
  const sorted = [...keys].sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  for (const [s, key] of sorted) {
    const n = s.numel * ELEMENT_SIZE[s.dtype];
    if (s.bytes.length < n)
      fail('BAD_INPUT', `saveTorch: storage '${s.key}' holds ${s.bytes.length} bytes, needs ${n}`);
    files.push({ name: `${root}/data/${key}`, data: s.bytes.subarray(0, n) });
  }
  files.push({ name: `${root}/version`, data: enc.encode('3\n') });
  return writeZipChunks(files, opts.zip64 === undefined ? {} : { zip64: opts.zip64 });
}

/** torch.save(value) as one buffer. For multi-GB checkpoints use {@link saveTorchChunks} and write the chunks in order. */
export function saveTorch(value: SaveValue, opts: SaveTorchOptions = {}): Uint8Array {
  return concatChunks(saveTorchChunks(value, opts));
}
