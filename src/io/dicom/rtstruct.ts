import { fail } from '../../util/errors.js';
import { boxes, fillEvenOdd, traceValue } from './contours.js';
import {
  DEFAULT_ALGORITHM,
  derivedHeader,
  dicomDate,
  dicomTime,
  presentClasses,
  shortText,
  valueOfName,
} from './derived.js';
import type { DerivedWriteOptions } from './derived.js';
import { sliceAt } from './seg-read.js';
import { labelsOnStack, stackToImage, type DicomSource } from './source.js';
import { segmentTerms } from './terms.js';
import { parseDicomTree, treeItem, treeItems, treeNumbers, treeString } from './tree.js';
import { codeItem, needsImplicit, seq, str, writeDicom, type DicomEl, type DicomItem } from './write.js';

export const RTSTRUCT_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.481.3';

export type WriteRtStructOptions = DerivedWriteOptions;

type V3 = readonly [number, number, number];
const axes = (source: DicomSource): { r: V3; c: V3 } => {
  const o = source.orientation;
  return { r: [o[0] ?? 0, o[1] ?? 0, o[2] ?? 0], c: [o[3] ?? 0, o[4] ?? 0, o[5] ?? 0] };
};
/** Contour coordinates: 0.001 mm is far below a pixel, and keeps ContourData short. */
const coord = (v: number): string => String(Math.round(v * 1000) / 1000);

/** Contours per class and slice: corners in patient coordinates (LPS mm), flat x, y, z lists. */
function contoursOf(stack: Uint16Array, source: DicomSource): Map<number, { k: number; points: number[] }[]> {
  const { rows, columns } = source;
  const [rs, cs] = source.pixelSpacing;
  const { r, c } = axes(source);
  const out = new Map<number, { k: number; points: number[] }[]>();
  source.instances.forEach((inst, k) => {
    const slice = stack.subarray(k * rows * columns, (k + 1) * rows * columns);
    const p0 = inst.position;
    for (const [value, box] of boxes(slice, columns, rows)) {
      const list = out.get(value) ?? [];
      for (const poly of traceValue(slice, columns, rows, value, box)) {
        const points: number[] = [];
        for (let i = 0; i < poly.length; i += 2) {
          const u = ((poly[i] ?? 0) - 0.5) * cs;
          const w = ((poly[i + 1] ?? 0) - 0.5) * rs;
          for (let a = 0; a < 3; a++) points.push((p0[a] ?? 0) + u * (r[a] ?? 0) + w * (c[a] ?? 0));
        }
        list.push({ k, points });
      }
      out.set(value, list);
    }
  });
  return out;
}

function imageRef(source: DicomSource, k: number): DicomItem {
  const i = source.instances[k];
  if (i === undefined) fail('BAD_INPUT', `rtstruct: no source instance for slice ${k}`);
  return [str(0x00081150, 'UI', i.sopClassUid), str(0x00081155, 'UI', i.sopInstanceUid)];
}

function referencedFrame(source: DicomSource): DicomEl {
  return seq(0x30060010, [
    [
      str(0x00200052, 'UI', source.frameOfReferenceUid),
      seq(0x30060012, [
        [
          str(0x00081150, 'UI', '1.2.840.10008.3.1.2.3.1'),
          str(0x00081155, 'UI', source.studyInstanceUid),
          seq(0x30060014, [
            [
              str(0x0020000e, 'UI', source.seriesInstanceUid),
              seq(
                0x30060016,
                source.instances.map((_, k) => imageRef(source, k)),
              ),
            ],
          ]),
        ],
      ]),
    ],
  ]);
}

/**
 * An RT Structure Set of a label map on its source series' grid: one ROI per class present (ROIName the
 * class name, AUTOMATIC), and per slice one CLOSED_PLANAR contour per boundary of each connected region
 * (4-connected), holes as contours of their own (no keyholes: an even-odd / XOR fill, as most planning
 * systems apply, gives the region back). The contours run along the pixel edges, so the fill is exact.
 * Explicit VR; implicit VR when a ContourData outgrows explicit VR's 64 KiB.
 */
