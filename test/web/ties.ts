/**
 * Which differing voxels of two label maps are ties: where the reference's top two class probabilities
 * (its `--save-probabilities` .npz) lie within `tol`, so either label is right (the parity tests' rule).
 */
import { readFileSync } from 'node:fs';
import { bytesSource } from '../../src/checkpoint/zip.js';
import type { NiftiImage } from '../../src/io/nifti.js';
import { openProbabilityNpz } from '../../src/jobs/probability-ensemble.js';

/** The indices (NIfTI order, i fastest) among `differ` whose top two probabilities differ by ≤ tol. */
export function excusedTies(
  differ: readonly number[],
  labels: NiftiImage,
  reference: NiftiImage,
  npzPath: string,
  tol: number,
): number[] {
  if (differ.length === 0) return [];
  const p = openProbabilityNpz(bytesSource(new Uint8Array(readFileSync(npzPath))), npzPath);
  const same = p.affine?.every((row, r) =>
    row.every((v, c) => Math.abs(v - (reference.affine[r]?.[c] ?? NaN)) < 1e-4),
  );
  if (same !== true)
    throw new Error('the probabilities lie on another grid (a reoriented case): ties not mapped here');
  const [Zc, Yc, Xc] = p.shapeZYX;
  const probs = p.next(p.classes * Zc * Yc * Xc);
  const [I, J] = labels.dims as [number, number, number];
  const [[z0], [y0], [x0]] = p.cropBbox as [[number, number], [number, number], [number, number]];
  return differ.filter((n) => {
    const i = n % I;
    const j = Math.floor(n / I) % J;
    const k = Math.floor(n / (I * J));
    const [z, y, x] = [k - z0, j - y0, i - x0];
    if (z < 0 || y < 0 || x < 0 || z >= Zc || y >= Yc || x >= Xc) return false; // outside the crop: background
    const at = (c: number): number => probs[((c * Zc + z) * Yc + y) * Xc + x] as number;
    const a = at(labels.data[n] as number);
    const b = at(reference.data[n] as number);
    const top = Math.max(...Array.from({ length: p.classes }, (_, c) => at(c)));
    return Math.abs(a - b) <= tol && top - Math.max(a, b) <= tol;
  });
}
