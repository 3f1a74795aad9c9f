import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { tempName } from './fs.js';
import { fail } from '../util/errors.js';
import { exportOnnx, type ExportOptions, type OnnxExport, type OnnxModelFn } from '../onnx/export.js';

/**
 * Writes exported models to disk. Chunks are streamed (a 5.8 GB side file is never one buffer: Node 20
 * cannot allocate one), and both files appear atomically: they are written under temporary names and
 * renamed into place only after every byte is on disk, the model last, so an existing model file
 * always has its complete side file next to it.
 */

export interface SavedOnnx {
  readonly modelPath: string;
  /** Absent when the weights are inline. */
  readonly externalDataPath?: string;
}

function writeChunks(path: string, chunks: readonly Uint8Array[]): void {
  const fd = openSync(path, 'w');
  try {
    for (const chunk of chunks) {
      for (let done = 0; done < chunk.length;) done += writeSync(fd, chunk, done, chunk.length - done);
    }
  } finally {
    closeSync(fd);
  }
}

export function saveOnnx(exported: OnnxExport, modelPath: string): SavedOnnx {
  const ext = exported.externalData;
  const dataPath = ext === undefined ? undefined : join(dirname(modelPath), ext.location);
  const staged: { tmp: string; path: string }[] = [];
  try {
    mkdirSync(dirname(modelPath), { recursive: true });
    const stage = (path: string, chunks: readonly Uint8Array[]): void => {
      const tmp = tempName(path);
      staged.push({ tmp, path });
      writeChunks(tmp, chunks);
    };
    if (ext !== undefined && dataPath !== undefined) {
      mkdirSync(dirname(dataPath), { recursive: true });
      stage(dataPath, ext.chunks);
    }
    stage(modelPath, [exported.model]);
    for (const s of staged) renameSync(s.tmp, s.path);
  } catch (e) {
    for (const s of staged) rmSync(s.tmp, { force: true });
    fail('RUNTIME', `cannot write ONNX model '${modelPath}': ${(e as Error).message}`);
  }
  return dataPath === undefined ? { modelPath } : { modelPath, externalDataPath: dataPath };
}

/**
 * exportOnnx + saveOnnx. The side file (when used) defaults to `<model file name>.data` next to the model,
 * e.g. stunet-L.onnx + stunet-L.onnx.data.
 */
export function exportOnnxToFile(
  model: OnnxModelFn,
  modelPath: string,
  options: ExportOptions,
): SavedOnnx & OnnxExport {
  const exported = exportOnnx(model, { externalDataLocation: `${basename(modelPath)}.data`, ...options });
  return { ...exported, ...saveOnnx(exported, modelPath) };
}
