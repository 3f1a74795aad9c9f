/**
 * 3D connected components of label maps, as nnU-Net's post-processing sees them through
 * scipy.ndimage.label: the default structure, face (6-) connectivity — voxels touching by an edge or a
 * corner only are apart. Components are found on runs (stretches of equal key along x) with a union-find
 * over the runs, no recursion and no per-voxel id array, so a 512×512×300 map takes a fraction of a second
 * and memory in proportion to its runs. Components are numbered as scipy numbers them: by their first
 * voxel in C order (z slowest, x fastest).
 */
import type { Vec3 } from '../util/vec3.js';
import { fail } from '../util/errors.js';
import type { LabelArray } from './confusion.js';
import { labelOrRegionKey } from './metrics.js';

/** A volume's size in array axis order (z, y, x), as `labels` is laid out (x fastest). */

/** A class, or a group of classes taken as one foreground (nnU-Net's tuples, e.g. all foreground). */
export type ClassOrGroup = number | readonly number[];

export interface ComponentRuns {
  /** Components found; ids are 0 … componentCount − 1 in order of first voxel. */
  readonly componentCount: number;
  /** Voxels per component. */
  readonly sizes: Float64Array;
  /** The key (class, or 1 for a mask) of each component. */
  readonly keys: Int32Array;
  readonly runCount: number;
  /** Run r covers flat indices runStart[r] … runEnd[r] − 1 and belongs to component runComponent[r]. */
  readonly runStart: Int32Array;
  readonly runEnd: Int32Array;
  readonly runComponent: Int32Array;
}

/** Int32 arrays that grow by doubling. */
class Runs {
  start: Int32Array = new Int32Array(1024);
  end: Int32Array = new Int32Array(1024);
  key: Int32Array = new Int32Array(1024);
  parent: Int32Array = new Int32Array(1024);
  count = 0;

  push(start: number, end: number, key: number): void {
    if (this.count === this.start.length) {
      const grow = (a: Int32Array): Int32Array => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.start = grow(this.start);
      this.end = grow(this.end);
      this.key = grow(this.key);
      this.parent = grow(this.parent);
    }
    const r = this.count++;
    this.start[r] = start;
    this.end[r] = end;
    this.key[r] = key;
    this.parent[r] = r;
  }

  find(r: number): number {
    const p = this.parent;
    let x = r;
    while (p[x] !== x) {
      const up = p[p[x] as number] as number;
      p[x] = up; // path halving
      x = up;
    }
    return x;
  }

  /** Links the later root under the earlier one, so a root is always its component's first run. */
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra < rb) this.parent[rb] = ra;
    else if (rb < ra) this.parent[ra] = rb;
  }
}

/** mm³ of one voxel as nnU-Net computes it: np.prod of SimpleITK's spacing, (x · y) · z. */
export function voxelVolume(spacingZYX: Vec3): number {
  return spacingZYX[2] * spacingZYX[1] * spacingZYX[0];
}

export function checkDims(length: number, dimsZYX: Vec3, what: string): number {
  const [nz, ny, nx] = dimsZYX;
  if (![nz, ny, nx].every((d) => Number.isInteger(d) && d >= 1))
    fail('BAD_INPUT', `${what}: dims (z, y, x) must be positive integers, got [${dimsZYX.join(', ')}]`);
  const n = nz * ny * nx;
  if (length !== n)
    fail(
      'SHAPE_MISMATCH',
      `${what}: the label map has ${length} voxels, dims (z, y, x) [${dimsZYX.join(', ')}] need ${n}`,
    );
  if (n >= 2 ** 31) fail('UNSUPPORTED', `${what}: ${n} voxels is more than 2³¹ − 1`);
  return n;
}

