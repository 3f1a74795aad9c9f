/**
 * The model cache: `$STUNET_HOME` (default `$XDG_CACHE_HOME/stunet`, else `~/.cache/stunet`) holds
 * `models/<name>/` (a checkpoint and its companions) and `manifest.json` (per model: its files with size
 * and the sha256 recorded when it was added). `resolveModelArg` is the one place a `-m` argument becomes a
 * path: an existing path wins; otherwise a registry name (S, B, L, H, STU-Net-L, large_ep4k, …) or the name
 * of an installed model gives the cached checkpoint. Nothing is downloaded here.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { formatBytes } from '../model/memory.js';
import type { ScaleName } from '../model/scales.js';
import {
  REGISTRY,
  findRegistryModel,
  isValidModelName,
  sourcePage,
  type RegistryModel,
} from '../models/registry.js';
import { fail } from '../util/errors.js';
import { sha256File } from './download.js';

export interface CachedFile {
  readonly bytes: number;
  readonly sha256: string;
}

export interface CacheEntry {
  /** The file `-m` loads, relative to the model's folder. */
  readonly checkpoint: string;
  /** Every file of the model's folder, with its size and the sha256 recorded when it was added. */
  readonly files: Readonly<Record<string, CachedFile>>;
  /** The URL it was downloaded from, or `file:<path>` for an install. */
  readonly source: string;
  readonly added: string;
  readonly scale: ScaleName | null;
}

export interface Manifest {
  readonly version: 1;
  readonly models: Readonly<Record<string, CacheEntry>>;
}

export interface CacheOptions {
  /** The cache folder (default: `stunetHome()`). */
  readonly home?: string;
  readonly registry?: readonly RegistryModel[];
}

export function stunetHome(env: NodeJS.ProcessEnv = process.env): string {
  const home = env['STUNET_HOME'];
  if (home !== undefined && home !== '') return home;
  const xdg = env['XDG_CACHE_HOME'];
  return join(xdg !== undefined && xdg !== '' ? xdg : join(homedir(), '.cache'), 'stunet');
}

const homeOf = (o: CacheOptions): string => o.home ?? stunetHome();
const registryOf = (o: CacheOptions): readonly RegistryModel[] => o.registry ?? REGISTRY;

export const manifestPath = (home: string): string => join(home, 'manifest.json');
export const modelDir = (home: string, name: string): string => join(home, 'models', name);

export function readManifest(home: string): Manifest {
  const path = manifestPath(home);
  if (!existsSync(path)) return { version: 1, models: {} };
  try {
    const m = JSON.parse(readFileSync(path, 'utf8')) as { version?: unknown; models?: unknown };
    if (m.version !== 1 || typeof m.models !== 'object' || m.models === null)
      throw new Error('not version 1');
    return m as Manifest;
  } catch (e) {
    fail(
      'BAD_INPUT',
      `model cache manifest '${path}' is unreadable (${(e as Error).message}); delete it and add the models again`,
    );
  }
}

/** Sets (or with null removes) one model's entry; the manifest is replaced atomically. */
export function updateManifest(home: string, name: string, entry: CacheEntry | null): void {
  const models = Object.fromEntries(
    Object.entries(readManifest(home).models).filter(([n]) => n !== name),
  ) as Record<string, CacheEntry>;
  if (entry !== null) models[name] = entry;
  mkdirSync(home, { recursive: true });
  const tmp = `${manifestPath(home)}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ version: 1, models }, null, 2)}\n`);
  renameSync(tmp, manifestPath(home));
}

/** The canonical cache name of a name: the registry's for a registry alias, else the name itself. */
export function canonicalName(name: string, o: CacheOptions = {}): string {
  return findRegistryModel(name, registryOf(o))?.name ?? name;
}

export interface CachedModel {
  readonly name: string;
  readonly entry: CacheEntry;
  readonly dir: string;
  /** The checkpoint `-m` loads. */
  readonly path: string;
  readonly registry: RegistryModel | null;
}

export function cachedModel(name: string, o: CacheOptions = {}): CachedModel | null {
  const home = homeOf(o);
  const reg = findRegistryModel(name, registryOf(o));
  const canonical = reg?.name ?? name;
  const entry = readManifest(home).models[canonical];
  if (entry === undefined) return null;
  const dir = modelDir(home, canonical);
  return { name: canonical, entry, dir, path: join(dir, entry.checkpoint), registry: reg };
}

/** Files missing or of another size than recorded (cheap: no hashing); empty when intact. */
export function quickCheck(m: CachedModel): string[] {
  return Object.entries(m.entry.files).flatMap(([file, f]) => {
    const p = join(m.dir, file);
    if (!existsSync(p)) return [`${file} is missing`];
    const size = statSync(p).size;
    return size === f.bytes ? [] : [`${file} has ${size} bytes, ${f.bytes} were recorded`];
  });
}

/** Where a person gets a registry model by hand, and the command that adds it. */
export function manualHint(reg: RegistryModel): string {
  const pages = reg.sources.map(sourcePage).join(' or ');
  return `Download ${reg.checkpoint.file} by hand (${pages}) and run 'stunet models install <file> --name ${reg.name}'`;
}

