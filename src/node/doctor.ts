/**
 * `stunet doctor`: what a bug report needs about this machine and this install — versions, CPU and
 * threads, WebAssembly SIMD, ONNX Runtime's execution providers (each opened on a tiny model), memory,
 * and the model cache with its files.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism, cpus, freemem, release, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { simdSupported, type SimdVariant } from '../engine/backends/wasm/index.js';
import { wasmApi } from '../engine/backends/wasm/wasm-api.js';
import { Tensor } from '../engine/tensor.js';
import { formatBytes } from '../model/memory.js';
import { exportOnnx } from '../onnx/export.js';
import type { OnnxDevice } from '../onnx/session.js';
import {
  createOrtSession,
  cudaProviderLibrary,
  ortVersion,
  supportedProviders,
} from '../onnx/session-node.js';
import { weightsFromMap } from '../onnx/weights.js';
import { availableMemoryBytes, memoryLimitBytes } from './memory.js';
import { cachedModel, quickCheck, readManifest, stunetHome } from './model-cache.js';

export interface ProviderReport {
  readonly name: string;
  /** Part of the onnxruntime-node package (true) or extra binaries to install (false). */
  readonly bundled: boolean;
  /** Whether a session opened and ran on it; null: not tried. */
  readonly works: boolean | null;
  readonly note: string;
}

export interface CacheFileReport {
  /** Relative to the cache folder. */
  readonly path: string;
  readonly bytes: number;
}

export interface CacheReport {
  readonly home: string;
  /** Where the folder comes from: $STUNET_HOME, $XDG_CACHE_HOME or the default. */
  readonly from: string;
  readonly exists: boolean;
  readonly files: readonly CacheFileReport[];
  /** Files beyond those listed (the listing stops at 200). */
  readonly more: number;
  readonly totalBytes: number;
  /** Models of the manifest, with what a size check finds wrong (empty: intact). */
  readonly models: readonly { name: string; checkpoint: string; problems: readonly string[] }[];
  /** Why the manifest could not be read. */
  readonly error?: string;
}

export interface DoctorReport {
  readonly stunet: string;
  readonly node: string;
  readonly v8: string;
  readonly onnxruntime: string;
  readonly platform: string;
  readonly arch: string;
  readonly cpu: {
    readonly model: string;
    readonly logicalCores: number;
    /** Cores this process may use (affinity, cgroups): the wasm engine's default thread count. */
    readonly availableParallelism: number;
  };
  readonly wasm: {
    readonly simd128: boolean;
    readonly relaxedSimd: boolean;
    /** The kernel build the wasm backend runs here, or null when neither validates. */
    readonly kernels: SimdVariant | null;
  };
  readonly executionProviders: readonly ProviderReport[];
  readonly memory: {
    readonly totalBytes: number;
    readonly freeBytes: number;
    /** What stunet counts on: free memory, capped by a container limit. */
    readonly availableBytes: number;
    readonly limitBytes: number | null;
  };
  readonly cache: CacheReport;
}

export interface DoctorOptions {
  /** Open a session on each device to see that it works (default true). */
  readonly probe?: boolean;
  readonly env?: NodeJS.ProcessEnv;
}

/** A module of one function `() → v128` with `body` (magic, version, type, function and code sections). */
function v128Module(body: readonly number[]): Uint8Array {
  const code = [0x00, ...body, 0x0b]; // no locals, the body, end
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...[0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b], // one type: () → v128
    ...[0x03, 0x02, 0x01, 0x00], // one function of that type
    ...[0x0a, code.length + 2, 0x01, code.length, ...code],
  ]);
}

const V128_ZERO = [0xfd, 0x0c, ...new Array<number>(16).fill(0)]; // v128.const 0
const SIMD_MODULE = v128Module(V128_ZERO);
// f32x4.relaxed_madd (0xfd 0x105) of three zero vectors: what the relaxed wasm kernels use
const RELAXED_SIMD_MODULE = v128Module([...V128_ZERO, ...V128_ZERO, ...V128_ZERO, 0xfd, 0x85, 0x02]);

