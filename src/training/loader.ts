/**
 * Patch sampling as nnU-Net v1 DataLoader3D (dataset_loading.py) does it, and the same-thread batch
 * loader (sampling + augmentation + deep-supervision targets). The worker-thread loader is
 * src/node/loader-workers.ts; both make batch b from Rng(deriveSeed(seed, b)) alone, so they agree.
 *
 * Sampling sees a case through CaseSource (shape, class locations, a padded box): a PreprocessedCase
 * held in memory is one (memoryCaseSource), and the Node adapter reads boxes from the preprocessed
 * cache on disk (src/node/preprocessed-cache-reader.ts), so the data set need not fit in memory. Both
 * give the same boxes, hence the same batches.
 */
import {
  collate,
  augmentSample,
  type AugmentationParams,
  type TrainingBatch,
} from '../augmentation/pipeline.js';
import { randInt, rngFor } from '../augmentation/rng.js';
import type { Sample } from '../augmentation/sample.js';
import { getPatchSize } from '../augmentation/spatial.js';
import { fail } from '../util/errors.js';
import type { Rng } from '../util/random.js';
import { map3, type Vec3 } from '../util/vec3.js';

/** One preprocessed case (nnU-Net's case_all_data split into data and seg, plus its properties). */
export interface PreprocessedCase {
  readonly key: string;
  readonly channels: number;
  readonly shapeZYX: Vec3;
  /** (C, Z, Y, X). */
  readonly data: Float32Array;
  /** (Z, Y, X); −1 outside the nonzero crop. */
  readonly seg: Int16Array | Int8Array | Uint8Array;
  /**
   * properties['class_locations']: class → sampled voxels of that class as flat (z, y, x) triplets.
   * Classes ≤ 0 and empty lists are ignored.
   */
  readonly classLocations: ReadonlyMap<number, ArrayLike<number>>;
}

/**
 * What sampling needs of a case, without holding it whole: the shape, the class locations (read when a
 * forced-foreground patch needs them, as nnU-Net loads the properties file per sample) and a box.
 */
export interface CaseSource {
  readonly key: string;
  readonly channels: number;
  readonly shapeZYX: Vec3;
  /** properties['class_locations'] (see PreprocessedCase.classLocations). */
  classLocations(): ReadonlyMap<number, ArrayLike<number>>;
  /** The box [lower, lower + size); outside the case data 0 and seg −1 (nnU-Net's np.pad). */
  readBox(lower: Vec3, size: Vec3): Sample;
}

/** A case the loader samples from: in memory, or any CaseSource. */
export type LoaderCase = PreprocessedCase | CaseSource;

/** The in-memory case as a CaseSource (boxes by cropPadded). */
export function memoryCaseSource(c: PreprocessedCase): CaseSource {
  return {
    key: c.key,
    channels: c.channels,
    shapeZYX: c.shapeZYX,
    classLocations: () => c.classLocations,
    readBox: (lower, size) => cropPadded(c, lower, size),
  };
}

export function isCaseSource(c: LoaderCase): c is CaseSource {
  return typeof (c as Partial<CaseSource>).readBox === 'function';
}

export function asCaseSource(c: LoaderCase): CaseSource {
  return isCaseSource(c) ? c : memoryCaseSource(c);
}

export interface LoaderConfig {
  /** The network's patch (final_patch_size). */
  readonly patchSizeZYX: Vec3;
  /** The patch cut from the case before augmentation (basic_generator_patch_size); default below. */
  readonly generatorPatchSizeZYX: Vec3;
  readonly batchSize: number;
  /** Share of each batch forced to contain foreground (nnU-Net: 0.33, the last samples of the batch). */
  readonly oversampleForegroundPercent: number;
  /** null: no augmentation (nnU-Net's validation loader: patches of the final size, only −1 → 0). */
  readonly augmentation: AugmentationParams | null;
  /** Deep-supervision scales, full resolution first (deepSupervisionScales); [] = one target. */
  readonly dsScales: readonly Vec3[];
}

