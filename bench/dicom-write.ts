/**
 * DICOM write benchmark (issue 12): the time to write the real CT's TotalSegmentator segmentation
 * (test/fixtures/dicom/example_seg_dicom.nii.gz on example_ct_dicom, 512×512×20) as a DICOM-SEG and as an
 * RTSTRUCT, and to read each back (SEG decode, RTSTRUCT rasterise); the median of --repeats. Prints
 * figures; asserts nothing.
 *
 *   node --import tsx bench/dicom-write.ts              human-readable lines
 *   node --import tsx bench/dicom-write.ts --json       one JSON object
 *   node --import tsx bench/dicom-write.ts --repeats 5
 */
import { readFileSync } from 'node:fs';
import { readDicomSeries } from '../src/io/dicom/read.js';
import { rasteriseRtStruct, writeRtStruct } from '../src/io/dicom/rtstruct.js';
import { readDicomSeg } from '../src/io/dicom/seg-read.js';
import { writeDicomSeg } from '../src/io/dicom/seg.js';
import { labelNames } from '../src/io/labels/index.js';
import { readNifti } from '../src/io/nifti.js';
import { dicomFilesFromPaths } from '../src/node/dicom-files.js';
import { fixturePath } from '../test/helpers.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const json = process.argv.includes('--json');
const repeats = Number(arg('--repeats', '3'));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const ct = await readDicomSeries(await dicomFilesFromPaths(fixturePath('dicom', 'example_ct_dicom')));
const seg = readNifti(new Uint8Array(readFileSync(fixturePath('dicom', 'example_seg_dicom.nii.gz'))));
const names = labelNames('totalsegV2');
const source = ct.source;

function time<T>(f: () => T): { ms: number; value: T } {
  const times: number[] = [];
  let value = f();
  for (let r = 0; r < repeats; r++) {
    const t = performance.now();
    value = f();
    times.push(performance.now() - t);
  }
  return { ms: median(times), value };
}

const segWrite = time(() => writeDicomSeg({ labels: seg, names, source }));
const segRead = time(() => readDicomSeg(segWrite.value, source, names));
const rtWrite = time(() => writeRtStruct({ labels: seg, names, source }));
const rtRead = time(() => rasteriseRtStruct(rtWrite.value, source, names));
const result = {
  series: 'example_ct_dicom',
  dims: seg.dims,
  classes: segRead.value.segments.length,
  segWriteMs: Math.round(segWrite.ms),
  segBytes: segWrite.value.length,
  segReadMs: Math.round(segRead.ms),
  rtstructWriteMs: Math.round(rtWrite.ms),
  rtstructBytes: rtWrite.value.length,
  rtstructRasteriseMs: Math.round(rtRead.ms),
  repeats,
};
if (json) console.log(JSON.stringify(result));
else {
  console.log(`DICOM write: ${seg.dims.join('×')} labels, ${result.classes} classes (median of ${repeats})`);
  console.log(`  SEG write        ${result.segWriteMs} ms  (${(result.segBytes / 1e6).toFixed(1)} MB)`);
  console.log(`  SEG read back    ${result.segReadMs} ms`);
  console.log(
    `  RTSTRUCT write   ${result.rtstructWriteMs} ms  (${(result.rtstructBytes / 1e6).toFixed(1)} MB)`,
  );
  console.log(`  RTSTRUCT raster  ${result.rtstructRasteriseMs} ms`);
}