/** Whether this JavaScript engine validates a SIMD128 and a relaxed-SIMD module. */
export function wasmSimdSupport(): { simd128: boolean; relaxedSimd: boolean } {
  return {
    simd128: wasmApi.validate(SIMD_MODULE),
    relaxedSimd: wasmApi.validate(RELAXED_SIMD_MODULE),
  };
}

/** The stunet version of the package this file belongs to (source or built copy). */
export function stunetVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++, dir = dirname(dir)) {
    const path = join(dir, 'package.json');
    if (!existsSync(path)) continue;
    const pkg = JSON.parse(readFileSync(path, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'stunet' && pkg.version !== undefined) return pkg.version;
  }
  return 'unknown';
}

/** A 1×1×1 convolution: enough for a provider to compile a kernel and run it. */
function tinyModel(): Uint8Array {
  const w = new Tensor([1, 1, 1, 1, 1], new Float32Array([2]));
  const b = new Tensor([1], new Float32Array([1]));
  return exportOnnx(
    (ops, p, x) => [
      ops.conv3d(x, p.param('w', [1, 1, 1, 1, 1]), p.param('b', [1]), {
        stride: [1, 1, 1],
        padding: [0, 0, 0],
      }),
    ],
    {
      inputShape: [1, 1, 2, 2, 2],
      weights: weightsFromMap(
        new Map([
          ['w', w],
          ['b', b],
        ]),
      ),
      outputNames: ['y'],
    },
  ).model;
}

/** Opens and runs the tiny model on `device`; the reason when it does not work there. */
async function probe(model: Uint8Array, device: OnnxDevice): Promise<{ works: boolean; note: string }> {
  try {
    const s = await createOrtSession(model, { device, deviceFallback: false, intraOpThreads: 1 });
    try {
      const [y] = await s.run(new Tensor([1, 1, 2, 2, 2], new Float32Array(8).fill(1)));
      const ok = y !== undefined && y.data.every((v) => v === 3);
      return { works: ok, note: ok ? 'works' : 'ran, but computed wrong values' };
    } finally {
      await s.release();
    }
  } catch (e) {
    return { works: false, note: (e as Error).message.replace(/^ONNX Runtime: /, '') };
  }
}

async function providers(doProbe: boolean): Promise<ProviderReport[]> {
  const model = doProbe ? tinyModel() : null;
  const out: ProviderReport[] = [];
  for (const { name, bundled } of supportedProviders()) {
    const kind = name === 'cpu' || name === 'cuda' || name === 'webgpu' ? name : null;
    const library = kind === 'cuda' ? cudaProviderLibrary() : null;
    if (kind === null) {
      out.push({ name, bundled, works: null, note: 'not used by stunet' });
    } else if (library !== null && !existsSync(library)) {
      const note = `not installed (no ${library}; npm install onnxruntime-node --onnxruntime-node-install=cuda12)`;
      out.push({ name, bundled, works: false, note });
    } else if (model === null) {
      out.push({ name, bundled, works: null, note: 'not probed' });
    } else {
      out.push({ name, bundled, ...(await probe(model, { kind })) });
    }
  }
  return out;
}

function cacheFiles(home: string): { files: CacheFileReport[]; more: number; totalBytes: number } {
  const files: CacheFileReport[] = [];
  let more = 0;
  let totalBytes = 0;
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(path);
        continue;
      }
      const bytes = statSync(path).size;
      totalBytes += bytes;
      if (files.length < 200) files.push({ path: relative(home, path), bytes });
      else more++;
    }
  };
  walk(home);
  return { files, more, totalBytes };
}

function cacheReport(env: NodeJS.ProcessEnv): CacheReport {
  const home = stunetHome(env);
  const set = (k: string): boolean => env[k] !== undefined && env[k] !== '';
  const from = set('STUNET_HOME')
    ? '$STUNET_HOME'
    : set('XDG_CACHE_HOME')
      ? '$XDG_CACHE_HOME/stunet'
      : 'default';
  if (!existsSync(home)) return { home, from, exists: false, files: [], more: 0, totalBytes: 0, models: [] };
  const listing = cacheFiles(home);
  try {
    const models = Object.keys(readManifest(home).models).map((name) => {
      const m = cachedModel(name, { home });
      return { name, checkpoint: m?.entry.checkpoint ?? '', problems: m === null ? [] : quickCheck(m) };
    });
    return { home, from, exists: true, ...listing, models };
  } catch (e) {
    return { home, from, exists: true, ...listing, models: [], error: (e as Error).message };
  }
}

