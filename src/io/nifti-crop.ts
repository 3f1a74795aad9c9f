/** A box of a NIfTI image as an image of its own, placed where it was (the affine moves to its corner). */
import { fail } from '../util/errors.js';
import type { Mat4, Row4 } from './geometry.js';
import type { NiftiRawData } from './nifti-data.js';
import type { NiftiImage } from './nifti.js';
import { createNifti } from './nifti-volume.js';

type Ijk = readonly [number, number, number];

/** Voxels [i0, i0+ni) × [j0, j0+nj) × [k0, k0+nk) of a 3D image, same datatype, header and orientation. */
export function cropNifti(image: NiftiImage, fromIJK: Ijk, sizeIJK: Ijk): NiftiImage {
  const [I = 1, J = 1, K = 1] = image.dims;
  if (image.dims.length > 3)
    fail('UNSUPPORTED', `crop: a 3D image is needed, got dims ${image.dims.join('×')}`);
  const [i0, j0, k0] = fromIJK;
  const [ni, nj, nk] = sizeIJK;
  if (
    [i0, j0, k0, ni, nj, nk].some((v) => !Number.isInteger(v)) ||
    i0 < 0 ||
    j0 < 0 ||
    k0 < 0 ||
    ni < 1 ||
    nj < 1 ||
    nk < 1
  )
    fail('BAD_INPUT', `crop: box [${fromIJK.join(', ')}] + [${sizeIJK.join(', ')}] is not a box of voxels`);
  if (i0 + ni > I || j0 + nj > J || k0 + nk > K)
    fail(
      'BAD_INPUT',
      `crop: box [${fromIJK.join(', ')}] + [${sizeIJK.join(', ')}] leaves the image ${I}×${J}×${K}`,
    );
  const raw = image.raw;
  const out = new (raw.constructor as new (length: number) => NiftiRawData)(ni * nj * nk);
  for (let k = 0; k < nk; k++)
    for (let j = 0; j < nj; j++) {
      const at = ((k0 + k) * J + j0 + j) * I + i0;
      out.set(raw.subarray(at, at + ni) as never, (k * nj + j) * ni);
    }
  const a = image.affine;
  const shift = (r: Row4): Row4 => [r[0], r[1], r[2], r[3] + r[0] * i0 + r[1] * j0 + r[2] * k0];
  const affine: Mat4 = [shift(a[0]), shift(a[1]), shift(a[2]), a[3]];
  return createNifti({ raw: out, dims: [ni, nj, nk], affine, header: image.header });
}
