/**
 * A dense multi-channel volume in nnU-Net's array convention (what nnU-Net sees through SimpleITK):
 * axes (C, Z, Y, X), C-order, spacing in mm per (Z, Y, X) — i.e. NIfTI's (i, j, k) axes reversed.
 */
export interface Volume<
  T extends Float32Array | Int16Array | Uint8Array | Uint16Array | Int32Array = Float32Array,
> {
  readonly data: T;
  /** (C, Z, Y, X). */
  readonly shape: readonly [number, number, number, number];
}

export function volumeSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