/** How to get a registry model that is not in the cache. */
export function notCachedMessage(reg: RegistryModel, home: string): string {
  const size = reg.checkpoint.bytes ?? reg.estimatedBytes;
  return (
    `model ${reg.name} (${reg.checkpoint.file}, ${reg.checkpoint.bytes === null ? '≈' : ''}${formatBytes(size)}) ` +
    `is not in the model cache (${home}): run 'stunet models download ${reg.scale}'. ${manualHint(reg)}`
  );
}

/**
 * A `-m` argument as a path: an existing file or folder as is; a registry or installed model's name as its
 * cached checkpoint (an error saying how to get it when it is not cached, or when its files changed size);
 * anything else unchanged, for the loader to report.
 */
export function resolveModelArg(arg: string, o: CacheOptions = {}): string {
  if (existsSync(arg) || !isValidModelName(arg)) return arg;
  const home = homeOf(o);
  const reg = findRegistryModel(arg, registryOf(o));
  const cached = cachedModel(arg, o);
  if (cached === null) {
    if (reg === null) return arg;
    fail('NOT_FOUND', notCachedMessage(reg, home));
  }
  const problems = quickCheck(cached);
  if (problems.length > 0)
    fail(
      'BAD_INPUT',
      `cached model ${cached.name} in ${cached.dir} is damaged (${problems.join('; ')}): add it again with ` +
        `'stunet models ${reg === null ? 'install <file> --name ' + cached.name : 'download ' + reg.scale}'`,
    );
  return cached.path;
}

/** The cached checkpoint of a model name (an error saying how to get it when not cached). */
export function modelPath(name: string, o: CacheOptions = {}): string {
  const cached = cachedModel(name, o);
  if (cached !== null) return resolveModelArg(cached.name, o);
  const reg = findRegistryModel(name, registryOf(o));
  if (reg !== null) fail('NOT_FOUND', notCachedMessage(reg, homeOf(o)));
  return fail(
    'NOT_FOUND',
    `no model named '${name}' (registry names: ${registryNames(o)}; see 'stunet models list')`,
  );
}

export const registryNames = (o: CacheOptions = {}): string =>
  registryOf(o)
    .map((m) => `${m.scale}/${m.name}`)
    .join(', ');

export interface ListedModel {
  readonly name: string;
  readonly scale: ScaleName | null;
  readonly parameters: number | null;
  /** Bytes of the checkpoint: recorded when cached, else released, else estimated. */
  readonly bytes: number | null;
  readonly estimated: boolean;
  readonly cached: boolean;
  readonly path: string | null;
  readonly kind: 'registry' | 'installed';
}

/** The registry's models (cached or not) and every other model installed in the cache. */
export function listModels(o: CacheOptions = {}): ListedModel[] {
  const home = homeOf(o);
  const manifest = readManifest(home);
  const rows: ListedModel[] = registryOf(o).map((reg) => {
    const c = cachedModel(reg.name, o);
    const recorded = c?.entry.files[c.entry.checkpoint]?.bytes;
    return {
      name: reg.name,
      scale: reg.scale,
      parameters: reg.parameters,
      bytes: recorded ?? reg.checkpoint.bytes ?? reg.estimatedBytes,
      estimated: recorded === undefined && reg.checkpoint.bytes === null,
      cached: c !== null,
      path: c?.path ?? null,
      kind: 'registry',
    };
  });
  for (const [name, entry] of Object.entries(manifest.models)) {
    if (rows.some((r) => r.name === name)) continue;
    rows.push({
      name,
      scale: entry.scale,
      parameters: null,
      bytes: entry.files[entry.checkpoint]?.bytes ?? null,
      estimated: false,
      cached: true,
      path: join(modelDir(home, name), entry.checkpoint),
      kind: 'installed',
    });
  }
  return rows;
}

export interface VerifyResult {
  readonly name: string;
  readonly path: string;
  readonly problems: readonly string[];
}

/** Re-hashes every file of one cached model (or of all) against the manifest and the registry's pins. */
export function verifyModels(name?: string, o: CacheOptions = {}): VerifyResult[] {
  const home = homeOf(o);
  const names = name === undefined ? Object.keys(readManifest(home).models) : [name];
  return names.map((n) => {
    const m = cachedModel(n, o);
    if (m === null) {
      modelPath(n, o); // throws: not cached, or no such model
      return fail('NOT_FOUND', `model '${n}' is not cached`);
    }
    const problems = quickCheck(m);
    for (const [file, f] of Object.entries(m.entry.files)) {
      if (problems.some((p) => p.startsWith(`${file} `))) continue;
      const sha = sha256File(join(m.dir, file));
      if (sha !== f.sha256) problems.push(`${file}: sha256 ${sha}, recorded ${f.sha256}`);
    }
    const pin = m.registry?.checkpoint;
    const recorded = m.entry.files[m.entry.checkpoint];
    if (pin?.sha256 && recorded !== undefined && recorded.sha256 !== pin.sha256)
      problems.push(
        `${m.entry.checkpoint}: recorded sha256 ${recorded.sha256} is not the released ${pin.sha256}`,
      );
    return { name: m.name, path: m.path, problems };
  });
}
