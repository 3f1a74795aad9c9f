/**
 * The files a user gives as a model, laid out in a MemoryStore the way `stunet predict -m` finds them on
 * disk, so that the same loader (src/jobs/model-files.ts: whitelist unpickler, v1/v2 mapping, ONNX import)
 * reads them: an official v1 `.model` + `.model.pkl`, a v2 `checkpoint_final.pth` + `plans.json`
 * (+ `dataset.json`), our model folder (`model.json` + `weights.safetensors`, or a zip of it), or an `.onnx`.
 */
import { unzipSync } from 'fflate';
import { fail, MemoryStore } from './core.js';
import type { NamedBytes } from './protocol.js';

export interface ModelFiles {
  readonly store: MemoryStore;
  /** What to hand loadModelFromStore. */
  readonly path: string;
  /** A name for the page and the cache (the file the user gave). */
  readonly name: string;
}

const ROOT = 'model';

const base = (name: string): string => name.split('/').pop() ?? name;

/** A zip's files (folders dropped), names kept relative to the zip. */
function unzip(file: NamedBytes): NamedBytes[] {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(file.bytes);
  } catch (e) {
    fail('BAD_INPUT', `'${file.name}' is not a readable zip (${e instanceof Error ? e.message : String(e)})`);
  }
  return Object.entries(entries)
    .filter(([name]) => !name.endsWith('/') && !name.startsWith('__MACOSX/'))
    .map(([name, bytes]) => ({ name, bytes }));
}

/** The folder a file lies in inside `ROOT` ('' for the top). */
const folderOf = (name: string): string => name.split('/').slice(0, -1).join('/');

/** Which of the files is the model to load (a path in the store), or a message saying what is missing. */
function pickModel(files: readonly NamedBytes[]): string {
  const at = (f: NamedBytes): string => [ROOT, f.name].join('/');
  const find = (test: (n: string) => boolean): NamedBytes | undefined =>
    files.find((f) => test(base(f.name)));
  const onnx = find((n) => n.endsWith('.onnx'));
  if (onnx !== undefined) return at(onnx);
  const json = find((n) => n === 'model.json');
  if (json !== undefined) {
    const dir = folderOf(json.name);
    if (!files.some((f) => f.name === [dir, 'weights.safetensors'].filter(Boolean).join('/')))
      fail('BAD_INPUT', 'a stunet model folder needs weights.safetensors beside its model.json');
    return [ROOT, dir].filter(Boolean).join('/');
  }
  const v1 = find((n) => n.endsWith('.model'));
  if (v1 !== undefined) {
    if (!files.some((f) => f.name === `${v1.name}.pkl`))
      fail(
        'BAD_INPUT',
        `an nnU-Net v1 checkpoint needs its plans: give ${base(v1.name)}.pkl with ${base(v1.name)}`,
      );
    return at(v1);
  }
  const v2 = find((n) => n.endsWith('.pth') || n.endsWith('.pt'));
  // a v2 checkpoint's plans.json (and dataset.json) are looked for beside it and one folder up
  if (v2 !== undefined) return at(v2);
  if (find((n) => n.endsWith('.pkl')) !== undefined)
    fail('BAD_INPUT', 'a .model.pkl alone is not a model: give the .model file with it');
  return fail(
    'BAD_INPUT',
    'no model among these files: give a v1 .model + .model.pkl, a v2 checkpoint_final.pth + plans.json, ' +
      'a stunet model folder (model.json + weights.safetensors, or its zip) or an .onnx',
  );
}

/** The model files in a store, and which one to load. */
export function modelFiles(given: readonly NamedBytes[]): ModelFiles {
  if (given.length === 0) fail('BAD_INPUT', 'no model file given');
  const files = given.flatMap((f) => (/\.zip$/i.test(f.name) ? unzip(f) : [f]));
  // Dropped one by one, the files of a folder lose the folder: they sit together at the top.
  const store = new MemoryStore(files.map((f) => [`${ROOT}/${f.name}`, f.bytes] as const));
  const path = pickModel(files);
  return { store, path, name: given.map((f) => base(f.name)).join(' + ') };
}
