/**
 * Models kept in the browser (issue 11, item 5): the converted model as our model folder (model.json +
 * weights.safetensors, src/checkpoint/model-folder.ts) in the origin private file system, one folder per
 * model named by its weights' sha256, so a next visit needs only the image. Used by the page (list,
 * remove) and the predict worker (save, read).
 */
import { fail, MemoryStore, serializeModel, type LoadedModel } from './core.js';
import type { CachedModel } from './protocol.js';

const DIR = 'stunet-models';
const META = 'meta.json';

async function modelsDir(): Promise<FileSystemDirectoryHandle> {
  const storage = (navigator as { storage?: StorageManager }).storage;
  if (storage?.getDirectory === undefined)
    fail('UNSUPPORTED', 'this browser has no origin private file system: models cannot be kept');
  return (await storage.getDirectory()).getDirectoryHandle(DIR, { create: true });
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** sha256 of `bytes` in hex. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

async function writeFile(
  dir: FileSystemDirectoryHandle,
  name: string,
  data: Uint8Array | string,
): Promise<void> {
  const handle = await dir.getFileHandle(name, { create: true });
  const w = await handle.createWritable();
  await w.write(typeof data === 'string' ? data : (data as Uint8Array<ArrayBuffer>));
  await w.close();
}

/** Keeps `model` (converted to our folder format); returns its listing entry. */
export async function saveModel(model: LoadedModel, name: string): Promise<CachedModel> {
  const files = serializeModel(model);
  const weights = concat(files.weights);
  const sha256 = await sha256Hex(weights);
  const id = sha256.slice(0, 16);
  const parsed = JSON.parse(files.modelJson) as { scale?: string | null };
  const entry: CachedModel = {
    id,
    name,
    sha256,
    bytes: weights.length + files.modelJson.length,
    scale: parsed.scale ?? 'custom',
    classes: model.arch.numClasses,
  };
  const dir = await (await modelsDir()).getDirectoryHandle(id, { create: true });
  await writeFile(dir, 'model.json', files.modelJson);
  await writeFile(dir, 'weights.safetensors', weights);
  await writeFile(dir, META, JSON.stringify(entry)); // last: a folder without it is incomplete
  return entry;
}

/** The kept models, complete ones only, by name. */
export async function listModels(): Promise<CachedModel[]> {
  const root = await modelsDir();
  const out: CachedModel[] = [];
  for await (const [id, handle] of root.entries()) {
    if (handle.kind !== 'directory') continue;
    try {
      const meta = await (await (handle as FileSystemDirectoryHandle).getFileHandle(META)).getFile();
      out.push(JSON.parse(await meta.text()) as CachedModel);
    } catch {
      await root.removeEntry(id, { recursive: true }); // a save cut short
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** A kept model's folder in a MemoryStore, at `model/`. */
export async function readModel(
  id: string,
): Promise<{ store: MemoryStore; path: string; entry: CachedModel }> {
  let dir: FileSystemDirectoryHandle;
  try {
    dir = await (await modelsDir()).getDirectoryHandle(id);
  } catch {
    fail('NOT_FOUND', `no kept model '${id}' in this browser (it may have been removed)`);
  }
  const read = async (name: string): Promise<Uint8Array> =>
    new Uint8Array(await (await (await dir.getFileHandle(name)).getFile()).arrayBuffer());
  const entry = JSON.parse(new TextDecoder().decode(await read(META))) as CachedModel;
  const weights = await read('weights.safetensors');
  if ((await sha256Hex(weights)) !== entry.sha256)
    fail(
      'BAD_INPUT',
      `the kept model '${entry.name}' is damaged (its sha256 changed): remove it and give the files again`,
    );
  const store = new MemoryStore([
    ['model/model.json', await read('model.json')],
    ['model/weights.safetensors', weights],
  ]);
  return { store, path: 'model', entry };
}

export async function removeModel(id: string): Promise<void> {
  await (await modelsDir()).removeEntry(id, { recursive: true });
}
