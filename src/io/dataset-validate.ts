/**
 * Per-case checks of nnU-Net v2's verify_dataset_integrity (check_cases, verify_labels), on decoded
 * images. nnU-Net only warns on origin/direction mismatch; we report them as problems because a
 * mis-registered label silently ruins training. Tolerance: numpy allclose (rtol 1e-5, atol 1e-8) widened
 * to `atolMm` for spacing and origin and `atolDirection` for direction cosines.
 */
import type { DatasetProblem } from './dataset.js';
import type { NiftiImage } from './nifti.js';
import { niftiToVolume } from './nifti-volume.js';

export interface GeometryTolerance {
  readonly atolMm: number;
  readonly atolDirection: number;
}

export const DEFAULT_GEOMETRY_TOLERANCE: GeometryTolerance = { atolMm: 1e-4, atolDirection: 1e-4 };

function close(a: readonly number[], b: readonly number[], atol: number): boolean {
  return (
    a.length === b.length &&
    a.every((x, i) => Math.abs(x - (b[i] ?? NaN)) <= atol + 1e-5 * Math.abs(b[i] ?? 0))
  );
}

const fmt = (xs: readonly number[]): string => `[${xs.map((x) => +x.toPrecision(6)).join(', ')}]`;

/** Compares every channel image and the label with the first image: shape, spacing, origin, direction. */
export function checkCaseGeometry(
  caseId: string,
  images: readonly { name: string; image: NiftiImage }[],
  label: { name: string; image: NiftiImage } | null,
  tol: GeometryTolerance = DEFAULT_GEOMETRY_TOLERANCE,
): DatasetProblem[] {
  const problems: DatasetProblem[] = [];
  const ref = images[0];
  if (ref === undefined) return problems;
  const all = label === null ? images.slice(1) : [...images.slice(1), label];
  const views = new Map<string, ReturnType<typeof niftiToVolume> | null>();
  for (const f of [ref, ...all]) {
    try {
      views.set(f.name, niftiToVolume(f.image));
    } catch (e) {
      views.set(f.name, null);
      problems.push({ kind: 'geometry', caseId, message: `${caseId}: ${f.name}: ${(e as Error).message}` });
    }
  }
  const r = views.get(ref.name);
  if (r === null || r === undefined) return problems;
  for (const f of all) {
    const v = views.get(f.name);
    if (v === null || v === undefined) continue;
    const what = `${caseId}: ${f.name} vs ${ref.name}`;
    const add = (message: string): void => {
      problems.push({ kind: 'geometry', caseId, message: `${what}: ${message}` });
    };
    const shapeA = v.volume.shape.slice(1);
    const shapeB = r.volume.shape.slice(1);
    if (shapeA.join() !== shapeB.join()) add(`shape (Z, Y, X) ${fmt(shapeA)} ≠ ${fmt(shapeB)}`);
    if (!close(v.spacingZYX, r.spacingZYX, tol.atolMm))
      add(`spacing (Z, Y, X) ${fmt(v.spacingZYX)} ≠ ${fmt(r.spacingZYX)} mm`);
    if (!close(v.originLPS, r.originLPS, tol.atolMm))
      add(`origin ${fmt(v.originLPS)} ≠ ${fmt(r.originLPS)} mm`);
    if (!close(v.directionLPS, r.directionLPS, tol.atolDirection)) {
      add(`direction ${fmt(v.directionLPS)} ≠ ${fmt(r.directionLPS)}`);
    }
  }
  return problems;
}

/** NaN voxels (nnU-Net refuses them) and label values not declared in dataset.json. */
export function checkCaseValues(
  caseId: string,
  images: readonly { name: string; image: NiftiImage }[],
  label: { name: string; image: NiftiImage } | null,
  expectedLabels: readonly number[],
): DatasetProblem[] {
  const problems: DatasetProblem[] = [];
  for (const f of label === null ? images : [...images, label]) {
    const d = f.image.data;
    let nan = 0;
    for (let i = 0; i < d.length; i++) if (Number.isNaN(d[i])) nan++;
    if (nan > 0) {
      problems.push({
        kind: 'nan',
        caseId,
        message: `${caseId}: ${f.name} has ${nan} NaN voxel(s); replace them with a real value`,
      });
    }
  }
  if (label !== null) {
    const found = new Set<number>();
    const d = label.image.data;
    for (let i = 0; i < d.length; i++) found.add(d[i] ?? 0);
    const allowed = new Set(expectedLabels);
    const unexpected = [...found].filter((v) => !allowed.has(v)).sort((a, b) => a - b);
    if (unexpected.length > 0) {
      problems.push({
        kind: 'undeclared-label',
        caseId,
        message: `${caseId}: ${label.name} contains label value(s) ${unexpected.join(', ')} not declared in dataset.json (declared: ${expectedLabels.join(', ')})`,
      });
    }
  }
  return problems;
}
