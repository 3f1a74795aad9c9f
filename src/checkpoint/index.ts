/**
 * Checkpoint I/O without Python: torch.load / torch.save (zip and legacy formats), a whitelist unpickler
 * for plain pickles (nnU-Net plans), and safetensors. See py-values.ts for how Python values map to JS.
 */
export {
  NdArray,
  NpDtype,
  NpScalar,
  PyComplex,
  PyDevice,
  PyDict,
  PyFloat,
  PyGlobal,
  PySet,
  PySlice,
  PyTuple,
  TorchStorage,
  TorchTensor,
  pyInt,
  pyRepr,
  type PyValue,
  type TorchDtype,
} from './py-values.js';
export { unpickle, unpickleAt, type UnpickleOptions, type UnpickleResult } from './pickle.js';
export { Pickler, type PicklerHooks, type SaveValue } from './pickle-writer.js';
export {
  asStateDict,
  loadPickle,
  loadTorch,
  loadTorchLegacy,
  loadTorchZip,
  type LoadOptions,
} from './torch-load.js';
export { saveTorch, saveTorchChunks, type SaveTorchOptions } from './torch-save.js';
export {
  ELEMENT_SIZE,
  bfloat16BitsToFloat32,
  contiguousStride,
  float16BitsToFloat32,
  float32ToBfloat16Bits,
  float32ToFloat16Bits,
  tensorBytes,
  tensorFromData,
  tensorToFloat32,
  tensorToTypedArray,
  type TensorInput,
  type TorchTypedArray,
} from './tensor.js';
export {
  readSafetensors,
  writeSafetensors,
  type SafetensorsDtype,
  type SafetensorsFile,
  type SafetensorsInput,
} from './safetensors.js';
export { ZipReader, bytesSource, isZip, type ByteSource, type ZipEntry } from './zip.js';
export { writeZip, writeZipChunks, type ZipInput, type ZipWriteOptions } from './zip-writer.js';
export { pyToJson } from './py-json.js';
export { type JsonValue } from '../util/json.js';