/** Joins runs of row `cur` (runs a0…a1−1) with those of an earlier row `prev` (b0…b1−1) they touch. */
function joinRows(runs: Runs, b0: number, b1: number, a0: number, a1: number, offset: number): void {
  let i = b0;
  let j = a0;
  const { start, end, key } = runs;
  while (i < b1 && j < a1) {
    const ps = (start[i] as number) + offset;
    const pe = (end[i] as number) + offset;
    const cs = start[j] as number;
    const ce = end[j] as number;
    if (ps < ce && cs < pe && key[i] === key[j]) runs.union(i, j);
    if (pe <= ce) i++;
    else j++;
  }
}

/** Appends the runs of one row: stretches of equal non-zero key (background, 0, is skipped fast). */
function scanRow(labels: LabelArray, base: number, nx: number, keyOf: Int32Array | null, runs: Runs): void {
  const end = base + nx;
  let i = base;
  while (i < end) {
    const v = labels[i] as number;
    const k = v === 0 ? 0 : keyOf === null ? 1 : (keyOf[v] ?? 0);
    if (k === 0) {
      i++;
      continue;
    }
    const s = i;
    for (i++; i < end; i++) {
      const w = labels[i] as number;
      if (w === v) continue;
      if (w === 0 || (keyOf !== null && (keyOf[w] ?? 0) !== k)) break;
    }
    runs.push(s, i, k);
  }
}

/**
 * Components of equal, non-zero key, 6-connected. A voxel's key is `keyOf[value]` (0, or a value that is
 * not an index of `keyOf`, is background); with `keyOf` null it is 1 for every non-zero value (a mask).
 */
export function componentRuns(labels: LabelArray, dimsZYX: Vec3, keyOf: Int32Array | null): ComponentRuns {
  checkDims(labels.length, dimsZYX, 'connected components');
  const [nz, ny, nx] = dimsZYX;
  const runs = new Runs();
  const rowFirst = new Int32Array(nz * ny + 1);
  for (let row = 0; row < nz * ny; row++) {
    rowFirst[row] = runs.count;
    scanRow(labels, row * nx, nx, keyOf, runs);
    const a0 = rowFirst[row] as number;
    const a1 = runs.count;
    if (row % ny > 0) joinRows(runs, rowFirst[row - 1] as number, a0, a0, a1, nx);
    if (row >= ny)
      joinRows(runs, rowFirst[row - ny] as number, rowFirst[row - ny + 1] as number, a0, a1, nx * ny);
  }
  return numberComponents(runs);
}

function numberComponents(runs: Runs): ComponentRuns {
  const n = runs.count;
  const runComponent = new Int32Array(n);
  let count = 0;
  for (let r = 0; r < n; r++) {
    const root = runs.find(r);
    runComponent[r] = root === r ? count++ : (runComponent[root] as number);
  }
  const sizes = new Float64Array(count);
  const keys = new Int32Array(count);
  for (let r = 0; r < n; r++) {
    const c = runComponent[r] as number;
    sizes[c] = (sizes[c] as number) + (runs.end[r] as number) - (runs.start[r] as number);
    keys[c] = runs.key[r] as number;
  }
  return {
    componentCount: count,
    sizes,
    keys,
    runCount: n,
    runStart: runs.start.subarray(0, n),
    runEnd: runs.end.subarray(0, n),
    runComponent,
  };
}

/**
 * scipy.ndimage.label(mask) with its default structure: every non-zero voxel is foreground; returns the
 * component number of each voxel (1 … count, 0 for background) and the count, numbered as scipy does.
 */
export function labelComponents(mask: LabelArray, dimsZYX: Vec3): { labels: Int32Array; count: number } {
  const c = componentRuns(mask, dimsZYX, null);
  const out = new Int32Array(mask.length);
  for (let r = 0; r < c.runCount; r++)
    out.fill((c.runComponent[r] as number) + 1, c.runStart[r], c.runEnd[r]);
  return { labels: out, count: c.componentCount };
}