/** Everything `stunet doctor` reports. */
export async function doctorReport(options: DoctorOptions = {}): Promise<DoctorReport> {
  const simd = wasmSimdSupport();
  const kernels = simdSupported('relaxed') ? 'relaxed' : simdSupported('plain') ? 'plain' : null;
  const cores = cpus();
  return {
    stunet: stunetVersion(),
    node: process.version,
    v8: process.versions.v8,
    onnxruntime: ortVersion(),
    platform: `${process.platform} ${release()}`,
    arch: process.arch,
    cpu: {
      model: cores[0]?.model.trim() ?? 'unknown',
      logicalCores: cores.length,
      availableParallelism: availableParallelism(),
    },
    wasm: { ...simd, kernels },
    executionProviders: await providers(options.probe ?? true),
    memory: {
      totalBytes: totalmem(),
      freeBytes: freemem(),
      availableBytes: availableMemoryBytes(),
      limitBytes: memoryLimitBytes(),
    },
    cache: cacheReport(options.env ?? process.env),
  };
}

const yes = (b: boolean): string => (b ? 'yes' : 'no');

/** The report as the plain text block a user pastes into a bug report. */
export function formatDoctorReport(r: DoctorReport): string {
  const pad = (k: string): string => k.padEnd(13);
  const lines = [
    `${pad('stunet')}${r.stunet}`,
    `${pad('node')}${r.node} (V8 ${r.v8})`,
    `${pad('onnxruntime')}${r.onnxruntime} (onnxruntime-node)`,
    `${pad('platform')}${r.platform} ${r.arch}`,
    `${pad('cpu')}${r.cpu.model}, ${r.cpu.logicalCores} logical cores, ${r.cpu.availableParallelism} available`,
    `${pad('threads')}wasm engine ${r.cpu.availableParallelism} (one per available core); ONNX Runtime one per physical core (--threads sets both)`,
    `${pad('wasm simd')}simd128 ${yes(r.wasm.simd128)}, relaxed-simd ${yes(r.wasm.relaxedSimd)}; kernels: ${r.wasm.kernels ?? 'none run here'}`,
  ];
  r.executionProviders.forEach((p, i) => {
    const head = pad(i === 0 ? 'providers' : '');
    lines.push(`${head}${p.name.padEnd(9)} ${(p.bundled ? 'bundled' : 'extra').padEnd(8)} ${p.note}`);
  });
  const m = r.memory;
  lines.push(
    `${pad('memory')}${formatBytes(m.totalBytes)} total, ${formatBytes(m.freeBytes)} free, ` +
      `${formatBytes(m.availableBytes)} available to stunet` +
      (m.limitBytes === null ? '' : ` (container limit ${formatBytes(m.limitBytes)})`),
  );
  const c = r.cache;
  const where = `${c.home} (${c.from})`;
  if (!c.exists) lines.push(`${pad('model cache')}${where}: does not exist yet`);
  else {
    lines.push(
      `${pad('model cache')}${where}: ${c.files.length + c.more} files, ${formatBytes(c.totalBytes)}`,
    );
    for (const f of c.files) lines.push(`${pad('')}  ${f.path}  ${formatBytes(f.bytes)}`);
    if (c.more > 0) lines.push(`${pad('')}  … and ${c.more} more`);
    for (const model of c.models)
      lines.push(
        `${pad('')}model ${model.name}: ${model.problems.length === 0 ? 'intact (sizes)' : model.problems.join('; ')}`,
      );
    if (c.error !== undefined) lines.push(`${pad('')}manifest: ${c.error}`);
  }
  return lines.join('\n');
}
