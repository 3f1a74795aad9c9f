import { fail } from '../../util/errors.js';
import {
  DEFAULT_ALGORITHM,
  derivedHeader,
  dicomDate,
  dicomTime,
  presentClasses,
  shortText,
  type DerivedWriteOptions,
} from './derived.js';
import { labelsOnStack, type DicomSource } from './source.js';
import { rgbToDicomLab, segmentTerms } from './terms.js';
import { codeItem, el, newUid, seq, str, writeDicom, type DicomEl, type DicomItem } from './write.js';

export const SEG_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.66.4';

export type WriteDicomSegOptions = DerivedWriteOptions;

/** Per slice and label value: is the value present? (values × slices bits as bytes) */
function presence(stack: Uint16Array, slices: number, plane: number, values: number): Uint8Array {
  const out = new Uint8Array(values * slices);
  for (let k = 0; k < slices; k++) {
    const base = k * plane;
    for (let i = 0; i < plane; i++) {
      const v = stack[base + i] ?? 0;
      if (v !== 0) out[v * slices + k] = 1;
    }
  }
  return out;
}

function segmentItem(label: number, number: number, name: string, algorithmName: string): DicomItem {
  const t = segmentTerms(name, label);
  const typeItem: DicomEl[] = [...codeItem(t.type)];
  if (t.typeModifier !== undefined) typeItem.push(seq(0x00620011, [codeItem(t.typeModifier)]));
  const item: DicomEl[] = [
    seq(0x00620003, [codeItem(t.category)]),
    el(0x00620004, 'US', [number]),
    str(0x00620005, 'LO', shortText(name, 64)),
    str(0x00620008, 'CS', 'AUTOMATIC'),
    str(0x00620009, 'LO', shortText(algorithmName, 64)),
    el(0x0062000d, 'US', rgbToDicomLab(t.rgb)),
    seq(0x0062000f, [typeItem]),
  ];
  if (!t.coded) {
    item.push(
      str(
        0x00620006,
        'ST',
        "no SNOMED CT code for this class in TotalSegmentator's mapping: coded as generic Tissue",
      ),
    );
  }
  if (t.region !== undefined) {
    const region: DicomEl[] = [...codeItem(t.region)];
    if (t.regionModifier !== undefined) region.push(seq(0x00082220, [codeItem(t.regionModifier)]));
    item.push(seq(0x00082218, [region]));
  }
  return item;
}

function frameItem(source: DicomSource, k: number, segment: number): DicomItem {
  const inst = source.instances[k];
  if (inst === undefined) fail('BAD_INPUT', `dicom-seg: no source instance for slice ${k}`);
  return [
    seq(0x00089124, [
      [
        seq(0x00082112, [
          [
            str(0x00081150, 'UI', inst.sopClassUid),
            str(0x00081155, 'UI', inst.sopInstanceUid),
            seq(0x0040a170, [codeItem(['DCM', '121322', 'Source image for image processing operation'])]),
          ],
        ]),
        seq(0x00089215, [codeItem(['DCM', '113076', 'Segmentation'])]),
      ],
    ]),
    seq(0x00209111, [[el(0x00209157, 'UL', [segment, k + 1])]]),
    seq(0x00209113, [[str(0x00200032, 'DS', inst.position)]]),
    seq(0x0062000a, [[el(0x0062000b, 'US', [segment])]]),
  ];
}

/** The frames' bits, one frame per (segment, slice) where the segment is present, LSB first. */
function packFrames(
  stack: Uint16Array,
  frames: readonly { label: number; k: number }[],
  plane: number,
  slices: number,
): Uint8Array {
  // frame number of (label, slice), one pass over the voxels
  const frameOf = new Map<number, number>();
  frames.forEach((f, n) => frameOf.set(f.label * slices + f.k, n));
  const bits = frames.length * plane;
  const n = Math.ceil(bits / 8);
  const bytes = new Uint8Array(n + (n % 2));
  for (let k = 0; k < slices; k++) {
    const base = k * plane;
    for (let i = 0; i < plane; i++) {
      const v = stack[base + i] ?? 0;
      if (v === 0) continue;
      const bit = (frameOf.get(v * slices + k) ?? 0) * plane + i;
      bytes[bit >>> 3] = (bytes[bit >>> 3] ?? 0) | (1 << (bit & 7));
    }
  }
  return bytes;
}