/** Sets every voxel of the components with `remove[c] === 1` to 0; returns how many voxels that was. */
export function clearComponents(labels: LabelArray, c: ComponentRuns, remove: Uint8Array): number {
  let cleared = 0;
  for (let r = 0; r < c.runCount; r++) {
    if (remove[c.runComponent[r] as number] !== 1) continue;
    const s = c.runStart[r] as number;
    const e = c.runEnd[r] as number;
    labels.fill(0, s, e);
    cleared += e - s;
  }
  return cleared;
}

export function checkClass(c: number, what: string): void {
  if (!Number.isInteger(c) || c < 0 || c > 65535)
    fail('BAD_INPUT', `${what}: ${c} is not a label (an integer 0 … 65535)`);
  if (c === 0) fail('BAD_INPUT', `${what}: 0 is the background; it cannot be post-processed`);
}

/** A key table: each listed class keyed by itself (separate components per class). */
export function classKeyTable(classes: readonly number[]): Int32Array {
  const table = new Int32Array(Math.max(0, ...classes) + 1);
  for (const c of classes) table[c] = c;
  return table;
}

export interface KeepLargestOptions {
  /** mm³ of one voxel (nnU-Net: the product of the image spacing): sizes are counted in these units. Default 1. */
  readonly volumePerVoxel?: number;
  /**
   * nnU-Net's minimum_valid_object_size: by key (`labelOrRegionKey`: "2", "(1, 2, 3)"), only components
   * smaller than this size are removed (the largest is always kept). Null/absent: every component but
   * the largest goes. When given, every entry of `classesOrGroups` needs a key.
   */
  readonly minValidObjectSizes?: ReadonlyMap<string, number> | null;
}

export interface KeepLargestResult {
  /** Per key: size of the largest component kept, null where the class/group is absent (nnU-Net's kept_size). */
  readonly keptSize: Map<string, number | null>;
  /** Per key: size of the largest component removed, null where none was (nnU-Net's largest_removed). */
  readonly largestRemoved: Map<string, number | null>;
  /** Voxels set to 0. */
  readonly removedVoxels: number;
}

/**
 * nnU-Net v1's remove_all_but_the_largest_connected_component, IN PLACE on `labels`: for each entry in
 * order, a class or a group of classes (one foreground), the components (6-connected) that are not of the
 * largest size are set to 0 — all components tied at the largest size stay, as in nnU-Net 1.7 — and with
 * `minValidObjectSizes`, only those smaller than the entry's size. Sizes are voxels × volumePerVoxel.
 */
export function keepLargestComponent(
  labels: LabelArray,
  dimsZYX: Vec3,
  classesOrGroups: readonly ClassOrGroup[],
  options: KeepLargestOptions = {},
): KeepLargestResult {
  const vpv = options.volumePerVoxel ?? 1;
  if (!(Number.isFinite(vpv) && vpv > 0))
    fail('BAD_INPUT', `keep largest component: volume per voxel must be > 0, got ${vpv}`);
  checkDims(labels.length, dimsZYX, 'keep largest component');
  const minSizes = options.minValidObjectSizes ?? null;
  for (const entry of classesOrGroups) {
    const members = typeof entry === 'number' ? [entry] : entry;
    if (members.length === 0) fail('BAD_INPUT', 'keep largest component: an empty group of classes');
    for (const m of members) checkClass(m, 'keep largest component');
    if (minSizes !== null && !minSizes.has(labelOrRegionKey(entry)))
      fail(
        'BAD_INPUT',
        `keep largest component: min_valid_object_sizes has no entry for ${labelOrRegionKey(entry)}`,
      );
  }
  const result: KeepLargestResult = { keptSize: new Map(), largestRemoved: new Map(), removedVoxels: 0 };
  let removed = 0;
  // A run of single classes is one pass (their masks do not touch each other); a group is a pass of its own.
  for (let i = 0; i < classesOrGroups.length;) {
    const entry = classesOrGroups[i] as ClassOrGroup;
    if (typeof entry !== 'number') {
      const table = new Int32Array(Math.max(...entry) + 1);
      for (const m of entry) table[m] = 1;
      removed += keepLargestOfKeys(
        labels,
        dimsZYX,
        table,
        new Map([[1, labelOrRegionKey(entry)]]),
        vpv,
        minSizes,
        result,
      );
      i++;
      continue;
    }
    const batch: number[] = [];
    for (; i < classesOrGroups.length && typeof classesOrGroups[i] === 'number'; i++)
      batch.push(classesOrGroups[i] as number);
    const unique = [...new Set(batch)];
    const keys = new Map(unique.map((c) => [c, labelOrRegionKey(c)]));
    removed += keepLargestOfKeys(labels, dimsZYX, classKeyTable(unique), keys, vpv, minSizes, result);
  }
  return { ...result, removedVoxels: removed };
}

