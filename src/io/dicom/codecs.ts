import { fail } from '../../util/errors.js';
import { decodeJpegLossless } from './jpeg-lossless.js';

/**
 * Compressed pixel data: which codec decodes which transfer syntax, and how the WASM codecs are loaded.
 *
 * - JPEG lossless (process 14, .57/.70): our own decoder (jpeg-lossless.ts), plain TypeScript.
 * - JPEG baseline (.50): @cornerstonejs/codec-libjpeg-turbo-8bit; JPEG-LS (.80/.81):
 *   @cornerstonejs/codec-charls; JPEG 2000 (.90/.91): @cornerstonejs/codec-openjpeg. Each is an
 *   Emscripten build (`…/decodewasmjs` + its `.wasm` beside it; the packages' all-JS `…/decode` builds are
 *   4× slower); they are loaded on first use, by a dynamic import that bundlers do not follow (their glue
 *   names Node's `fs`/`path` for its Node branch, which a browser bundle of the core must not contain).
 *   In Node that import just works. In a browser bundle, import the three `…/decodewasmjs` modules in the
 *   app (the bundler must treat `fs` and `path` as empty/external, and serve the `.wasm` files: say where
 *   with `moduleArgs.locateFile`) and pass them as `codecs` (see `DicomCodecModules`).
 */
export type CodecName = 'jpeg-baseline' | 'jpeg-lossless' | 'jpeg-ls' | 'jpeg2000';

export const CODEC_OF_SYNTAX: Readonly<Record<string, CodecName>> = {
  '1.2.840.10008.1.2.4.50': 'jpeg-baseline',
  '1.2.840.10008.1.2.4.57': 'jpeg-lossless',
  '1.2.840.10008.1.2.4.70': 'jpeg-lossless',
  '1.2.840.10008.1.2.4.80': 'jpeg-ls',
  '1.2.840.10008.1.2.4.81': 'jpeg-ls',
  '1.2.840.10008.1.2.4.90': 'jpeg2000',
  '1.2.840.10008.1.2.4.91': 'jpeg2000',
};

export interface DecodedFrame {
  readonly width: number;
  readonly height: number;
  readonly bitsPerSample: number;
  readonly components: number;
  readonly signed: boolean;
  /** Samples, little endian, 1 byte each up to 8 bits, else 2 (copied out of the codec's memory). */
  readonly bytes: Uint8Array;
}

/** Decodes one frame; `name` (the file's) is for messages. */
export type FrameDecoder = (encoded: Uint8Array, name: string) => DecodedFrame;

/** An Emscripten module factory as the `@cornerstonejs/codec-*` packages export it. */
export type EmscriptenFactory = (moduleArg?: object) => Promise<object>;
/** A module namespace or the factory itself (CommonJS default export). */
type FactoryImport = EmscriptenFactory | { readonly default: EmscriptenFactory };

/** The three WASM codec modules, for hosts that load them themselves (a browser app's bundle). */
export interface DicomCodecModules {
  /** `@cornerstonejs/codec-openjpeg/decodewasmjs` */
  readonly openjpeg?: FactoryImport;
  /** `@cornerstonejs/codec-charls/decodewasmjs` */
  readonly charls?: FactoryImport;
  /** `@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs` */
  readonly libjpegTurbo?: FactoryImport;
  /** Passed to each factory (Emscripten module arguments), e.g. `locateFile` for where the .wasm is served. */
  readonly moduleArgs?: object;
}

interface EmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  getFrameInfo(): {
    width: number;
    height: number;
    bitsPerSample: number;
    componentCount: number;
    isSigned: boolean;
  };
  getDecodedBuffer(): Uint8Array;
  delete(): void;
}

const WASM = {
  'jpeg-baseline': { key: 'libjpegTurbo', pkg: 'codec-libjpeg-turbo-8bit', cls: 'JPEGDecoder' },
  'jpeg-ls': { key: 'charls', pkg: 'codec-charls', cls: 'JpegLSDecoder' },
  jpeg2000: { key: 'openjpeg', pkg: 'codec-openjpeg', cls: 'J2KDecoder' },
} as const;

/** Loaded decoders: by codec for the default loader, and per `codecs` object handed in. */
const defaults = new Map<string, Promise<FrameDecoder>>();
const handedIn = new WeakMap<DicomCodecModules, Map<string, Promise<FrameDecoder>>>();

function factoryOf(m: FactoryImport): EmscriptenFactory {
  return typeof m === 'function' ? m : m.default;
}

/** Loads a package the bundler must not follow (see the file comment). */
async function importOpaque(pkg: string): Promise<FactoryImport> {
  const specifier = ['@cornerstonejs', pkg, 'decodewasmjs'].join('/');
  return (await import(/* @vite-ignore */ /* webpackIgnore: true */ specifier)) as FactoryImport;
}

async function wasmDecoder(
  name: keyof typeof WASM,
  modules: DicomCodecModules | undefined,
): Promise<FrameDecoder> {
  const spec = WASM[name];
  let imported: FactoryImport | undefined = modules?.[spec.key];
  if (imported === undefined) {
    try {
      imported = await importOpaque(spec.pkg);
    } catch (e) {
      fail(
        'UNSUPPORTED',
        `dicom: the ${name} codec (@cornerstonejs/${spec.pkg}) could not be loaded here (${e instanceof Error ? e.message : String(e)}); in a browser bundle pass it as codecs.${spec.key}`,
      );
    }
  }
  const quiet = (): void => undefined;
  const args = { print: quiet, printErr: quiet, ...(modules?.moduleArgs ?? {}) };
  const module = (await factoryOf(imported)(args)) as Record<string, new () => EmDecoder>;
  const Ctor = module[spec.cls];
  if (Ctor === undefined) fail('UNSUPPORTED', `dicom: @cornerstonejs/${spec.pkg} has no ${spec.cls}`);
  // a fresh decoder per frame: after a failed decode, a reused one still holds the previous frame
  return (encoded) => {
    const decoder = new Ctor();
    try {
      decoder.getEncodedBuffer(encoded.length).set(encoded);
      decoder.decode();
      const info = decoder.getFrameInfo();
      const bytes = decoder.getDecodedBuffer().slice();
      const expected = info.width * info.height * info.componentCount * (info.bitsPerSample > 8 ? 2 : 1);
      if (bytes.length === 0 || bytes.length !== expected) throw new Error(`${bytes.length} bytes out`);
      return {
        width: info.width,
        height: info.height,
        bitsPerSample: info.bitsPerSample,
        components: info.componentCount,
        signed: info.isSigned,
        bytes,
      };
    } finally {
      decoder.delete();
    }
  };
}

function jpegLossless(encoded: Uint8Array, name: string): DecodedFrame {
  const f = decodeJpegLossless(encoded, name);
  return {
    width: f.width,
    height: f.height,
    bitsPerSample: f.precision,
    components: 1,
    signed: false,
    bytes: f.bytes,
  };
}

/** The decoder for a codec, loaded once (per process) and reused. */
export function frameDecoder(name: CodecName, modules?: DicomCodecModules): Promise<FrameDecoder> {
  if (name === 'jpeg-lossless') return Promise.resolve(jpegLossless);
  let cache = defaults;
  if (modules !== undefined) {
    cache = handedIn.get(modules) ?? new Map<string, Promise<FrameDecoder>>();
    handedIn.set(modules, cache);
  }
  let p = cache.get(name);
  if (p === undefined) {
    p = wasmDecoder(name, modules);
    cache.set(name, p);
    // a failed load is not kept: the next call tries again
    p.catch(() => cache.delete(name));
  }
  return p;
}
