import { fail } from '../../util/errors.js';
import { hexTag, parseDicom, text, TS, type ParseDicomOptions } from './parse.js';
import { LONG_VRS } from './write.js';

/**
 * A data set with its sequences kept (what reading a SEG or RTSTRUCT back needs; `parseDicom` steps over
 * sequences). Explicit or implicit VR little endian (and deflated, through `parseDicom`); in implicit VR
 * a sequence is known by an undefined length or by its tag being in `SQ_TAGS`.
 */
export interface TreeElement {
  readonly vr: string;
  readonly offset: number;
  readonly length: number;
  readonly items?: readonly DicomTree[];
}
export interface DicomTree {
  readonly bytes: Uint8Array;
  readonly name: string;
  readonly elements: ReadonlyMap<number, TreeElement>;
}

/** Sequences read back in implicit VR files (SEG and RTSTRUCT). */
const SQ_TAGS = new Set([
  0x00081115, 0x0008114a, 0x00089124, 0x00082112, 0x00209111, 0x00209113, 0x0062000a, 0x00620002, 0x52009229,
  0x52009230, 0x00289110, 0x00209116, 0x30060010, 0x30060012, 0x30060014, 0x30060016, 0x30060020, 0x30060039,
  0x30060040, 0x30060080, 0x00620003, 0x0062000f,
]);
const UNDEFINED = 0xffffffff;

class TreeReader {
  private readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly name: string,
    readonly explicit: boolean,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  private need(p: number, n: number): void {
    if (p + n > this.bytes.length)
      fail(
        'BAD_INPUT',
        `dicom: ${this.name}: truncated at byte ${p} (needs ${n} bytes, has ${this.bytes.length - p})`,
      );
  }
  private header(p: number): { tag: number; vr: string; offset: number; length: number } {
    this.need(p, 8);
    const tag = ((this.view.getUint16(p, true) << 16) | this.view.getUint16(p + 2, true)) >>> 0;
    if (!this.explicit || tag >>> 16 === 0xfffe)
      return {
        tag,
        vr: SQ_TAGS.has(tag) ? 'SQ' : '',
        offset: p + 8,
        length: this.view.getUint32(p + 4, true),
      };
    const vr = String.fromCharCode(this.bytes[p + 4] ?? 0, this.bytes[p + 5] ?? 0);
    if (LONG_VRS.has(vr)) {
      this.need(p, 12);
      return { tag, vr, offset: p + 12, length: this.view.getUint32(p + 8, true) };
    }
    return { tag, vr, offset: p + 8, length: this.view.getUint16(p + 6, true) };
  }
  /** Reads elements from p until `end` (a byte position) or the delimiter tag; returns the tree and where it stopped. */
  elements(p: number, end: number, delimiter: number, depth: number): { tree: DicomTree; next: number } {
    if (depth > 32) fail('BAD_INPUT', `dicom: ${this.name}: sequences nested deeper than 32`);
    const elements = new Map<number, TreeElement>();
    while (p < end) {
      if (end - p < 8 && this.bytes.subarray(p, end).every((b) => b === 0)) break;
      const h = this.header(p);
      if (h.tag === delimiter) return { tree: this.tree(elements), next: h.offset };
      const sequence = h.vr === 'SQ' || (h.length === UNDEFINED && h.vr !== 'OB' && h.vr !== 'OW');
      if (!sequence) {
        if (h.length === UNDEFINED)
          fail('BAD_INPUT', `dicom: ${this.name}: (${hexTag(h.tag)}) is encapsulated; not supported here`);
        this.need(h.offset, h.length);
        elements.set(h.tag, { vr: h.vr, offset: h.offset, length: h.length });
        p = h.offset + h.length;
        continue;
      }
      const stop = h.length === UNDEFINED ? this.bytes.length : h.offset + h.length;
      this.need(h.offset, stop - h.offset);
      const r = this.items(h.offset, stop, h.length === UNDEFINED, depth);
      elements.set(h.tag, { vr: 'SQ', offset: h.offset, length: r.next - h.offset, items: r.items });
      p = r.next;
    }
    return { tree: this.tree(elements), next: p };
  }
  private items(
    p: number,
    end: number,
    undefinedLength: boolean,
    depth: number,
  ): { items: DicomTree[]; next: number } {
    const items: DicomTree[] = [];
    while (p < end) {
      const h = this.header(p);
      if (h.tag === 0xfffee0dd) return { items, next: h.offset };
      if (h.tag !== 0xfffee000)
        fail('BAD_INPUT', `dicom: ${this.name}: expected a sequence item at byte ${p}`);
      const stop = h.length === UNDEFINED ? this.bytes.length : h.offset + h.length;
      const r = this.elements(h.offset, stop, 0xfffee00d, depth + 1);
      items.push(r.tree);
      p = h.length === UNDEFINED ? r.next : stop;
    }
    if (undefinedLength) fail('BAD_INPUT', `dicom: ${this.name}: a sequence has no delimiter`);
    return { items, next: p };
  }
  private tree(elements: Map<number, TreeElement>): DicomTree {
    return { bytes: this.bytes, name: this.name, elements };
  }
}

/** Parses a Part 10 file with its sequences. */
export function parseDicomTree(bytes: Uint8Array, name: string, options: ParseDicomOptions = {}): DicomTree {
  const ds = parseDicom(bytes, name, options);
  if (ds.fragments !== undefined) fail('UNSUPPORTED', `dicom: ${name}: encapsulated (compressed) pixel data`);
  const r = new TreeReader(ds.bytes, name, ds.transferSyntax !== TS.implicitLE);
  return r.elements(0, ds.bytes.length, -1, 0).tree;
}

export const treeString = (t: DicomTree, tag: number): string | undefined => {
  const e = t.elements.get(tag);
  return e === undefined ? undefined : text(t.bytes, e.offset, e.length);
};
export const treeItems = (t: DicomTree, tag: number): readonly DicomTree[] =>
  t.elements.get(tag)?.items ?? [];
/** The first item of a sequence, or undefined. */
export const treeItem = (t: DicomTree, tag: number): DicomTree | undefined => treeItems(t, tag)[0];
export function treeNumbers(t: DicomTree, tag: number): number[] {
  const s = treeString(t, tag);
  return s === undefined || s === '' ? [] : s.split('\\').map(Number);
}
export function treeUint16(t: DicomTree, tag: number): number[] {
  const e = t.elements.get(tag);
  if (e === undefined) return [];
  const v = new DataView(t.bytes.buffer, t.bytes.byteOffset + e.offset, e.length);
  return Array.from({ length: Math.floor(e.length / 2) }, (_, i) => v.getUint16(2 * i, true));
}
export const treeBytes = (t: DicomTree, tag: number): Uint8Array | undefined => {
  const e = t.elements.get(tag);
  return e === undefined ? undefined : t.bytes.subarray(e.offset, e.offset + e.length);
};
