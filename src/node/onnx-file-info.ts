import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { StunetError } from '../util/errors.js';
import { corrupt, metadataEntry, readVarint, utf8 } from '../onnx/proto-read.js';

export interface OnnxFileInfo {
  readonly irVersion: number;
  readonly producerName: string;
  readonly producerVersion: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * Reads the top-level fields of a .onnx file (producer, metadata_props) with positioned reads,
 * seeking over the graph instead of loading it, so it is cheap even for a 1.5 GB inline model.
 */
export function readOnnxFileInfo(path: string): OnnxFileInfo {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new StunetError('NOT_FOUND', `cannot open ONNX model ${path}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  try {
    const head = new Uint8Array(10);
    const readAt = (pos: number, len: number): Uint8Array => {
      const buf = len <= head.length ? head : new Uint8Array(len);
      const got = readSync(fd, buf, 0, len, pos);
      return buf.subarray(0, got);
    };
    const info = {
      irVersion: 0,
      producerName: '',
      producerVersion: '',
      metadata: {} as Record<string, string>,
    };
    const size = fstatSync(fd).size;
    let pos = 0;
    while (pos < size) {
      const keyBytes = readAt(pos, 10);
      const [key, keyLen] = readVarint(keyBytes, 0);
      pos += keyLen;
      const field = Math.floor(key / 8);
      const wire = key % 8;
      if (wire === 0) {
        const [v, n] = readVarint(readAt(pos, 10), 0);
        pos += n;
        if (field === 1) info.irVersion = v;
      } else if (wire === 2) {
        const [len, n] = readVarint(readAt(pos, 10), 0);
        pos += n;
        if (field === 2 || field === 3 || field === 14) {
          const body = readAt(pos, len).slice();
          if (body.length !== len) corrupt(`field ${field} runs past the end of ${path}`);
          if (field === 2) info.producerName = utf8.decode(body);
          else if (field === 3) info.producerVersion = utf8.decode(body);
          else {
            const [k, v] = metadataEntry(body);
            info.metadata[k] = v;
          }
        }
        pos += len;
      } else if (wire === 5) pos += 4;
      else if (wire === 1) pos += 8;
      else corrupt(`unsupported wire type ${wire} in ${path}`);
    }
    if (pos !== size) corrupt(`last field runs past the end of ${path}`);
    return info;
  } finally {
    closeSync(fd);
  }
}
