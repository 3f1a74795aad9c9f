/**
 * `stunet predict` benchmark: wall time and peak RSS of predicting the real example CT
 * (shared/data/totalseg/example_ct.nii.gz → 224×202×244 at 1.5 mm) with random-weight models, each
 * measurement in its own process (peak RSS is per process). Shows that peak RSS with 5 and 105 classes
 * can be compared. Prints figures; asserts nothing.
 *
 *   node --import tsx bench/predict.ts                       S and B, 105 and 5 classes, TTA off and on
 *   node --import tsx bench/predict.ts --scales S --classes 105,5 --tta off --backend ort --threads 2
 *   node --import tsx bench/predict.ts --json                one JSON object per measurement
 *   node --import tsx bench/predict.ts --scales S,B --classes 105 --tta on --crop 60 --tta-memory-gb 8
 *        the centre 60³ voxels of the input (→ 120³ at 1.5 mm: one tile); TTA passes held (8 GiB budget)
 *        or streamed (0, the default)
 */
import { cropNifti } from '../src/io/nifti-crop.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readNifti, writeNifti } from '../src/io/nifti.js';
import { initWeightsHe } from '../src/model/init.js';
import { defaultMeta } from '../src/model/loaded-model.js';
import { scaleArchitecture } from '../src/model/scales.js';
import { StuNet } from '../src/model/stunet.js';
import { predictFile } from '../src/node/predict-files.js';
import { createPredictorNetwork, type PredictBackend } from '../src/jobs/network.js';
import { nodeRuntime } from '../src/node/runtime.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const source = arg('--input', join('..', 'shared', 'data', 'totalseg', 'example_ct.nii.gz'));
const crop = arg('--crop', '');

/** The centre n³ voxels of a NIfTI (affine moved to the crop's corner), written to a temporary file. */
function centreCrop(path: string, n: number): string {
  const img = readNifti(readFileSync(path));
  const [I, J, K] = img.dims as [number, number, number];
  const size = [Math.min(n, I), Math.min(n, J), Math.min(n, K)] as const;
  const from = [I, J, K].map((d, a) => Math.floor((d - (size[a] as number)) / 2)) as [number, number, number];
  const dir = mkdtempSync(join(tmpdir(), 'stunet-bench-crop-'));
  const file = join(dir, `crop${n}.nii.gz`);
  writeFileSync(file, writeNifti(cropNifti(img, from, size)));
  return file;
}

// The parent crops once and hands the file to every child (children get no --crop).
const input = crop === '' ? source : centreCrop(source, Number(crop));
const backend = arg('--backend', 'ort') as PredictBackend;
const threads = arg('--threads', '');
/** --tta-memory-gb n: predictFile's ttaFeatureBudgetBytes (held vs streamed TTA passes); default its own. */
const ttaMemoryGb = arg('--tta-memory-gb', '');

interface Measurement {
  scale: string;
  classes: number;
  tta: boolean;
  backend: string;
  threads: number | null;
  input: string;
  ttaMemoryGb: number | null;
  seconds: number;
  peakRssBytes: number;
  tiles?: number;
}

async function child(scale: string, classes: number, tta: boolean): Promise<void> {
  const arch = { ...scaleArchitecture(scale), numClasses: classes };
  const model = { arch, weights: initWeightsHe(new StuNet(arch), 0), meta: defaultMeta() };
  const t = threads === '' ? undefined : Number(threads);
  const predictor = await createPredictorNetwork(
    model,
    backend,
    nodeRuntime,
    t === undefined ? {} : { threads: t },
  );
  const dir = mkdtempSync(join(tmpdir(), 'stunet-bench-'));
  try {
    const t0 = performance.now();
    await predictFile(input, join(dir, 'seg.nii.gz'), model, predictor.network, {
      mirrorAxes: tta ? [0, 1, 2] : [],
      ...(ttaMemoryGb === '' ? {} : { ttaFeatureBudgetBytes: Number(ttaMemoryGb) * 2 ** 30 }),
    });
    const m: Measurement = {
      scale,
      classes,
      tta,
      backend,
      threads: t ?? null,
      input,
      ttaMemoryGb: ttaMemoryGb === '' ? null : Number(ttaMemoryGb),
      seconds: (performance.now() - t0) / 1000,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
    };
    console.log(JSON.stringify(m));
  } finally {
    await predictor.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--child')) {
  await child(arg('--scale', 'S'), Number(arg('--n-classes', '105')), arg('--tta', 'off') === 'on');
} else {
  const json = process.argv.includes('--json');
  const scales = arg('--scales', 'S,B').split(',');
  const classList = arg('--classes', '105,5').split(',').map(Number);
  const ttaArg = arg('--tta', 'off,on');
  const ttas = ttaArg.split(',').map((s) => s === 'on');
  const self = fileURLToPath(import.meta.url);
  for (const scale of scales)
    for (const tta of ttas)
      for (const classes of classList) {
        const args = ['--import', 'tsx', self, '--child', '--scale', scale, '--n-classes', String(classes)];
        args.push('--tta', tta ? 'on' : 'off', '--input', input, '--backend', backend);
        if (threads !== '') args.push('--threads', threads);
        if (ttaMemoryGb !== '') args.push('--tta-memory-gb', ttaMemoryGb);
        const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
        const line = r.stdout.trim().split('\n').pop() ?? '';
        if (r.status !== 0 || !line.startsWith('{')) {
          console.log(
            `STU-Net ${scale} ${classes} classes tta=${tta}: failed: ${r.stderr.trim().split('\n').pop() ?? ''}`,
          );
          continue;
        }
        const m = JSON.parse(line) as Measurement;
        if (json) console.log(line);
        else
          console.log(
            `STU-Net ${m.scale} ${m.classes} classes, TTA ${m.tta ? 'on' : 'off'}, ${m.backend}` +
              (m.threads === null ? '' : ` threads=${m.threads}`) +
              (m.ttaMemoryGb === null ? '' : ` (TTA budget ${m.ttaMemoryGb} GiB)`) +
              `${crop === '' ? '' : ` (centre ${crop}³ crop)`}: ${m.seconds.toFixed(1)} s, ` +
              `peak RSS ${(m.peakRssBytes / 2 ** 30).toFixed(2)} GiB`,
          );
      }
  if (crop !== '') rmSync(dirname(input), { recursive: true, force: true });
}
