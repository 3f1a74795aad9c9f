/**
 * DICOM series benchmark: reading the 20-slice JPEG 2000 CT (test/fixtures/dicom/example_ct_dicom,
 * 512×512×20) from its files' bytes: parse, group, sort, decode (openjpeg WASM), rescale, affine. The
 * first read includes loading the codec; then the median of --repeats. Also the time to read the files
 * from disk through the Node adapter. Prints figures; asserts nothing.
 *
 *   node --import tsx bench/dicom.ts                 human-readable lines
 *   node --import tsx bench/dicom.ts --json          one JSON object
 *   node --import tsx bench/dicom.ts --repeats 5
 */
import { readDicomSeries } from '../src/io/dicom/read.js';
import { dicomFilesFromPaths } from '../src/node/dicom-files.js';
import { fixturePath } from '../test/helpers.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const json = process.argv.includes('--json');
const repeats = Number(arg('--repeats', '3'));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

let t = performance.now();
const files = await dicomFilesFromPaths(fixturePath('dicom', 'example_ct_dicom'));
const diskMs = performance.now() - t;
t = performance.now();
const first = await readDicomSeries(files);
const firstMs = performance.now() - t;
const times: number[] = [];
for (let r = 0; r < repeats; r++) {
  t = performance.now();
  await readDicomSeries(files);
  times.push(performance.now() - t);
}
const ms = median(times);
const [ni, nj, nk] = first.image.dims;
const result = {
  series: 'example_ct_dicom',
  dims: first.image.dims,
  transferSyntax: first.series.transferSyntaxes.join(','),
  readFilesMs: Math.round(diskMs),
  firstReadMs: Math.round(firstMs),
  medianReadMs: Math.round(ms),
  msPerSlice: Number((ms / (nk ?? 1)).toFixed(1)),
  megavoxelsPerSecond: Number((((ni ?? 0) * (nj ?? 0) * (nk ?? 0)) / 1e6 / (ms / 1000)).toFixed(2)),
};
if (json) console.log(JSON.stringify(result));
else {
  console.log(`DICOM ${result.series}: ${result.dims.join('×')} (${result.transferSyntax})`);
  console.log(`  files from disk        ${result.readFilesMs} ms`);
  console.log(`  first read (+ codec)   ${result.firstReadMs} ms`);
  console.log(
    `  read, median of ${repeats}     ${result.medianReadMs} ms (${result.msPerSlice} ms a slice, ${result.megavoxelsPerSecond} Mvoxel/s)`,
  );
}