function dimensions(organization: string): DicomEl[] {
  const index = (pointer: number, group: number, label: string): DicomItem => [
    str(0x00209164, 'UI', organization),
    el(0x00209165, 'AT', [pointer]),
    el(0x00209167, 'AT', [group]),
    str(0x00209421, 'LO', label),
  ];
  return [
    seq(0x00209221, [[str(0x00209164, 'UI', organization)]]),
    seq(0x00209222, [
      index(0x0062000b, 0x0062000a, 'ReferencedSegmentNumber'),
      index(0x00200032, 0x00209113, 'ImagePositionPatient'),
    ]),
  ];
}

/**
 * A binary DICOM-SEG (Segmentation Storage) of a label map on the grid of its source series: one segment
 * per class present (SegmentLabel the class name, SNOMED CT codes from TotalSegmentator's mapping,
 * AUTOMATIC, the algorithm's name), one frame per (segment, slice) where the segment has voxels (empty
 * frames left out, as highdicom and dcmqi do), each referencing its source slice; 1-bit packed pixels.
 */
export function writeDicomSeg(options: WriteDicomSegOptions): Uint8Array {
  const { source, names } = options;
  const stack = labelsOnStack(options.labels, source);
  const slices = source.instances.length;
  const plane = source.rows * source.columns;
  let max = 0;
  for (const v of stack) if (v > max) max = v;
  const present = presence(stack, slices, plane, max + 1);
  const counts = new Uint8Array(max + 1);
  for (let v = 1; v <= max; v++)
    counts[v] = present.subarray(v * slices, (v + 1) * slices).includes(1) ? 1 : 0;
  const labels = presentClasses(counts, names, 'dicom-seg');
  const algorithm = options.algorithm ?? DEFAULT_ALGORITHM;
  const frames: { label: number; k: number; segment: number }[] = [];
  labels.forEach((label, s) => {
    for (let k = 0; k < slices; k++)
      if (present[label * slices + k] === 1) frames.push({ label, k, segment: s + 1 });
  });
  const referenced: DicomItem[] = source.instances.map((i) => [
    str(0x00081150, 'UI', i.sopClassUid),
    str(0x00081155, 'UI', i.sopInstanceUid),
  ]);
  const data: DicomEl[] = [
    ...derivedHeader(source, SEG_SOP_CLASS, 'SEG', options),
    str(0x00080008, 'CS', 'DERIVED\\PRIMARY'),
    str(0x00080023, 'DA', dicomDate(options.date ?? new Date())),
    str(0x00080033, 'TM', dicomTime(options.date ?? new Date())),
    seq(0x00081115, [[seq(0x0008114a, referenced), str(0x0020000e, 'UI', source.seriesInstanceUid)]]),
    ...dimensions(newUid()),
    el(0x00280002, 'US', [1]),
    str(0x00280004, 'CS', 'MONOCHROME2'),
    str(0x00280008, 'IS', [frames.length]),
    el(0x00280010, 'US', [source.rows]),
    el(0x00280011, 'US', [source.columns]),
    el(0x00280100, 'US', [1]),
    el(0x00280101, 'US', [1]),
    el(0x00280102, 'US', [0]),
    el(0x00280103, 'US', [0]),
    str(0x00282110, 'CS', '00'),
    str(0x00620001, 'CS', 'BINARY'),
    seq(
      0x00620002,
      labels.map((l, s) => segmentItem(l, s + 1, names[l] ?? '', algorithm.name)),
    ),
    str(0x00700080, 'CS', 'STUNET'),
    str(0x00700081, 'LO', shortText(`${algorithm.name} ${algorithm.version}`, 64)),
    str(0x00700084, 'PN', ''),
    seq(0x52009229, [
      [
        seq(0x00289110, [
          [
            str(0x00180050, 'DS', [source.step]),
            str(0x00180088, 'DS', [source.step]),
            str(0x00280030, 'DS', source.pixelSpacing),
          ],
        ]),
        seq(0x00209116, [[str(0x00200037, 'DS', source.orientation)]]),
      ],
    ]),
    seq(
      0x52009230,
      frames.map((f) => frameItem(source, f.k, f.segment)),
    ),
    el(0x7fe00010, 'OB', packFrames(stack, frames, plane, slices)),
  ];
  return writeDicom(data);
}
