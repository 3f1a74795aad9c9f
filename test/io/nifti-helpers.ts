import { readFileSync } from 'node:fs';
import { fixturePath } from '../helpers.js';
import { readNifti, type NiftiImage } from '../../src/io/nifti.js';

export function loadNifti(...parts: string[]): NiftiImage {
  const path = fixturePath('nifti', ...parts);
  if (path.endsWith('.hdr'))
    return readNifti(readFileSync(path), readFileSync(path.replace(/\.hdr$/, '.img')));
  return readNifti(readFileSync(path));
}

export function niftiBytes(...parts: string[]): Uint8Array {
  return new Uint8Array(readFileSync(fixturePath('nifti', ...parts)));
}

/** Flat NIfTI index of voxel (i, j, k). */
export function at(image: Pick<NiftiImage, 'dims'>, i: number, j: number, k: number): number {
  const [ni = 1, nj = 1] = image.dims;
  return i + ni * (j + nj * k);
}
