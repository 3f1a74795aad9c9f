/**
 * Adding models to the cache: `downloadModel` (a registry model, from its sources in order, resumable) and
 * `installModel` (a file obtained by hand, checked to load as an STU-Net first). Either assembles the
 * model's folder under a temporary name and renames it into place, then records every file's size and
 * sha256 in the manifest: a failure leaves no cached model behind.
 */
import { randomBytes } from 'node:crypto';
import {
  constants,
  copyFileSync,
  existsSync,
  mkdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { matchScale } from '../model/scales.js';
import type { LoadedModel } from '../model/loaded-model.js';
import { embeddedBytes } from '../models/plan-files.js';
import { findRegistryModel, isValidModelName, sourceUrl, type RegistryModel } from '../models/registry.js';
import { StunetError, fail } from '../util/errors.js';
import type { ProgressListener } from '../util/progress.js';
import { DownloadInterrupted, downloadFile, sha256File } from './download.js';
import {
  cachedModel,
  modelDir,
  manualHint,
  quickCheck,
  registryNames,
  stunetHome,
  updateManifest,
  type CacheEntry,
  type CacheOptions,
} from './model-cache.js';
import { loadModelFrom } from './model-source.js';

export interface AddedModel {
  readonly name: string;
  /** The checkpoint `-m <name>` loads. */
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly source: string;
  /** True when the model was in the cache already and nothing was downloaded. */
  readonly alreadyCached: boolean;
}

export interface DownloadModelOptions extends CacheOptions {
  readonly progress?: ProgressListener;
  readonly signal?: AbortSignal;
  /** Download again even when the model is cached. */
  readonly force?: boolean;
  /** Instead of https://huggingface.co (default: `$HF_ENDPOINT`, as huggingface_hub reads it). */
  readonly hfEndpoint?: string;
}

const homeOf = (o: CacheOptions): string => o.home ?? stunetHome();

/** Moves an assembled folder to `models/<name>` (replacing an older one) and records it. */
function commit(home: string, name: string, staged: string, entry: CacheEntry): string {
  const dir = modelDir(home, name);
  const old = `${dir}.old-${randomBytes(4).toString('hex')}`;
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(staged, dir);
  rmSync(old, { recursive: true, force: true });
  updateManifest(home, name, entry);
  return join(dir, entry.checkpoint);
}

function stagingDir(home: string, name: string): string {
  const dir = join(home, 'models', `.staging-${name}-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function recordFiles(
  dir: string,
  files: readonly string[],
): Record<string, { bytes: number; sha256: string }> {
  return Object.fromEntries(
    files.map((f) => [f, { bytes: statSync(join(dir, f)).size, sha256: sha256File(join(dir, f)) }]),
  );
}

/** Downloads a registry model (S, B, L, H or another of its names) into the cache. */
export async function downloadModel(name: string, o: DownloadModelOptions = {}): Promise<AddedModel> {
  const home = homeOf(o);
  const reg = findRegistryModel(name, o.registry);
  if (reg === null)
    fail('NOT_FOUND', `'${name}' is not a released model (${registryNames(o)}); see 'stunet models list'`);
  const cached = cachedModel(reg.name, o);
  if (cached !== null && o.force !== true && quickCheck(cached).length === 0) {
    const f = cached.entry.files[cached.entry.checkpoint];
    return {
      name: reg.name,
      path: cached.path,
      bytes: f?.bytes ?? 0,
      sha256: f?.sha256 ?? '',
      source: cached.entry.source,
      alreadyCached: true,
    };
  }
  const endpoint = o.hfEndpoint ?? process.env['HF_ENDPOINT'] ?? 'https://huggingface.co';
  const urls = reg.sources.flatMap((s) => sourceUrl(s, endpoint) ?? []);
  const dest = join(home, 'models', '.downloads', reg.name, reg.checkpoint.file);
  const failures: string[] = [];
  for (const url of urls) {
    let got;
    try {
      got = await downloadFile(url, dest, {
        expectedBytes: reg.checkpoint.bytes,
        sha256: reg.checkpoint.sha256,
        pinnedBy: reg.checkpoint.pinnedBy,
        stage: `download ${reg.name}`,
        ...(o.progress === undefined ? {} : { progress: o.progress }),
        ...(o.signal === undefined ? {} : { signal: o.signal }),
      });
    } catch (e) {
      // A dropped connection keeps its partial file: the next run resumes it from the same source.
      if (e instanceof DownloadInterrupted && existsSync(`${dest}.part`)) throw e;
      if (!(e instanceof StunetError) || e.name === 'AbortError') throw e;
      failures.push(e.message);
      continue;
    }
    const staged = stagingDir(home, reg.name);
    renameSync(got.path, join(staged, reg.checkpoint.file));
    writeFileSync(join(staged, reg.plansFile.file), embeddedBytes(reg.plansFile.embedded));
    rmSync(dirname(dest), { recursive: true, force: true });
    const files = recordFiles(staged, [reg.checkpoint.file, reg.plansFile.file]);
    const entry = entryFor(reg.checkpoint.file, files, url, reg.scale);
    const path = commit(home, reg.name, staged, entry);
    return { name: reg.name, path, bytes: got.bytes, sha256: got.sha256, source: url, alreadyCached: false };
  }
  return fail('RUNTIME', `could not download ${reg.name}: ${failures.join('; ')}. ${manualHint(reg)}`);
}

const entryFor = (
  checkpoint: string,
  files: CacheEntry['files'],
  source: string,
  scale: CacheEntry['scale'],
): CacheEntry => ({ checkpoint, files, source, added: new Date().toISOString(), scale });

/** The files that make up the model at `src`, as [source path, name in the cache folder]. */
function modelFiles(src: string, reg: RegistryModel | null): { copy: [string, string][]; plans: boolean } {
  const name = basename(src);
  if (statSync(src).isDirectory()) {
    const files = ['model.json', 'weights.safetensors'].filter((f) => existsSync(join(src, f)));
    if (files.length < 2)
      fail(
        'BAD_INPUT',
        `'${src}' is a folder without model.json + weights.safetensors: install the checkpoint file`,
      );
    return { copy: files.map((f) => [join(src, f), f]), plans: false };
  }
  if (name.endsWith('.model')) {
    const pkl = `${src}.pkl`;
    if (existsSync(pkl))
      return {
        copy: [
          [src, name],
          [pkl, `${name}.pkl`],
        ],
        plans: false,
      };
    if (reg !== null) return { copy: [[src, name]], plans: true };
    fail('NOT_FOUND', `v1 checkpoint '${src}' needs its plans file '${pkl}' beside it`);
  }
  const copy: [string, string][] = [[src, name]];
  for (const extra of ['plans.json', 'dataset.json']) {
    const found = [join(dirname(src), extra), join(dirname(src), '..', extra)].find((p) => existsSync(p));
    if (found !== undefined) copy.push([found, extra]);
  }
  return { copy, plans: false };
}

/** A registry name demands the released model: its scale, classes and, where pinned, its exact bytes. */
function checkRegistryModel(reg: RegistryModel, model: LoadedModel, sha256: string, file: string): void {
  const scale = matchScale(model.arch);
  const again = `; install it under another name with --name <name>`;
  if (scale !== reg.scale || model.arch.numClasses !== reg.numClasses)
    fail(
      'BAD_INPUT',
      `'${file}' is an STU-Net with depth [${model.arch.depth.join(',')}], dims [${model.arch.dims.join(',')}] ` +
        `and ${model.arch.numClasses} classes, not ${reg.name} (scale ${reg.scale}, ${reg.numClasses} classes)${again}`,
    );
  if (reg.checkpoint.sha256 !== null && sha256 !== reg.checkpoint.sha256)
    fail(
      'BAD_INPUT',
      `'${file}' is not the released ${reg.checkpoint.file}: sha256 ${sha256}, the release has ` +
        `${reg.checkpoint.sha256} (${reg.checkpoint.pinnedBy ?? 'registry'})${again}`,
    );
}

export interface InstallOptions extends CacheOptions {
  /** The cache name (a registry name for a released model); default: from the file name, e.g. large_ep4k.model. */
  readonly name?: string;
}

/**
 * Adds a model obtained by hand (an official v1 `.model` with or without its `.pkl`, a v2 `.pth` with its
 * plans.json, or a model folder) after checking that it loads as an STU-Net.
 */
export function installModel(src: string, o: InstallOptions = {}): AddedModel {
  if (!existsSync(src)) fail('NOT_FOUND', `'${src}' does not exist`);
  const home = homeOf(o);
  const named = o.name ?? basename(src);
  const reg = findRegistryModel(named, o.registry);
  if (reg === null && o.name === undefined)
    fail(
      'BAD_INPUT',
      `name the model: 'stunet models install ${src} --name <name>' (or a registry name: ${registryNames(o)})`,
    );
  const name = reg?.name ?? named;
  if (!isValidModelName(name))
    fail('BAD_INPUT', `model name '${name}' must be letters, digits, '.', '_' or '-' (it names a folder)`);
  const { copy, plans } = modelFiles(src, reg);
  const staged = stagingDir(home, name);
  try {
    for (const [from, to] of copy) copyFileSync(from, join(staged, to), constants.COPYFILE_FICLONE);
    if (plans && reg !== null)
      writeFileSync(join(staged, reg.plansFile.file), embeddedBytes(reg.plansFile.embedded));
    const checkpoint = copy[0]?.[1] ?? fail('BAD_INPUT', `'${src}': nothing to install`);
    let model: LoadedModel;
    try {
      model = loadModelFrom(join(staged, checkpoint));
    } catch (e) {
      throw new StunetError('BAD_INPUT', `'${src}' does not load as an STU-Net: ${(e as Error).message}`, {
        cause: e,
      });
    }
    const files = recordFiles(staged, [
      ...copy.map(([, to]) => to),
      ...(plans && reg ? [reg.plansFile.file] : []),
    ]);
    const sha256 = files[checkpoint]?.sha256 ?? '';
    if (reg !== null) checkRegistryModel(reg, model, sha256, src);
    const entry = entryFor(checkpoint, files, `file:${src}`, matchScale(model.arch));
    const path = commit(home, name, staged, entry);
    return {
      name,
      path,
      bytes: files[checkpoint]?.bytes ?? 0,
      sha256,
      source: entry.source,
      alreadyCached: false,
    };
  } finally {
    rmSync(staged, { recursive: true, force: true });
  }
}
