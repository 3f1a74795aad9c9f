/**
 * `--roi-subset` benchmark (issue 16, item 1): on the real example CT (shared/data/totalseg/example_ct.nii.gz
 * → 224×202×244 at 1.5 mm), the sliding window of a random-weight S (105 classes, ONNX Runtime) over the
 * whole image against the two ROI passes: the coarse pass (no TTA, step 1) and the full pass on the
 * requested class's box + 20 mm. No released weights can be downloaded here, so the box is the class's in
 * TotalSegmentator's own 1.5 mm segmentation of this CT (example_seg_v1_104classes.nii.gz), mapped into the
 * network grid as the coarse pass would find it; the network's time per tile does not depend on its weights.
 * Full passes: the box alone (the default, TotalSegmentator's crop) and --roi-exact (the whole grid's tiles
 * that overlap the box). They run without TTA here (the tile counts are the same with it; with TTA each tile
 * costs 8 passes, so the projected default times multiply them by 8). Prints figures; asserts nothing.
 *
 *   node --import tsx bench/roi.ts [--classes liver,kidney_left] [--threads 2] [--json]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { growBox, ROI_MARGIN_MM, slidingWindowOnBox, type Box } from '../src/inference/roi.js';
import { slidingWindowPredict } from '../src/inference/sliding-window.js';
import { labelNames } from '../src/io/labels/index.js';
import { niftiToVolume } from '../src/io/nifti-volume.js';
import { readNifti } from '../src/io/nifti.js';
import { createPredictorNetwork } from '../src/jobs/network.js';
import { initWeightsHe } from '../src/model/init.js';
import { defaultMeta } from '../src/model/loaded-model.js';
import { scaleArchitecture } from '../src/model/scales.js';
import { StuNet } from '../src/model/stunet.js';
import { nodeRuntime } from '../src/node/runtime.js';
import { preprocessTestCase, STUNET_TOTALSEG_PLANS } from '../src/preprocessing/index.js';
import type { Vec3 } from '../src/util/vec3.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}
const json = process.argv.includes('--json');
const data = join('..', 'shared', 'data', 'totalseg');
const ct = readNifti(readFileSync(join(data, 'example_ct.nii.gz')));
const seg = readNifti(readFileSync(join(data, 'example_seg_v1_104classes.nii.gz')));
const { volume, spacingZYX } = niftiToVolume(ct);
const pre = preprocessTestCase(volume, spacingZYX, STUNET_TOTALSEG_PLANS, { returnSeg: false });
const props = pre.properties;
const shapeN = pre.data.shape.slice(1) as unknown as Vec3;
const patch: Vec3 = [128, 128, 128];

/** The class's box in the network grid: its voxels in the input (TotalSegmentator's map), cropped, zoomed. */
function classBox(name: string): Box {
  const v1 = labelNames('totalsegV1');
  const label = v1.indexOf(name);
  if (label < 1) throw new Error(`not a TotalSegmentator v1 class: ${name}`);
  const [I, J] = seg.dims as [number, number, number];
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-1, -1, -1];
  seg.raw.forEach((v, i) => {
    if (Number(v) !== label) return;
    const at = [Math.floor(i / (I * J)), Math.floor(i / I) % J, i % I]; // z, y, x
    at.forEach((c, a) => {
      lo[a] = Math.min(lo[a] as number, c);
      hi[a] = Math.max(hi[a] as number, c + 1);
    });
  });
  const zoom = props.size_after_resampling.map((n, a) => n / (props.size_after_cropping[a] ?? 1));
  const crop = props.crop_bbox.map((b) => b[0]);
  const map = (v: number, a: number, f: (x: number) => number): number =>
    Math.max(0, Math.min(shapeN[a] ?? 0, f((v - (crop[a] ?? 0)) * (zoom[a] ?? 1))));
  const box: Box = {
    lowZYX: lo.map((v, a) => map(v, a, Math.floor)) as unknown as Vec3,
    highZYX: hi.map((v, a) => map(v, a, Math.ceil)) as unknown as Vec3,
  };
  return growBox(box, ROI_MARGIN_MM, props.spacing_after_resampling, shapeN);
}

const arch = { ...scaleArchitecture('S'), numClasses: 105 };
const model = { arch, weights: initWeightsHe(new StuNet(arch), 0), meta: defaultMeta() };
const threads = Number(arg('--threads', '2'));
const predictor = await createPredictorNetwork(model, 'ort', nodeRuntime, { threads });

async function pass(
  step: number,
  region?: Box,
  crop = false,
): Promise<{ seconds: number; tiles: number; gridTiles: number }> {
  const t0 = performance.now();
  const opts = { patchSizeZYX: patch, mode: 'v1' as const, stepSize: step, mirrorAxes: [], maxSlabDepth: 8 };
  const s =
    region === undefined
      ? await slidingWindowPredict(pre.data, predictor.network, opts, () => undefined)
      : crop
        ? await slidingWindowOnBox(pre.data, predictor.network, opts, region, () => undefined)
        : await slidingWindowPredict(pre.data, predictor.network, { ...opts, region }, () => undefined);
  return { seconds: (performance.now() - t0) / 1000, tiles: s.tiles, gridTiles: s.gridTiles };
}

const report = (what: string, r: { seconds: number; tiles: number; gridTiles: number }): void => {
  if (json) console.log(JSON.stringify({ bench: 'roi', what, ...r }));
  else console.log(`${what}: ${r.tiles} of ${r.gridTiles} tiles, ${r.seconds.toFixed(1)} s`);
};

try {
  console.log(
    `example CT → network grid ${shapeN.join('×')} (1.5 mm), S, 105 classes, ONNX Runtime, ${threads} threads`,
  );
  const whole = await pass(0.5);
  report('whole image, step 0.5, no TTA', whole);
  const coarse = await pass(1);
  report('roi coarse pass (step 1, no TTA)', coarse);
  const perTile = whole.seconds / whole.tiles;
  for (const name of arg('--classes', 'liver,kidney_left').split(',')) {
    const box = classBox(name);
    const at = `+${ROI_MARGIN_MM} mm: ${box.lowZYX.join(',')}…${box.highZYX.join(',')}`;
    const crop = await pass(0.5, box, true);
    report(`roi full pass on ${name}, the box alone (default; ${at})`, crop);
    const exact = await pass(0.5, box);
    report(`roi full pass on ${name}, --roi-exact (the whole grid's overlapping tiles)`, exact);
    // With TTA (the default) each tile of a full pass costs 8 network passes; the coarse pass has none.
    const ttaWhole = 8 * whole.seconds;
    const ttaCrop = coarse.seconds + 8 * crop.tiles * perTile;
    const ttaExact = coarse.seconds + 8 * exact.tiles * perTile;
    if (json)
      console.log(
        JSON.stringify({
          bench: 'roi',
          class: name,
          ttaWholeSeconds: ttaWhole,
          ttaCropSeconds: ttaCrop,
          ttaExactSeconds: ttaExact,
        }),
      );
    else
      console.log(
        `${name}: default predict's sliding window (TTA) about ${ttaWhole.toFixed(0)} s whole, ` +
          `${ttaCrop.toFixed(0)} s with --roi-subset (${(ttaWhole / ttaCrop).toFixed(1)}× faster), ` +
          `${ttaExact.toFixed(0)} s with --roi-exact`,
      );
  }
} finally {
  await predictor.close();
}