export function writeRtStruct(options: WriteRtStructOptions): Uint8Array {
  const { source, names } = options;
  const stack = labelsOnStack(options.labels, source);
  const contours = contoursOf(stack, source);
  const counts = new Uint32Array(Math.max(0, ...contours.keys()) + 1);
  for (const [v, list] of contours) counts[v] = list.length;
  const values = presentClasses(counts, names, 'rtstruct');
  const algorithm = options.algorithm ?? DEFAULT_ALGORITHM;
  const when = options.date ?? new Date();
  const roi = (v: number, n: number): DicomItem => [
    str(0x30060022, 'IS', [n]),
    str(0x30060024, 'UI', source.frameOfReferenceUid),
    str(0x30060026, 'LO', shortText(names[v] ?? '', 64)),
    str(0x30060036, 'CS', 'AUTOMATIC'),
    str(0x30060038, 'LO', shortText(`${algorithm.name} ${algorithm.version}`, 64)),
  ];
  const roiContour = (v: number, n: number): DicomItem => [
    str(0x3006002a, 'IS', [...segmentTerms(names[v] ?? '', v).rgb]),
    seq(
      0x30060040,
      (contours.get(v) ?? []).map((ct, i) => [
        seq(0x30060016, [imageRef(source, ct.k)]),
        str(0x30060042, 'CS', 'CLOSED_PLANAR'),
        str(0x30060046, 'IS', [ct.points.length / 3]),
        str(0x30060048, 'IS', [i + 1]),
        str(0x30060050, 'DS', ct.points.map(coord).join('\\')),
      ]),
    ),
    str(0x30060084, 'IS', [n]),
  ];
  const observation = (v: number, n: number): DicomItem => [
    str(0x30060082, 'IS', [n]),
    str(0x30060084, 'IS', [n]),
    seq(0x30060086, [codeItem(segmentTerms(names[v] ?? '', v).type)]),
    str(0x300600a4, 'CS', 'ORGAN'),
    str(0x300600a6, 'PN', ''),
  ];
  const data: DicomEl[] = [
    ...derivedHeader(source, RTSTRUCT_SOP_CLASS, 'RTSTRUCT', options),
    str(0x00081070, 'PN', ''),
    str(0x30060002, 'SH', 'STUNET'),
    str(0x30060004, 'LO', shortText(`${algorithm.name} ${algorithm.version}`, 64)),
    str(0x30060008, 'DA', dicomDate(when)),
    str(0x30060009, 'TM', dicomTime(when)),
    referencedFrame(source),
    seq(
      0x30060020,
      values.map((v, i) => roi(v, i + 1)),
    ),
    seq(
      0x30060039,
      values.map((v, i) => roiContour(v, i + 1)),
    ),
    seq(
      0x30060080,
      values.map((v, i) => observation(v, i + 1)),
    ),
  ];
  return writeDicom(data, { implicit: needsImplicit(data) });
}

export interface RtStructLabels {
  /** Label values on the grid of `readDicomSeries`' image (`source.imageDims`, `source.imageAffine`). */
  readonly labels: Uint16Array;
  readonly rois: readonly { readonly number: number; readonly name: string; readonly value: number }[];
}

/**
 * Rasterises an RT Structure Set on its source series' grid: each CLOSED_PLANAR contour is placed on the
 * slice its plane lies on, and the contours of an ROI on a slice are filled together even-odd (holes
 * stay empty) at the pixel centres. An ROI's value is the index of its ROIName in `names` when given,
 * else its ROINumber; where ROIs overlap, the later one wins.
 */
export function rasteriseRtStruct(
  bytes: Uint8Array,
  source: DicomSource,
  names?: readonly string[],
): RtStructLabels {
  const t = parseDicomTree(bytes, 'RTSTRUCT');
  if (treeString(t, 0x00080060) !== 'RTSTRUCT')
    fail('BAD_INPUT', 'rtstruct: the file is not an RT Structure Set');
  const rois = treeItems(t, 0x30060020).map((it) => {
    const number = treeNumbers(it, 0x30060022)[0] ?? 0;
    const name = treeString(it, 0x30060026) ?? '';
    return { number, name, value: valueOfName(names, name, number, 'rtstruct: ROI') };
  });
  const valueOf = new Map(rois.map((r) => [r.number, r.value]));
  const { rows, columns } = source;
  const [rs, cs] = source.pixelSpacing;
  const { r, c } = axes(source);
  const out = new Uint16Array(rows * columns * source.instances.length);
  for (const rc of treeItems(t, 0x30060039)) {
    const value = valueOf.get(treeNumbers(rc, 0x30060084)[0] ?? -1);
    if (value === undefined) continue;
    const perSlice = new Map<number, number[][]>();
    for (const ct of treeItems(rc, 0x30060040)) {
      if ((treeString(ct, 0x30060042) ?? '') !== 'CLOSED_PLANAR') continue;
      const p = treeNumbers(ct, 0x30060050);
      const k = sliceAt(source, p, 'rtstruct: a contour');
      const p0 = source.instances[k]?.position ?? [0, 0, 0];
      const poly: number[] = [];
      for (let i = 0; i + 2 < p.length; i += 3) {
        const d = [(p[i] ?? 0) - p0[0], (p[i + 1] ?? 0) - p0[1], (p[i + 2] ?? 0) - p0[2]];
        poly.push((d[0] ?? 0) * r[0] + (d[1] ?? 0) * r[1] + (d[2] ?? 0) * r[2]);
        poly.push((d[0] ?? 0) * c[0] + (d[1] ?? 0) * c[1] + (d[2] ?? 0) * c[2]);
      }
      for (let i = 0; i < poly.length; i += 2) {
        poly[i] = (poly[i] ?? 0) / cs + 0.5;
        poly[i + 1] = (poly[i + 1] ?? 0) / rs + 0.5;
      }
      perSlice.set(k, [...(perSlice.get(k) ?? []), poly]);
    }
    for (const [k, polys] of perSlice) {
      const plane = out.subarray(k * rows * columns, (k + 1) * rows * columns);
      fillEvenOdd(polys, columns, rows, plane, value);
    }
  }
  if (treeItem(t, 0x30060039) === undefined) fail('BAD_INPUT', 'rtstruct: no ROIContourSequence');
  return { labels: stackToImage(out, source), rois };
}
