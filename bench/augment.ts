/**
 * Augmentation speed: one batch of 2 patches of 128³ (cut at the generator size 205³ from a 256³ case),
 * single thread. Prints per-transform times with every transform forced on, and the mean batch time with
 * nnU-Net's probabilities. `node --import tsx bench/augment.ts [--json]`
 */
import { performance } from 'node:perf_hooks';
import { defaultAugmentationParams, type AugmentationParams } from '../src/augmentation/pipeline.js';
import {
  brightnessMultiplicative,
  contrast,
  gamma,
  gaussianBlur,
  gaussianNoise,
  simulateLowResolution,
} from '../src/augmentation/intensity.js';
import { applySpatial, augmentMirror } from '../src/augmentation/spatial.js';
import type { Sample } from '../src/augmentation/sample.js';
import {
  defaultLoaderConfig,
  makeBatch,
  samplePatch,
  type PreprocessedCase,
} from '../src/training/loader.js';
import { deepSupervisionScales } from '../src/model/deep-supervision.js';
import { Rng } from '../src/util/random.js';

const json = process.argv.includes('--json');
const N = 160;
const n = N ** 3;
const rng0 = new Rng(1);
const data = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.001) + 0.1 * rng0.normal());
// two organ-like balls
const seg = Int16Array.from({ length: n }, (_, i) => {
  const [z, y, x] = [Math.floor(i / (N * N)), Math.floor(i / N) % N, i % N];
  if (Math.hypot(z - 80, y - 80, x - 80) < 40) return 1;
  return Math.hypot(z - 100, y - 90, x - 120) < 15 ? 2 : 0;
});
const locs = new Map([
  [1, Int32Array.from([80, 80, 80, 40, 40, 40])],
  [2, Int32Array.from([100, 90, 80])],
]);
const kase: PreprocessedCase = {
  key: 'c',
  channels: 1,
  shapeZYX: [N, N, N],
  data,
  seg,
  classLocations: locs,
};
const patch = [128, 128, 128] as const;
const aug = defaultAugmentationParams(patch);
const cfg = defaultLoaderConfig(
  patch,
  2,
  aug,
  deepSupervisionScales([
    [2, 2, 2],
    [2, 2, 2],
    [2, 2, 2],
    [2, 2, 2],
    [1, 1, 2],
  ]),
);

function time(label: string, f: () => unknown, reps = 1): number {
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) f();
  const ms = (performance.now() - t0) / reps;
  if (json) console.log(JSON.stringify({ label, ms }));
  else console.log(`${label.padEnd(44)} ${ms.toFixed(0).padStart(6)} ms`);
  return ms;
}

const rng = new Rng(2);
const needToPad = cfg.generatorPatchSizeZYX.map((g, d) => g - (patch[d] as number)) as unknown as readonly [
  number,
  number,
  number,
];
let big: Sample = samplePatch(kase, cfg.generatorPatchSizeZYX, needToPad, false, rng).sample;
time(`patch sampling ${cfg.generatorPatchSizeZYX.join('×')}`, () => {
  big = samplePatch(kase, cfg.generatorPatchSizeZYX, needToPad, true, rng).sample;
});
let s: Sample = big;
time(
  'spatial: center crop (no rotation/scale)',
  () => (s = applySpatial(big, { angles: null, scale: null }, aug.spatial)),
);
time(
  'spatial: rotation + scale (order 3 + labels)',
  () => (s = applySpatial(big, { angles: [0.3, -0.2, 0.4], scale: 1.1 }, aug.spatial)),
);
time('gaussian noise', () => gaussianNoise(s, rng));
time('gaussian blur (1 channel)', () => gaussianBlur(s, rng, [0.5, 1], 1));
time('brightness', () => brightnessMultiplicative(s, rng));
time('contrast', () => contrast(s, rng));
time('low resolution (1 channel)', () => simulateLowResolution(s, rng, [0.5, 1], 1));
time('gamma inverted', () => gamma(s, rng, true));
time('gamma', () => gamma(s, rng, false));
time('mirror', () => augmentMirror(s, [0, 1, 2], rng));

const allOn: AugmentationParams = {
  ...aug,
  spatial: { ...aug.spatial, pRotation: 1, pScale: 1 },
  pNoise: 1,
  pBlur: 1,
  pBlurPerChannel: 1,
  pBrightness: 1,
  pContrast: 1,
  pLowRes: 1,
  pLowResPerChannel: 1,
  pGammaInverted: 1,
  pGamma: 1,
};
time('batch 2×128³, every transform on', () => makeBatch([kase], { ...cfg, augmentation: allOn }, 3, 0));
time(
  'batch 2×128³, nnU-Net probabilities (mean of 8)',
  () => makeBatch([kase], cfg, 3, Math.floor(Math.random() * 1e6)),
  8,
);
