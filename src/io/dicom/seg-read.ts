import { fail } from '../../util/errors.js';
import { valueOfName } from './derived.js';
import { stackToImage, type DicomSource } from './source.js';
import {
  parseDicomTree,
  treeBytes,
  treeItem,
  treeItems,
  treeNumbers,
  treeString,
  treeUint16,
  type DicomTree,
} from './tree.js';

export interface DicomSegSegment {
  readonly number: number;
  readonly label: string;
  /** The label value its voxels get. */
  readonly value: number;
}

export interface DicomSegLabels {
  /** Label values on the grid of `readDicomSeries`' image (`source.imageDims`, `source.imageAffine`). */
  readonly labels: Uint16Array;
  readonly segments: readonly DicomSegSegment[];
}

type V3 = readonly [number, number, number];
const normalOf = (o: readonly number[]): V3 => [
  (o[1] ?? 0) * (o[5] ?? 0) - (o[2] ?? 0) * (o[4] ?? 0),
  (o[2] ?? 0) * (o[3] ?? 0) - (o[0] ?? 0) * (o[5] ?? 0),
  (o[0] ?? 0) * (o[4] ?? 0) - (o[1] ?? 0) * (o[3] ?? 0),
];
const dot = (a: readonly number[], b: readonly number[]): number =>
  (a[0] ?? 0) * (b[0] ?? 0) + (a[1] ?? 0) * (b[1] ?? 0) + (a[2] ?? 0) * (b[2] ?? 0);

/** The source slice a point in patient space lies on (by distance along the normal; half a step at most). */
export function sliceAt(source: DicomSource, point: readonly number[], what: string): number {
  const n = normalOf(source.orientation);
  const d = dot(point, n);
  let best = -1;
  let dist = Infinity;
  source.instances.forEach((inst, k) => {
    const e = Math.abs(dot(inst.position, n) - d);
    if (e < dist) [best, dist] = [k, e];
  });
  if (best < 0 || dist > Math.max(0.01, 0.25 * source.step)) {
    fail('BAD_INPUT', `${what}: a plane ${d.toFixed(3)} mm along the normal is on no slice of the series`);
  }
  return best;
}

function functionalGroup(
  perFrame: DicomTree | undefined,
  shared: DicomTree | undefined,
  tag: number,
): DicomTree | undefined {
  return (
    (perFrame === undefined ? undefined : treeItem(perFrame, tag)) ??
    (shared === undefined ? undefined : treeItem(shared, tag))
  );
}

function checkGrid(t: DicomTree, source: DicomSource, shared: DicomTree | undefined): void {
  const rows = treeUint16(t, 0x00280010)[0];
  const cols = treeUint16(t, 0x00280011)[0];
  const orientation = treeNumbers(functionalGroup(undefined, shared, 0x00209116) ?? t, 0x00200037);
  const off = orientation.some((v, i) => Math.abs(v - (source.orientation[i] ?? NaN)) > 1e-4);
  if (rows !== source.rows || cols !== source.columns || orientation.length !== 6 || off) {
    fail(
      'BAD_INPUT',
      `dicom-seg: ${t.name}: its frames (${cols}×${rows}, orientation ${orientation.join('\\')}) are not on the grid of the series (${source.columns}×${source.rows}, ${source.orientation.join('\\')})`,
    );
  }
}

function segmentsOf(t: DicomTree, names: readonly string[] | undefined): DicomSegSegment[] {
  return treeItems(t, 0x00620002).map((s) => {
    const number = treeUint16(s, 0x00620004)[0] ?? 0;
    const label = treeString(s, 0x00620005) ?? '';
    return { number, label, value: valueOfName(names, label, number, `dicom-seg: ${t.name}: segment`) };
  });
}

/** Sets `value` in `out` where frame pixels (from `first`, `plane` of them) are on; whole zero bytes skipped. */
function placeFrame(
  pixels: Uint8Array,
  bits: number,
  threshold: number,
  first: number,
  plane: number,
  out: Uint16Array,
  value: number,
): void {
  for (let p = 0; p < plane; p++) {
    const bit = first + p;
    if (bits === 1) {
      const byte = pixels[bit >>> 3] ?? 0;
      if (byte === 0 && (bit & 7) === 0 && p + 8 <= plane) {
        p += 7;
        continue;
      }
      if (((byte >> (bit & 7)) & 1) === 1) out[p] = value;
    } else if ((pixels[bit] ?? 0) > threshold) out[p] = value;
  }
}

/**
 * Decodes a binary DICOM-SEG (ours or another's; 1- or 8-bit frames, FRACTIONAL thresholded at one half)
 * back to a label volume on its source series' grid: each frame is placed by its ImagePositionPatient,
 * its voxels get the segment's value (the index of its SegmentLabel in `names` when given, else the
 * segment number); where segments overlap, the later one wins.
 */
export function readDicomSeg(
  bytes: Uint8Array,
  source: DicomSource,
  names?: readonly string[],
): DicomSegLabels {
  const t = parseDicomTree(bytes, 'DICOM-SEG');
  if (treeString(t, 0x00080060) !== 'SEG')
    fail('BAD_INPUT', 'dicom-seg: the file is not a segmentation (Modality is not SEG)');
  const shared = treeItem(t, 0x52009229);
  checkGrid(t, source, shared);
  const segments = segmentsOf(t, names);
  const value = new Map(segments.map((s) => [s.number, s.value]));
  const perFrame = treeItems(t, 0x52009230);
  const frames = Number(treeString(t, 0x00280008) ?? '1');
  const bits = treeUint16(t, 0x00280100)[0] ?? 0;
  const fractional = treeString(t, 0x00620001) === 'FRACTIONAL';
  const threshold = fractional ? (treeUint16(t, 0x00620010)[0] ?? 255) / 2 : 0.5;
  const pixels = treeBytes(t, 0x7fe00010) ?? new Uint8Array(0);
  const plane = source.rows * source.columns;
  if (
    perFrame.length !== frames ||
    (bits !== 1 && bits !== 8) ||
    pixels.length * (8 / bits) < frames * plane
  ) {
    fail(
      'BAD_INPUT',
      `dicom-seg: ${t.name}: ${frames} frames of ${bits} bits do not match its ${perFrame.length} frame descriptions and ${pixels.length} pixel bytes`,
    );
  }
  const out = new Uint16Array(plane * source.instances.length);
  perFrame.forEach((f, i) => {
    const segment = treeUint16(functionalGroup(f, shared, 0x0062000a) ?? f, 0x0062000b)[0] ?? 0;
    const v = value.get(segment);
    if (v === undefined)
      fail(
        'BAD_INPUT',
        `dicom-seg: ${t.name}: frame ${i + 1} refers to segment ${segment}, which is not described`,
      );
    const position = treeNumbers(functionalGroup(f, shared, 0x00209113) ?? f, 0x00200032);
    const k = sliceAt(source, position, `dicom-seg: frame ${i + 1}`);
    placeFrame(pixels, bits, threshold, i * plane, plane, out.subarray(k * plane, (k + 1) * plane), v);
  });
  return { labels: stackToImage(out, source), segments };
}
