/**
 * Ports nnU-Net v1.7.1 cropping.py: `create_nonzero_mask`, `get_bbox_from_mask`, `crop_to_bbox`,
 * `crop_to_nonzero` and `ImageCropper.crop`. Arrays are (C, Z, Y, X).
 */
import { fail } from '../util/errors.js';
import type { Volume } from '../io/volume.js';
import { uniqueSorted } from './resize.js';

/** [[zMin, zMaxExclusive], [yMin, yMax), [xMin, xMax)]: nnU-Net's `crop_bbox`. */
export type BBox3 = [[number, number], [number, number], [number, number]];

/**
 * scipy `binary_fill_holes` in 3-D (default structure: 6-connectivity): background voxels not
 * 6-connected, through background, to the array border become foreground. Returns a new mask.
 */
export function binaryFillHoles(mask: Uint8Array, dims: readonly [number, number, number]): Uint8Array {
  const [d0, d1, d2] = dims;
  const n = d0 * d1 * d2;
  // reached[i] = 1: background connected to the outside.
  const reached = new Uint8Array(n);
  const queue = new Int32Array(n);
  let head = 0;
  let tail = 0;
  const push = (i: number): void => {
    if (mask[i] === 0 && reached[i] === 0) {
      reached[i] = 1;
      queue[tail++] = i;
    }
  };
  for (let z = 0; z < d0; z++) {
    for (let y = 0; y < d1; y++) {
      const onFace = z === 0 || z === d0 - 1 || y === 0 || y === d1 - 1;
      const row = (z * d1 + y) * d2;
      if (onFace) for (let x = 0; x < d2; x++) push(row + x);
      else {
        push(row);
        push(row + d2 - 1);
      }
    }
  }
  const s0 = d1 * d2;
  while (head < tail) {
    const i = queue[head++] as number;
    const x = i % d2;
    const y = Math.floor(i / d2) % d1;
    const z = Math.floor(i / s0);
    if (x > 0) push(i - 1);
    if (x < d2 - 1) push(i + 1);
    if (y > 0) push(i - d2);
    if (y < d1 - 1) push(i + d2);
    if (z > 0) push(i - s0);
    if (z < d0 - 1) push(i + s0);
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = reached[i] === 1 ? 0 : 1;
  return out;
}

/** `create_nonzero_mask`: OR over channels of data != 0 (NaN counts as nonzero), then hole filling. */
export function createNonzeroMask(data: Volume): Uint8Array {
  const [c, d0, d1, d2] = data.shape;
  const n = d0 * d1 * d2;
  const mask = new Uint8Array(n);
  for (let ch = 0; ch < c; ch++) {
    const off = ch * n;
    for (let i = 0; i < n; i++) if (data.data[off + i] !== 0) mask[i] = 1;
  }
  return binaryFillHoles(mask, [d0, d1, d2]);
}

/** The half-open bounding box of the nonzero voxels of a (Z, Y, X) array; null when there are none. */
export function nonzeroBox(values: ArrayLike<number>, dims: readonly [number, number, number]): BBox3 | null {
  const [d0, d1, d2] = dims;
  let [loZ, loY, loX] = [Infinity, Infinity, Infinity];
  let [hiZ, hiY, hiX] = [-1, -1, -1];
  let i = 0;
  for (let z = 0; z < d0; z++) {
    for (let y = 0; y < d1; y++) {
      for (let x = 0; x < d2; x++, i++) {
        if (values[i] === 0) continue;
        loZ = Math.min(loZ, z);
        loY = Math.min(loY, y);
        loX = Math.min(loX, x);
        hiZ = Math.max(hiZ, z);
        hiY = Math.max(hiY, y);
        hiX = Math.max(hiX, x);
      }
    }
  }
  if (hiZ < 0) return null;
  return [
    [loZ, hiZ + 1],
    [loY, hiY + 1],
    [loX, hiX + 1],
  ];
}

/** `get_bbox_from_mask(mask, 0)`: the half-open bounding box of the mask's nonzero voxels. */
export function getBboxFromMask(mask: Uint8Array, dims: readonly [number, number, number]): BBox3 {
  return (
    nonzeroBox(mask, dims) ??
    fail('BAD_INPUT', 'crop: the image is zero everywhere, there is nothing to crop to')
  );
}

/** `crop_to_bbox` applied to every channel of a (C, Z, Y, X) array. */
export function cropToBbox<T extends Float32Array | Int16Array | Uint8Array>(
  vol: Volume<T>,
  bbox: BBox3,
  make: (n: number) => T,
): Volume<T> {
  const [c, d0, d1, d2] = vol.shape;
  const [[z0, z1], [y0, y1], [x0, x1]] = bbox;
  const e0 = z1 - z0;
  const e1 = y1 - y0;
  const e2 = x1 - x0;
  const out = make(c * e0 * e1 * e2);
  let o = 0;
  for (let ch = 0; ch < c; ch++) {
    for (let z = z0; z < z1; z++) {
      for (let y = y0; y < y1; y++) {
        const base = ((ch * d0 + z) * d1 + y) * d2;
        out.set(vol.data.subarray(base + x0, base + x1), o);
        o += e2;
      }
    }
  }
  return { data: out, shape: [c, e0, e1, e2] };
}

export interface CropResult {
  readonly data: Volume;
  /** (C_seg, Z, Y, X); without an input seg: one channel, −1 outside the nonzero mask and 0 inside. */
  readonly seg: Volume<Int16Array>;
  readonly bbox: BBox3;
}

/**
 * `crop_to_nonzero(data, seg, nonzero_label)`: crop to the bbox of the hole-filled nonzero mask; in the
 * seg, voxels that are 0 AND outside the mask become `nonzeroLabel` (labelled voxels outside keep their
 * label).
 */
export function cropToNonzero(
  data: Volume,
  seg: Volume<Int16Array> | null = null,
  nonzeroLabel = -1,
): CropResult {
  const [, d0, d1, d2] = data.shape;
  if (seg !== null && (seg.shape[1] !== d0 || seg.shape[2] !== d1 || seg.shape[3] !== d2)) {
    fail(
      'SHAPE_MISMATCH',
      `crop: seg shape [${seg.shape.join(', ')}] does not match data [${data.shape.join(', ')}]`,
    );
  }
  const fullMask = createNonzeroMask(data);
  const bbox = getBboxFromMask(fullMask, [d0, d1, d2]);
  const cropped = cropToBbox(data, bbox, (n) => new Float32Array(n));
  const mask = cropToBbox({ data: fullMask, shape: [1, d0, d1, d2] }, bbox, (n) => new Uint8Array(n)).data;
  let outSeg: Volume<Int16Array>;
  if (seg !== null) {
    outSeg = cropToBbox(seg, bbox, (n) => new Int16Array(n));
    const n = mask.length;
    for (let ch = 0; ch < outSeg.shape[0]; ch++) {
      for (let i = 0; i < n; i++) {
        if (mask[i] === 0 && outSeg.data[ch * n + i] === 0) outSeg.data[ch * n + i] = nonzeroLabel;
      }
    }
  } else {
    const s = new Int16Array(mask.length);
    for (let i = 0; i < mask.length; i++) s[i] = mask[i] === 0 ? nonzeroLabel : 0;
    outSeg = { data: s, shape: [1, cropped.shape[1], cropped.shape[2], cropped.shape[3]] };
  }
  return { data: cropped, seg: outSeg, bbox };
}

export interface CropProperties {
  crop_bbox: BBox3;
  /** np.unique(seg) after cropping (includes −1 when part of the bbox lies outside the mask). */
  classes: number[];
  size_after_cropping: [number, number, number];
}

/** `ImageCropper.crop(data, properties, seg)`: crop, record the properties, then seg[seg < −1] = 0. */
export function imageCropperCrop(
  data: Volume,
  seg: Volume<Int16Array> | null = null,
): { data: Volume; seg: Volume<Int16Array>; properties: CropProperties } {
  const r = cropToNonzero(data, seg, -1);
  const classes = uniqueSorted(r.seg.data);
  const s = r.seg.data;
  for (let i = 0; i < s.length; i++) if ((s[i] as number) < -1) s[i] = 0;
  return {
    data: r.data,
    seg: r.seg,
    properties: {
      crop_bbox: r.bbox,
      classes,
      size_after_cropping: [r.data.shape[1], r.data.shape[2], r.data.shape[3]],
    },
  };
}
