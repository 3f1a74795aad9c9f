/**
 * Messages between the page (main.ts) and the predict worker (worker.ts). Bytes travel as transferred
 * ArrayBuffers; nothing leaves the tab.
 */

/** A dropped or picked file: its path inside what was dropped (a folder's files keep theirs). */
export interface NamedBytes {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/**
 * Where the network runs: 'auto' (WebGPU when the browser has an adapter, else WASM), ONNX Runtime Web's
 * 'webgpu' or 'wasm', or 'engine' (stunet's own wasm kernels, no ONNX Runtime).
 */
export type WebBackend = 'auto' | 'webgpu' | 'wasm' | 'engine';

export type ModelSource =
  | { readonly kind: 'files'; readonly files: readonly NamedBytes[]; readonly keep: boolean }
  | { readonly kind: 'cached'; readonly id: string };

export interface RunRequest {
  readonly type: 'run';
  /** One NIfTI, or the files of a DICOM series (a folder's, or one zip). */
  readonly image: readonly NamedBytes[];
  readonly model: ModelSource;
  readonly backend: WebBackend;
  /** Mirror test-time augmentation (as `stunet predict`; off = `--no-tta`). */
  readonly tta: boolean;
  /** Compute threads (WASM); 1 unless the page is cross-origin isolated. */
  readonly threads: number;
}

/** A model kept in the browser (OPFS), listed with its sha256. */
export interface CachedModel {
  readonly id: string;
  readonly name: string;
  /** sha256 of weights.safetensors (hex). */
  readonly sha256: string;
  readonly bytes: number;
  readonly scale: string;
  readonly classes: number;
}

export interface OutputFile {
  readonly name: string;
  readonly data: Uint8Array;
}

export interface ClassVolume {
  readonly label: number;
  readonly name: string;
  readonly voxels: number;
  readonly volumeMl: number;
}

export type WorkerMessage =
  | { readonly type: 'status'; readonly text: string }
  | { readonly type: 'memory'; readonly text: string }
  | { readonly type: 'device'; readonly text: string }
  | { readonly type: 'progress'; readonly stage: string; readonly done: number; readonly total: number }
  | { readonly type: 'cached'; readonly model: CachedModel }
  | {
      readonly type: 'done';
      readonly outputs: readonly OutputFile[];
      /** The label map's file name among `outputs`. */
      readonly labelFile: string;
      /** The image as the viewer shows it (a NIfTI; a DICOM series converted). */
      readonly image: OutputFile;
      readonly labelNames: readonly string[];
      readonly classes: readonly ClassVolume[];
      readonly seconds: number;
    }
  | { readonly type: 'error'; readonly message: string };