function keepLargestOfKeys(
  labels: LabelArray,
  dimsZYX: Vec3,
  table: Int32Array,
  names: ReadonlyMap<number, string>,
  vpv: number,
  minSizes: ReadonlyMap<string, number> | null,
  result: KeepLargestResult,
): number {
  const c = componentRuns(labels, dimsZYX, table);
  const size = (i: number): number => (c.sizes[i] as number) * vpv;
  const largest = new Map<number, number>();
  for (let i = 0; i < c.componentCount; i++) {
    const k = c.keys[i] as number;
    largest.set(k, Math.max(largest.get(k) ?? -Infinity, size(i)));
  }
  const remove = new Uint8Array(c.componentCount);
  const largestRemoved = new Map<number, number>();
  for (let i = 0; i < c.componentCount; i++) {
    const k = c.keys[i] as number;
    const s = size(i);
    if (s === largest.get(k)) continue;
    const min = minSizes?.get(names.get(k) ?? '');
    if (min !== undefined && !(s < min)) continue;
    remove[i] = 1;
    largestRemoved.set(k, Math.max(largestRemoved.get(k) ?? -Infinity, s));
  }
  for (const [k, name] of names) {
    result.keptSize.set(name, largest.get(k) ?? null);
    result.largestRemoved.set(name, largestRemoved.get(k) ?? null);
  }
  return clearComponents(labels, c, remove);
}

export interface RemoveSmallBlobsResult {
  readonly removedComponents: number;
  readonly removedVoxels: number;
}

/**
 * Removes, IN PLACE, every component (6-connected, per class) whose volume — voxels × the product of
 * `spacingZYX` — is below `minMm3`, the only component of a class included. `classes`: the classes to
 * clean (default every label 1 … 65535); voxels of other values are left alone.
 */
export function removeSmallBlobs(
  labels: LabelArray,
  dimsZYX: Vec3,
  spacingZYX: Vec3,
  minMm3: number,
  classes?: readonly number[],
): RemoveSmallBlobsResult {
  if (!(Number.isFinite(minMm3) && minMm3 >= 0))
    fail('BAD_INPUT', `remove small blobs: the size must be a volume in mm³ ≥ 0, got ${minMm3}`);
  if (!spacingZYX.every((s) => Number.isFinite(s) && s > 0))
    fail('BAD_INPUT', `remove small blobs: spacing must be positive, got [${spacingZYX.join(', ')}]`);
  checkDims(labels.length, dimsZYX, 'remove small blobs');
  for (const c of classes ?? []) checkClass(c, 'remove small blobs');
  // default: every label 1 … 65535 keyed by itself
  const table =
    classes === undefined ? Int32Array.from({ length: 65536 }, (_, v) => v) : classKeyTable(classes);
  const vpv = voxelVolume(spacingZYX);
  const c = componentRuns(labels, dimsZYX, table);
  const remove = new Uint8Array(c.componentCount);
  let removedComponents = 0;
  for (let i = 0; i < c.componentCount; i++) {
    if ((c.sizes[i] as number) * vpv < minMm3) {
      remove[i] = 1;
      removedComponents++;
    }
  }
  return { removedComponents, removedVoxels: clearComponents(labels, c, remove) };
}
