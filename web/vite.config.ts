/**
 * The browser app's build: web/ → dist/web (`npm run build:web`, also part of `npm run build`). Relative
 * asset paths, so that any static host (or `stunet web`) serves it from any folder; the predict worker is
 * an ES module (ONNX Runtime Web loads its wasm and thread workers relative to its own chunk).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: './',
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // onnxruntime-web and NiiVue are large single modules; their size is expected
    chunkSizeWarningLimit: 4096,
    reportCompressedSize: false,
  },
  worker: { format: 'es' },
});
