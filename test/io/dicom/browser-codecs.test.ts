/**
 * The WASM codecs in a browser bundle: an app entry imports the core and the `…/decodewasmjs` modules
 * (esbuild, platform browser, `fs`/`path` external as a browser app's bundler would stub them), hands them
 * in as `codecs` with the `.wasm` bytes, and reads the JPEG 2000 and JPEG-LS series in a V8 context with
 * a Web Worker's globals and none of Node's.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { createContext, runInContext } from 'node:vm';
import { build } from 'esbuild';
import { fixturePath } from '../../helpers.js';
import { ROOT } from '../../architecture/graph.js';

const require = createRequire(import.meta.url);

const ENTRY = `
import { readDicomSeries } from './src/index.ts';
import openjpeg from '@cornerstonejs/codec-openjpeg/decodewasmjs';
import charls from '@cornerstonejs/codec-charls/decodewasmjs';
globalThis.readSeries = async (files, wasm) => {
  const out = [];
  for (const [codec, bytes] of [['openjpeg', wasm.openjpeg], ['charls', wasm.charls]]) {
    const r = await readDicomSeries(files[codec], {
      codecs: { openjpeg, charls, moduleArgs: { wasmBinary: bytes } },
    });
    out.push({ dims: r.image.dims, sum: r.image.data.reduce((a, b) => a + b, 0) });
  }
  return JSON.stringify(out);
};
`;

test('the JPEG 2000 and JPEG-LS codecs decode in a browser bundle, handed in by the app', async () => {
  const r = await build({
    stdin: { contents: ENTRY, resolveDir: ROOT, loader: 'ts' },
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    external: ['fs', 'path'],
    write: false,
    logLevel: 'silent',
  });
  const code = r.outputFiles[0]?.text ?? '';
  const series = (name: string): { name: string; bytes: number[] }[] =>
    readdirSync(fixturePath('dicom', 'syntaxes', name))
      .sort()
      .map((n) => ({ name: n, bytes: [...readFileSync(fixturePath('dicom', 'syntaxes', name, n))] }));
  const wasm = (pkg: string, file: string): number[] => [
    ...readFileSync(join(require.resolve(`@cornerstonejs/${pkg}/wasm`), '..', file)),
  ];
  const context = createContext({
    input: JSON.stringify({
      files: { openjpeg: series('jpeg2000'), charls: series('jpeg-ls') },
      wasm: {
        openjpeg: wasm('codec-openjpeg', 'openjpegwasm_decode.wasm'),
        charls: wasm('codec-charls', 'charlswasm_decode.wasm'),
      },
    }),
    TextEncoder,
    TextDecoder,
    performance,
    setTimeout,
    clearTimeout,
    queueMicrotask,
    console,
  });
  runInContext(code, context);
  const result = (await runInContext(
    `(async () => {
      if (typeof process !== 'undefined' || typeof require !== 'undefined') throw new Error('Node leaked in');
      const raw = JSON.parse(input);
      const files = {};
      for (const k of Object.keys(raw.files)) files[k] = raw.files[k].map((f) => ({ name: f.name, bytes: Uint8Array.from(f.bytes) }));
      return readSeries(files, { openjpeg: Uint8Array.from(raw.wasm.openjpeg), charls: Uint8Array.from(raw.wasm.charls) });
    })()`,
    context,
  )) as string;
  const { readDicomSeries } = await import('../../../src/io/dicom/read.js');
  const source = await readDicomSeries(
    readdirSync(fixturePath('dicom', 'syntaxes', 'source-12bit'))
      .sort()
      .map((n) => ({
        name: n,
        bytes: new Uint8Array(readFileSync(fixturePath('dicom', 'syntaxes', 'source-12bit', n))),
      })),
  );
  const sum = source.image.data.reduce((a, b) => a + b, 0);
  assert.deepEqual(JSON.parse(result), [
    { dims: [16, 12, 3], sum },
    { dims: [16, 12, 3], sum },
  ]);
});
