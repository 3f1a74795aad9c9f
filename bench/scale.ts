/**
 * Every scale with bounded memory (issue 15, item 2): writes a released-size STU-Net checkpoint (nnU-Net
 * v1 `.model` with its SGD momentum buffers, as released: L ≈ 3.5 GB, H ≈ 11.7 GB; random weights; the
 * released plans .pkl), then runs `stunet predict` on one 128³ tile (the centre 60³ voxels of the
 * example CT at 0.8 mm → 1.5 mm) in a child process, and prints the memory predict announced beforehand
 * next to the peak RSS measured, and the wall time. Asserts nothing.
 *
 *   node --import tsx bench/scale.ts --scales L,H [--threads 2] [--json] [--keep DIR] [--convert]
 *        [--low-memory]   predict with ONNX Runtime's arena off (announced with it)
 *
 * --convert also times `stunet convert` (to our model folder) and `stunet export-onnx` (external data) of
 * the checkpoint, with their peak RSS.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { torchV1Value } from '../src/checkpoint/nnunet-write.js';
import { cropNifti } from '../src/io/nifti-crop.js';
import { readNifti, writeNifti } from '../src/io/nifti.js';
import { predictMemory } from '../src/jobs/predict-memory.js';
import { Tensor } from '../src/engine/tensor.js';
import { defaultMeta, type LoadedModel } from '../src/model/loaded-model.js';
import { scaleArchitecture, SCALES, type ScaleName } from '../src/model/scales.js';
import { StuNet } from '../src/model/stunet.js';
import { embeddedBytes, RELEASED_PLAN_FILES } from '../src/models/plan-files.js';
import { saveTorchFile } from '../src/node/checkpoint-file.js';
import { nodeStore } from '../src/node/file-store.js';
import { loadModelFrom } from '../src/node/model-source.js';
import { DEFAULT_RING_MEMORY_BYTES } from '../src/node/predict-files.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const json = process.argv.includes('--json');
const threads = arg('--threads', '2');
const keep = arg('--keep', '');
const convert = process.argv.includes('--convert');
const lowMemory = process.argv.includes('--low-memory');

/** Runs the CLI from source with the peak-RSS reporter: seconds, peak RSS bytes, stdout. */
function cli(args: readonly string[]): { seconds: number; peak: number; stdout: string } {
  const t0 = performance.now();
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--import',
      join(ROOT, 'bench', 'report-rss.ts'),
      join(ROOT, 'src', 'cli', 'index.ts'),
      ...args,
    ],
    { encoding: 'utf8', cwd: ROOT, maxBuffer: 64 * 2 ** 20 },
  );
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0)
    throw new Error(`stunet ${args[0] ?? ''} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return { seconds, peak: Number(/@@peak-rss (\d+)/.exec(r.stderr)?.[1] ?? NaN), stdout: r.stdout };
}
const FILES = { S: 'small', B: 'base', L: 'large', H: 'huge' } as const;

/** Random weights of He scale, fast (xorshift, uniform with the normal's standard deviation). */
function randomModel(scale: ScaleName): LoadedModel {
  const arch = scaleArchitecture(scale);
  const weights = new Map<string, Tensor>();
  let s = 0x9e3779b9;
  for (const spec of new StuNet(arch).parameterSpecs()) {
    const t = new Tensor(spec.shape);
    const fanIn = spec.shape.slice(1).reduce((a, b) => a * b, 1);
    const bound = spec.shape.length > 1 ? Math.sqrt(3) * Math.sqrt(2 / fanIn) : 0;
    if (bound === 0) t.data.fill(spec.name.endsWith('weight') ? 1 : 0);
    else
      for (let i = 0; i < t.data.length; i++) {
        s ^= s << 13;
        s ^= s >>> 17;
        s ^= s << 5;
        t.data[i] = ((s >>> 0) / 2 ** 32 - 0.5) * 2 * bound;
      }
    weights.set(spec.name, t);
  }
  return { arch, weights, meta: { ...defaultMeta('nnunet-v1'), trainerName: SCALES[scale].trainer } };
}

function oneTileInput(dir: string): string {
  const img = readNifti(readFileSync(join(ROOT, '..', 'shared', 'data', 'totalseg', 'example_ct.nii.gz')));
  const [I = 0, J = 0, K = 0] = img.dims;
  const n = 60;
  const from: [number, number, number] = [(I - n) >> 1, (J - n) >> 1, (K - n) >> 1];
  const file = join(dir, 'crop60.nii.gz');
  writeFileSync(file, writeNifti(cropNifti(img, from, [n, n, n])));
  return file;
}

/** Writes the checkpoint (in its own process, so that its 5 GB of weights are gone before predict runs). */
function writeCheckpoint(scale: ScaleName, ckpt: string): void {
  const model = randomModel(scale);
  // Released checkpoints carry SGD momentum buffers as large as the weights; random-valued ones here
  // would only cost time, so the weights' own buffers are written as the momentum.
  saveTorchFile(ckpt, torchV1Value(model, { momentum: model.weights }).value);
  writeFileSync(`${ckpt}.pkl`, embeddedBytes(RELEASED_PLAN_FILES[FILES[scale]]));
}

const writeOnly = arg('--write', '');
if (writeOnly !== '') {
  writeCheckpoint(writeOnly as ScaleName, arg('--to', ''));
  process.exit(0);
}

/** `convert` to our model folder and `export-onnx` (external data above 1.5 GB): seconds and peak RSS. */
function conversions(
  ckpt: string,
  dir: string,
): {
  convertSeconds: number;
  convertPeakRssBytes: number;
  exportSeconds: number;
  exportPeakRssBytes: number;
} {
  const folder = cli(['convert', ckpt, '-o', join(dir, 'folder')]);
  rmSync(join(dir, 'folder'), { recursive: true, force: true });
  const onnx = cli(['export-onnx', '-m', ckpt, '-o', join(dir, 'model.onnx')]);
  return {
    convertSeconds: folder.seconds,
    convertPeakRssBytes: folder.peak,
    exportSeconds: onnx.seconds,
    exportPeakRssBytes: onnx.peak,
  };
}

for (const scale of arg('--scales', 'L,H').split(',') as ScaleName[]) {
  const dir = keep === '' ? mkdtempSync(join(tmpdir(), `stunet-scale-${scale}-`)) : keep;
  try {
    const ckpt = join(dir, `${FILES[scale]}_ep4k.model`);
    const t0 = performance.now();
    const w = spawnSync(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(import.meta.url), '--write', scale, '--to', ckpt],
      { stdio: 'inherit' },
    );
    if (w.status !== 0) throw new Error(`writing the ${scale} checkpoint failed`);
    const writeSeconds = (performance.now() - t0) / 1000;
    const fileBytes = statSync(ckpt).size;
    const input = oneTileInput(dir);
    const probe = loadModelFrom(ckpt, { weights: false });
    const estimate = predictMemory(nodeStore, probe, {
      file: input,
      executor: 'ort',
      ringBytes: DEFAULT_RING_MEMORY_BYTES,
      lowMemory,
    });
    const r = cli([
      'predict',
      '-i',
      input,
      '-o',
      join(dir, 'seg.nii.gz'),
      '-m',
      ckpt,
      '--no-tta',
      '--threads',
      threads,
      ...(lowMemory ? ['--low-memory'] : []),
    ]);
    const { seconds, peak } = r;
    const announced = /memory: [^\n]*/.exec(r.stdout)?.[0] ?? '';
    const m = {
      scale,
      parameters: new StuNet(probe.arch).parameterCount(),
      fileBytes,
      writeSeconds,
      estimateBytes: estimate.peakBytes,
      peakRssBytes: peak,
      estimateOverPeak: estimate.peakBytes / peak,
      seconds,
      threads: Number(threads),
      lowMemory,
    };
    const conv = convert ? conversions(ckpt, dir) : null;
    if (json) console.log(JSON.stringify({ ...m, ...conv }));
    else {
      const gib = (b: number): string => `${(b / 2 ** 30).toFixed(2)} GiB`;
      console.log(
        `${scale}: ${(m.parameters / 1e6).toFixed(0)}M parameters, checkpoint ${(fileBytes / 1e9).toFixed(2)} GB ` +
          `(written in ${writeSeconds.toFixed(0)} s); predict one 128³ tile: ${seconds.toFixed(0)} s, ` +
          `peak RSS ${gib(peak)}, announced ${gib(estimate.peakBytes)} (${((m.estimateOverPeak - 1) * 100).toFixed(1)} %)`,
      );
      console.log(`  ${announced}`);
      if (conv !== null)
        console.log(
          `  convert to a model folder ${conv.convertSeconds.toFixed(0)} s, peak ${gib(conv.convertPeakRssBytes)}; ` +
            `export-onnx ${conv.exportSeconds.toFixed(0)} s, peak ${gib(conv.exportPeakRssBytes)}`,
        );
    }
  } finally {
    if (keep === '') rmSync(dir, { recursive: true, force: true });
  }
}
