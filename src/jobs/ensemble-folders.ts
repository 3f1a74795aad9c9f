/**
 * `stunet ensemble -i <folder> <folder> … -o <folder>` over a FileStore: every case whose
 * `<stem>_probabilities.npz` is in each folder, averaged (probability-ensemble.ts), post-processed as asked
 * (nnU-Net's `-pp postprocessing.json`), written like `stunet predict` writes a case: the label map in the
 * input's geometry — taken from `<stem>.nii.gz`, the prediction beside the first folder's .npz — its names
 * and, as asked, one mask per class.
 */
import { applyPostprocessing } from '../evaluation/postprocess.js';
import type { PostprocessSpec } from '../evaluation/postprocessing-json.js';
import { readNifti, type NiftiImage } from '../io/nifti.js';
import { toClosestCanonical } from '../io/orientation.js';
import { fail } from '../util/errors.js';
import type { ProgressListener } from '../util/progress.js';
import type { Vec3 } from '../util/vec3.js';
import { caseOutputs, relabel, type CaseGeometry, type CaseOutputOptions } from './case-outputs.js';
import { storeByteSource } from './model-files.js';
import { ensembleArgmax, openProbabilityNpz, type ProbabilityFile } from './probability-ensemble.js';
import type { FileStore } from './store.js';

const SUFFIX = '_probabilities.npz';

export interface EnsembleOptions extends Pick<CaseOutputOptions, 'perClass' | 'names' | 'missingClasses'> {
  readonly postprocess?: PostprocessSpec;
  readonly onProgress?: ProgressListener;
  readonly onCase?: (stem: string, files: readonly string[], index: number, total: number) => void;
}

/** The case stems every folder has probabilities of; a case missing from a folder is an error naming it. */
export function ensembleCases(store: FileStore, folders: readonly string[]): string[] {
  if (folders.length < 2) fail('BAD_INPUT', 'ensemble: give at least two folders of predictions (-i a b)');
  const stems = folders.map((dir) => {
    if (!store.isDirectory(dir)) fail('NOT_FOUND', `ensemble: '${dir}' is not a folder`);
    return new Set(
      store
        .list(dir)
        .filter((f) => f.endsWith(SUFFIX))
        .map((f) => f.slice(0, -SUFFIX.length)),
    );
  });
  const [first] = stems;
  if (first === undefined || first.size === 0)
    fail(
      'NOT_FOUND',
      `ensemble: '${folders[0] ?? ''}' holds no *${SUFFIX} (predict with --save-probabilities)`,
    );
  stems.forEach((s, i) => {
    const missing = [...first].filter((stem) => !s.has(stem));
    const extra = [...s].filter((stem) => !first.has(stem));
    if (missing.length > 0 || extra.length > 0)
      fail(
        'BAD_INPUT',
        `ensemble: '${folders[i] ?? ''}' has other cases than '${folders[0] ?? ''}' ` +
          `(${[...missing.map((m) => `no ${m}`), ...extra.map((e) => `also ${e}`)].slice(0, 4).join(', ')})`,
      );
  });
  return [...first].sort();
}

/** Where the labels of the probability grid go: the prediction's own grid, or its closest canonical one. */
function geometryOf(seg: NiftiImage, file: ProbabilityFile, segPath: string): CaseGeometry {
  const same = (a: readonly (readonly number[])[]): boolean =>
    file.affine !== null &&
    a.every((r, i) => r.every((v, j) => Math.abs(v - (file.affine?.[i]?.[j] ?? NaN)) <= 1e-4));
  const dimsZYX = (im: NiftiImage): Vec3 => [im.dims[2] ?? 1, im.dims[1] ?? 1, im.dims[0] ?? 1];
  const canonical = toClosestCanonical(seg);
  const work =
    file.affine === null || same(seg.affine) ? seg : same(canonical.image.affine) ? canonical.image : null;
  if (work === null)
    fail('BAD_INPUT', `ensemble: ${file.path} is not on the grid of ${segPath} (not the same image?)`);
  const shape = dimsZYX(work);
  if (shape.join() !== file.shapeBeforeCroppingZYX.join())
    fail(
      'SHAPE_MISMATCH',
      `ensemble: ${file.path} covers ${file.shapeBeforeCroppingZYX.join('×')}, ${segPath} is ${shape.join('×')}`,
    );
  const p = work.header.pixdim;
  const spacing: Vec3 = [Math.abs(p[3] ?? 1), Math.abs(p[2] ?? 1), Math.abs(p[1] ?? 1)];
  return {
    work,
    ...(work === seg ? {} : { transform: canonical.transform }),
    shapeZYX: shape,
    spacingZYX: spacing,
    inputSpacingZYX: spacing,
    intensities: null,
  };
}

/** The cropped labels into the whole grid (background outside the crop box). */
function uncrop(cropped: Uint8Array | Uint16Array, file: ProbabilityFile): Uint8Array | Uint16Array {
  const [Z, Y, X] = file.shapeBeforeCroppingZYX;
  const [zc, yc, xc] = file.shapeZYX;
  const [bz, by, bx] = file.cropBbox.map((b) => b[0]) as [number, number, number];
  const out = cropped instanceof Uint8Array ? new Uint8Array(Z * Y * X) : new Uint16Array(Z * Y * X);
  for (let z = 0; z < zc; z++)
    for (let y = 0; y < yc; y++)
      out.set(cropped.subarray((z * yc + y) * xc, (z * yc + y + 1) * xc), ((z + bz) * Y + y + by) * X + bx);
  return out;
}

/** Averages every case of `folders` into `outDir`; returns the files written. */
export function ensembleFolders(
  store: FileStore,
  folders: readonly string[],
  outDir: string,
  opts: EnsembleOptions = {},
): string[] {
  const stems = ensembleCases(store, folders);
  const written: string[] = [];
  stems.forEach((stem, i) => {
    const paths = folders.map((d) => store.join(d, `${stem}${SUFFIX}`));
    opts.onCase?.(stem, paths, i, stems.length);
    const files = paths.map((p) => openProbabilityNpz(storeByteSource(store, p, 'probabilities'), p));
    const first = files[0] as ProbabilityFile;
    const segPath = [
      store.join(folders[0] ?? '', `${stem}.nii.gz`),
      store.join(folders[0] ?? '', `${stem}.nii`),
    ].find((p) => store.exists(p));
    if (segPath === undefined)
      fail(
        'NOT_FOUND',
        `ensemble: ${stem}.nii.gz (the prediction beside ${paths[0] ?? ''}) is missing: it gives the geometry`,
      );
    const geometry = geometryOf(readNifti(store.read(segPath, 'prediction')), first, segPath);
    const labels = uncrop(ensembleArgmax(files, opts.onProgress), first);
    if (opts.postprocess !== undefined)
      applyPostprocessing(labels, geometry.shapeZYX, opts.postprocess, geometry.spacingZYX);
    const modelNames =
      first.classNames ??
      Array.from({ length: first.classes }, (_, c) => (c === 0 ? 'background' : `label_${c}`));
    const named = relabel(labels, modelNames, opts);
    const outputs = caseOutputs(store.basename(segPath), named.labels, named.names, geometry, {
      perClass: opts.perClass === true,
    });
    const files2 = outputs.map((o) => ({ path: store.join(outDir, o.name), data: o.data }));
    store.writeAll(files2);
    written.push(...files2.map((f) => f.path));
  });
  return written;
}