/**
 * nnUNetTrainerV2's loader set-up for 3-D: generator patch = get_patch_size(patch, ±30°, (0.85, 1.25))
 * when augmenting (128³ → 205³), the patch itself otherwise.
 */
export function defaultLoaderConfig(
  patchSizeZYX: Vec3,
  batchSize: number,
  augmentation: AugmentationParams | null,
  dsScales: readonly Vec3[] = [],
): LoaderConfig {
  const generatorPatchSizeZYX =
    augmentation === null
      ? patchSizeZYX
      : getPatchSize(patchSizeZYX, augmentation.spatial.rotationRad, [0.85, 1.25]);
  return {
    patchSizeZYX,
    generatorPatchSizeZYX,
    batchSize,
    oversampleForegroundPercent: 0.33,
    augmentation,
    dsScales,
  };
}

/** Python's round (half to even). */
function pyRound(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** get_do_oversample: sample j of a batch is forced to foreground iff j ≥ round(B·(1 − pct)). */
export function doOversample(sampleIndex: number, batchSize: number, percent: number): boolean {
  return !(sampleIndex < pyRound(batchSize * (1 - percent)));
}

export interface SampledPatch {
  readonly key: string;
  readonly sample: Sample;
  /** Lower corner of the patch in case coordinates (may be negative: padding). */
  readonly lowerZYX: Vec3;
  /** The class whose voxel centred a forced patch; null for random patches. */
  readonly selectedClass: number | null;
}

/**
 * One patch of `patch` from case `c`. need_to_pad = generator patch − final patch (grown where the case
 * is smaller than the patch) lets the patch extend past the border by half of it on each side; past the
 * border data is 0 and seg −1. With `forceForeground`, a random present class and a random voxel of it
 * become the patch's centre (lower corner max(lb, voxel − patch//2), as DataLoader3D: not capped above).
 */
export function samplePatch(
  loaderCase: LoaderCase,
  patch: Vec3,
  needToPad: Vec3,
  forceForeground: boolean,
  rng: Rng,
): SampledPatch {
  const c = asCaseSource(loaderCase);
  const shape = c.shapeZYX;
  const pad = map3(needToPad, (p, d) => (p + shape[d] < patch[d] ? patch[d] - shape[d] : p));
  // numpy: -pad // 2 floors towards −∞
  const lb = map3(pad, (p) => Math.floor(-p / 2));
  const ub = map3(pad, (p, d) => shape[d] + Math.floor(p / 2) + (p % 2) - patch[d]);
  let selectedClass: number | null = null;
  let voxel: Vec3 | null = null;
  if (forceForeground) {
    const classLocations = c.classLocations();
    const classes = [...classLocations.entries()].filter(([k, v]) => k > 0 && v.length >= 3).map(([k]) => k);
    if (classes.length > 0) {
      const cls =
        classes[randInt(rng, 0, classes.length)] ?? fail('RUNTIME', 'loader: class draw out of range');
      selectedClass = cls;
      const locs = classLocations.get(cls) ?? [];
      const i = randInt(rng, 0, Math.floor(locs.length / 3));
      const [z, y, x] = [locs[3 * i], locs[3 * i + 1], locs[3 * i + 2]];
      if (z === undefined || y === undefined || x === undefined)
        fail('BAD_INPUT', `case ${c.key}: location ${i} of class ${cls} is incomplete`);
      voxel = [z, y, x];
    }
  }
  const centre = voxel;
  // axis by axis (map3 calls in axis order, so the draws come in nnU-Net's order)
  const lower =
    centre === null
      ? map3(lb, (l, d) => randInt(rng, l, ub[d] + 1))
      : map3(lb, (l, d) => Math.max(l, centre[d] - Math.floor(patch[d] / 2)));
  return { key: c.key, sample: c.readBox(lower, patch), lowerZYX: lower, selectedClass };
}

/** The box [lower, lower + patch) of the case; outside the case data 0 and seg −1 (nnU-Net's np.pad). */
export function cropPadded(c: PreprocessedCase, lower: Vec3, patch: Vec3): Sample {
  const [n0, n1, n2] = c.shapeZYX;
  const [p0, p1, p2] = patch;
  const nIn = n0 * n1 * n2;
  const nOut = p0 * p1 * p2;
  if (c.data.length !== c.channels * nIn || c.seg.length !== nIn)
    fail(
      'SHAPE_MISMATCH',
      `case ${c.key}: data/seg sizes do not match (${c.channels}, ${c.shapeZYX.join(', ')})`,
    );
  const data = new Float32Array(c.channels * nOut);
  const seg = new Int16Array(nOut).fill(-1);
  const x0 = Math.max(0, lower[2]);
  const x1 = Math.min(n2, lower[2] + p2);
  for (let a = 0; a < p0; a++) {
    const z = lower[0] + a;
    if (z < 0 || z >= n0) continue;
    for (let b = 0; b < p1; b++) {
      const y = lower[1] + b;
      if (y < 0 || y >= n1 || x1 <= x0) continue;
      const from = (z * n1 + y) * n2;
      const to = (a * p1 + b) * p2 + (x0 - lower[2]);
      for (let ch = 0; ch < c.channels; ch++)
        data.set(c.data.subarray(ch * nIn + from + x0, ch * nIn + from + x1), ch * nOut + to);
      for (let x = x0; x < x1; x++) seg[to + x - x0] = c.seg[from + x] as number;
    }
  }
  return { channels: c.channels, shapeZYX: patch, data, seg };
}

/** DataLoader3D.generate_train_batch: keys drawn with replacement, the last share forced to foreground. */
export function sampleBatch(cases: readonly LoaderCase[], cfg: LoaderConfig, rng: Rng): SampledPatch[] {
  if (cases.length === 0) fail('BAD_INPUT', 'the loader needs at least one case');
  const patch = cfg.generatorPatchSizeZYX;
  const needToPad = map3(patch, (p, d) => Math.trunc(p - cfg.patchSizeZYX[d]));
  const picks = Array.from(
    { length: cfg.batchSize },
    () => cases[randInt(rng, 0, cases.length)] ?? fail('RUNTIME', 'loader: case draw out of range'),
  );
  return picks.map((c, j) =>
    samplePatch(c, patch, needToPad, doOversample(j, cfg.batchSize, cfg.oversampleForegroundPercent), rng),
  );
}

/** Batch number `batchIndex` of the stream seeded by `seed`: sample, augment, collate. */
export function makeBatch(
  cases: readonly LoaderCase[],
  cfg: LoaderConfig,
  seed: number,
  batchIndex: number,
): TrainingBatch {
  const rng = rngFor(seed, batchIndex);
  const patches = sampleBatch(cases, cfg, rng);
  const samples = patches.map((p) => {
    if (cfg.augmentation !== null) return augmentSample(p.sample, cfg.augmentation, rng);
    const s = p.sample;
    for (let i = 0; i < s.seg.length; i++) if (s.seg[i] === -1) s.seg[i] = 0;
    return s;
  });
  return collate(
    samples,
    patches.map((p) => p.key),
    cfg.dsScales,
  );
}

export interface BatchLoader {
  /** The next batch; the index advances by one per call. */
  next(): Promise<TrainingBatch>;
  close(): Promise<void>;
}

/** Same-thread loader (browsers, tests): batch b = makeBatch(cases, cfg, seed, b). */
export class InlineBatchLoader implements BatchLoader {
  private index: number;
  constructor(
    private readonly cases: readonly LoaderCase[],
    private readonly cfg: LoaderConfig,
    private readonly seed: number,
    startBatch = 0,
  ) {
    this.index = startBatch;
  }
  nextSync(): TrainingBatch {
    return makeBatch(this.cases, this.cfg, this.seed, this.index++);
  }
  next(): Promise<TrainingBatch> {
    return Promise.resolve(this.nextSync());
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}
