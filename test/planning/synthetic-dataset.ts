/** Tiny nnU-Net v2 datasets written with writeNifti, for dataset, fingerprint and planning tests. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mat4, type Mat4 } from '../../src/io/geometry.js';
import { createNifti } from '../../src/io/nifti-volume.js';
import { writeNifti, type NiftiImage } from '../../src/io/nifti.js';
import { Rng } from '../../src/util/random.js';

/** NIfTI sizes (i, j, k) = (X, Y, Z). */
export type Dims = readonly [number, number, number];

export function affine(spacingIJK: readonly number[], origin: readonly number[] = [0, 0, 0]): Mat4 {
  const [a = 1, b = 1, c = 1] = spacingIJK;
  const [x = 0, y = 0, z = 0] = origin;
  return mat4([
    [a, 0, 0, x],
    [0, b, 0, y],
    [0, 0, c, z],
    [0, 0, 0, 1],
  ]);
}

export function image(
  data: Float32Array | Uint8Array | Int16Array,
  dims: readonly number[],
  spacingIJK: readonly number[] = [1, 1, 1],
  origin: readonly number[] = [0, 0, 0],
): NiftiImage {
  return createNifti({ raw: data, dims, affine: affine(spacingIJK, origin) });
}

export function save(path: string, img: NiftiImage): void {
  writeFileSync(path, writeNifti(img));
}

export interface SyntheticCase {
  id: string;
  /** Per channel, NIfTI order (i fastest). */
  channels: Float32Array[];
  label: Uint8Array;
  dims: Dims;
  spacingIJK: [number, number, number];
}

/**
 * A body (value ≥ 1) with a zero border (so cropping removes something), label 1 = a box, label 2 = a
 * smaller box; intensities per channel c: 100·(c+1) + label·50 + noise.
 */
export function syntheticCase(
  id: string,
  seed: number,
  dims: Dims = [20, 24, 16],
  channels = 1,
): SyntheticCase {
  const [ni, nj, nk] = dims;
  const n = ni * nj * nk;
  const rng = new Rng(seed);
  const label = new Uint8Array(n);
  const chans = Array.from({ length: channels }, () => new Float32Array(n));
  const off = seed % 3;
  for (let k = 0; k < nk; k++) {
    for (let j = 0; j < nj; j++) {
      for (let i = 0; i < ni; i++) {
        const v = i + ni * (j + nj * k);
        const inBody = i >= 2 && i < ni - 2 && j >= 1 + off && j < nj - 1 && k >= 1 && k < nk - 1;
        if (!inBody) continue;
        let l = 0;
        if (i >= 5 && i < 12 && j >= 6 && j < 14 && k >= 4 && k < 10) l = 1;
        if (i >= 13 && i < 16 && j >= 8 + off && j < 12 + off && k >= 5 && k < 9) l = 2;
        label[v] = l;
        chans.forEach((c, ch) => (c[v] = 100 * (ch + 1) + 50 * l + Math.round(rng.normal() * 10)));
      }
    }
  }
  return { id, channels: chans, label, dims, spacingIJK: [1, 1, 1] };
}

export function writeDataset(
  root: string,
  cases: readonly SyntheticCase[],
  json: Record<string, unknown> = {},
): void {
  mkdirSync(join(root, 'imagesTr'), { recursive: true });
  mkdirSync(join(root, 'labelsTr'), { recursive: true });
  for (const c of cases) {
    c.channels.forEach((ch, i) => {
      save(
        join(root, 'imagesTr', `${c.id}_${String(i).padStart(4, '0')}.nii.gz`),
        image(ch, c.dims, c.spacingIJK),
      );
    });
    save(join(root, 'labelsTr', `${c.id}.nii.gz`), image(c.label, c.dims, c.spacingIJK));
  }
  const channels = cases[0]?.channels.length ?? 1;
  const base = {
    channel_names: Object.fromEntries(
      Array.from({ length: channels }, (_, i) => [String(i), i === 0 ? 'CT' : 'T2']),
    ),
    labels: { background: 0, organ: 1, tumor: 2 },
    numTraining: cases.length,
    file_ending: '.nii.gz',
  };
  writeFileSync(join(root, 'dataset.json'), JSON.stringify({ ...base, ...json }, null, 2));
}
