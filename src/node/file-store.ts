/** The FileStore of the Node host: the disk, with atomic multi-file writes (src/node/fs.ts). */
import { mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { FileStore } from '../jobs/store.js';
import { fail } from '../util/errors.js';
import { exists, isDirectory, readBytes, readRange, removeStaleTemps, writeAllAtomic } from './fs.js';

export const nodeStore: FileStore = {
  read: readBytes,
  readRange,
  exists,
  isDirectory,
  list(dir) {
    if (!isDirectory(dir)) fail('NOT_FOUND', `folder '${dir}' does not exist or is not a folder`);
    return readdirSync(dir).sort();
  },
  size(path) {
    try {
      return statSync(path).size;
    } catch {
      return -1;
    }
  },
  writeAll: writeAllAtomic,
  remove(path) {
    rmSync(path, { recursive: true, force: true });
  },
  rename: renameSync,
  makeDir(path) {
    mkdirSync(path, { recursive: true });
  },
  cleanFolder(dir) {
    removeStaleTemps(dir);
  },
  join,
  dirname,
  basename,
};
