/**
 * The example CT (test/fixtures/dicom/example_ct_dicom, 20 slices, JPEG 2000 lossless) made storable: it is
 * anonymised down to empty StudyInstanceUID, SeriesInstanceUID, SOPClassUID and SOPInstanceUID, and a
 * PACS (Orthanc among them) refuses an instance without them. Each empty value is filled in place with the
 * UID `readDicomSeries` already gives the series (made up from the files) or the file meta group's, so the
 * data set is otherwise byte for byte the fixture's and a SEG of the fixture references these instances.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDicom } from '../../../../src/io/dicom/parse.js';
import { readDicomSeries, type DicomSeriesImage } from '../../../../src/io/dicom/read.js';
import type { DicomFile } from '../../../../src/io/dicom/series.js';
import { mediaStorageUids } from '../../../../src/io/dicom/source.js';
import { concatChunks } from '../../../../src/util/bytes.js';
import { fixturePath } from '../../../helpers.js';

export interface ExampleCt {
  /** The fixture files as they are. */
  readonly original: DicomFile[];
  /** The same with the four UIDs filled in. */
  readonly files: DicomFile[];
  /** The fixture read (its source's UIDs are the ones filled in). */
  readonly image: DicomSeriesImage;
  readonly study: string;
  readonly series: string;
  readonly sops: readonly string[];
}

/** Sets empty explicit-VR UI elements of the data set to `values` (tag → UID); refuses a non-empty one. */
export function fillEmptyUids(bytes: Uint8Array, values: ReadonlyMap<number, string>): Uint8Array {
  const ds = parseDicom(bytes, 'fill');
  const base = ds.bytes.byteOffset - bytes.byteOffset;
  const edits = [...values].map(([tag, uid]) => {
    const e = ds.elements.get(tag);
    assert.ok(
      e !== undefined && e.vr === 'UI' && e.length === 0,
      `tag ${tag.toString(16)} is not an empty UI`,
    );
    const value = new TextEncoder().encode(uid.length % 2 === 0 ? uid : `${uid}\0`);
    return { at: base + e.offset, value };
  });
  edits.sort((a, b) => a.at - b.at);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const { at, value } of edits) {
    const head = bytes.slice(from, at);
    new DataView(head.buffer).setUint16(head.length - 2, value.length, true); // the 16-bit length of explicit VR
    chunks.push(head, value);
    from = at;
  }
  chunks.push(bytes.subarray(from));
  return concatChunks(chunks);
}

export async function exampleCt(): Promise<ExampleCt> {
  const dir = fixturePath('dicom', 'example_ct_dicom');
  const original = readdirSync(dir)
    .sort()
    .map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(dir, name))) }));
  const image = await readDicomSeries(original);
  const study = image.source.studyInstanceUid;
  const series = image.source.seriesInstanceUid;
  const files = original.map((f) => {
    const media = mediaStorageUids(f.bytes);
    const uids = new Map([
      [0x00080016, media.classUid],
      [0x00080018, media.instanceUid],
      [0x0020000d, study],
      [0x0020000e, series],
    ]);
    return { name: f.name, bytes: fillEmptyUids(f.bytes, uids) };
  });
  const sops = files.map((f) => mediaStorageUids(f.bytes).instanceUid);
  return { original, files, image, study, series, sops };
}
