import { type WasmMemory, wasmApi } from './wasm-api.js';
import { fail } from '../../../util/errors.js';

const PAGE = 65536;
/** wasm32 addresses are u32 but our parameter blocks are i32: stay below 2 GiB. */
const MAX_BYTES = 2 ** 31 - PAGE;
/** Byte offset of the i32 parameter block every kernel call reads. */
export const PARAMS_PTR = 1024;
const HEAP_START = 4096;

/**
 * The one shared wasm memory and a bump allocator over it, reset at the start of every op. Tensors
 * live in JS; an op streams slabs through regions allocated here, so the memory stays bounded by the
 * slab budget whatever the tensor size.
 */
export class Arena {
  readonly memory: WasmMemory;
  private top = HEAP_START;

  constructor() {
    this.memory = new wasmApi.Memory({ initial: 1, maximum: 65536, shared: true });
  }

  reset(): void {
    this.top = HEAP_START;
  }

  /** Reserves `bytes` (64-byte aligned); grows the memory when needed. */
  alloc(bytes: number): number {
    const ptr = this.top;
    this.top = Math.ceil((ptr + bytes) / 64) * 64;
    if (this.top > MAX_BYTES) {
      fail('UNSUPPORTED', `wasm backend: one slab needs ${this.top} bytes, over the 2 GiB working limit`);
    }
    const have = this.memory.buffer.byteLength;
    if (this.top > have) this.memory.grow(Math.ceil((this.top - have) / PAGE));
    return ptr;
  }

  /** A fresh view (the buffer object changes when the memory grows). */
  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, length);
  }

  i32(ptr: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, ptr, length);
  }

  setParams(values: readonly number[]): number {
    this.i32(PARAMS_PTR, values.length).set(values);
    return PARAMS_PTR;
  }
}
