import assert from 'node:assert/strict';
import { test } from 'node:test';
import { previewColour, renderPreview } from '../../src/inference/preview.js';
import { decodePng } from '../../src/io/png.js';
import { glyphRows } from '../../src/io/bitmap-font.js';

// (Z, Y, X) = (20, 30, 40) at (3, 1, 1) mm, 60 px for the longest extent (60 mm): one mm per pixel, panels axial 30×40, coronal 60×40,
// sagittal 60×30 (rows × columns), 4-pixel gaps → 118×60.
const SHAPE = [20, 30, 40] as const;
const SPACING = [3, 1, 1] as const;
// Voxel (z, y, x) is drawn at: axial row 15 + 29 − y, column 39 − x; coronal row ⌊(19 − z)·3⌋…+2,
// column 44 + 39 − x; sagittal the same rows, column 88 + 29 − y.

function phantom(
  label: number,
  inside: number,
  outside: number,
): { image: Float32Array; labels: Uint8Array } {
  const n = SHAPE[0] * SHAPE[1] * SHAPE[2];
  const image = new Float32Array(n).fill(outside);
  const labels = new Uint8Array(n);
  for (let z = 8; z < 12; z++)
    for (let y = 10; y < 20; y++)
      for (let x = 15; x < 25; x++) {
        const i = (z * SHAPE[1] + y) * SHAPE[2] + x;
        labels[i] = label;
        image[i] = inside;
      }
  return { image, labels };
}

function pixel(d: { width: number; rgba: Uint8Array }, row: number, col: number): number[] {
  const o = (row * d.width + col) * 4;
  return [...d.rgba.subarray(o, o + 4)];
}

test('three aspect-correct panels through the labelled region, overlay where the labels are', () => {
  const { image, labels } = phantom(3, 100, -1000);
  const d = decodePng(renderPreview({ image, labels, shapeZYX: SHAPE, spacingZYX: SPACING, maxPanelPx: 60 }));
  assert.equal(d.width, 118);
  assert.equal(d.height, 60);
  // CT window [-400, 600]: 100 HU → grey 128, blended with label 3's colour at alpha 0.45.
  const c = previewColour(3);
  const blended = [...c.map((v) => Math.round(0.55 * 128 + 0.45 * v)), 255];
  assert.deepEqual(pixel(d, 15 + 14, 19), blended, 'axial (z 9): voxel y 15, x 20');
  assert.deepEqual(pixel(d, 31, 44 + 19), blended, 'coronal (y 14): voxel z 9, x 20');
  assert.deepEqual(pixel(d, 31, 88 + 14), blended, 'sagittal (x 19): voxel z 9, y 15');
  assert.deepEqual(pixel(d, 15, 0), [0, 0, 0, 255], 'air is black');
  // The cube's cross-sections: axial 10×10 px, coronal and sagittal (4 slices × 3 mm) 12×10 px.
  let coloured = 0;
  for (let i = 0; i < d.width * d.height; i++) {
    const p = pixel(d, Math.floor(i / d.width), i % d.width);
    if (p.join() === blended.join()) coloured++;
  }
  assert.equal(coloured, 100 + 120 + 120);
});

test('non-CT images get a percentile window; label 0 stays grey; distinct labels get distinct colours', () => {
  const { image, labels } = phantom(1, 900, 200);
  for (let i = 0; i < image.length; i += 7) image[i] = (image[i] as number) + (i % 50);
  const d = decodePng(renderPreview({ image, labels, shapeZYX: SHAPE, spacingZYX: SPACING, maxPanelPx: 60 }));
  let minGrey = 255;
  let maxGrey = 0;
  for (let i = 0; i < d.width * d.height; i++) {
    const [r = 0, g = 0, b = 0] = pixel(d, Math.floor(i / d.width), i % d.width);
    if (r === g && g === b) {
      minGrey = Math.min(minGrey, r);
      maxGrey = Math.max(maxGrey, r);
    }
  }
  assert.equal(minGrey, 0);
  assert.ok(maxGrey > 0, 'some background texture is visible');
  const colours = new Set(Array.from({ length: 104 }, (_, l) => previewColour(l + 1).join()));
  assert.equal(colours.size, 104);
});

test('an explicit window and an empty label map (centre of the volume) work; bad sizes are refused', () => {
  const { image } = phantom(1, 50, 0);
  const d = decodePng(
    renderPreview({
      image,
      labels: new Uint8Array(image.length),
      shapeZYX: SHAPE,
      spacingZYX: SPACING,
      maxPanelPx: 60,
      window: [0, 50],
    }),
  );
  assert.equal(d.width, 118);
  assert.deepEqual(pixel(d, 15 + 14, 19), [255, 255, 255, 255], 'axial at z 10 crosses the bright cube');
  assert.equal(
    decodePng(
      renderPreview({ image, labels: new Uint8Array(image.length), shapeZYX: SHAPE, spacingZYX: SPACING }),
    ).height,
    384,
  );
  assert.throws(
    () => renderPreview({ image, labels: new Uint8Array(5), shapeZYX: SHAPE, spacingZYX: SPACING }),
    /needs 24000 voxels/,
  );
});

/** Whether the 5×7 glyph of `ch` is drawn in `colour` with its top-left corner at (row, col). */
function glyphAt(
  d: { width: number; rgba: Uint8Array },
  row: number,
  col: number,
  ch: string,
  colour: number[],
): boolean {
  const rows = glyphRows(ch);
  for (let r = 0; r < 7; r++)
    for (let c = 0; c < 5; c++) {
      const on = ((rows[r] ?? 0) & (1 << (4 - c))) !== 0;
      if (
        on !==
        (pixel(d, row + r, col + c)
          .slice(0, 3)
          .join() ===
          colour.join())
      )
        return false;
    }
  return true;
}

test('annotated: slice indices over the panels, directions at their edges, a named colour key below', () => {
  const { image, labels } = phantom(3, 100, -1000);
  for (let i = 0; i < 40; i++) labels[i] = 7; // a second class in one corner
  const names = ['background', 'one', 'two', 'liver', 'four', 'five', 'six', 'kidney_left'];
  const render = (orientation: string): ReturnType<typeof decodePng> =>
    decodePng(
      renderPreview({
        image,
        labels,
        shapeZYX: SHAPE,
        spacingZYX: SPACING,
        maxPanelPx: 60,
        annotate: { labelNames: names, orientation },
      }),
    );
  const d = render('RAS');
  const header = 12;
  assert.ok(d.width >= 118);
  assert.ok(d.height > header + 60, 'a key band below the panels');
  const yellow = [255, 220, 0];
  const white = [235, 235, 235];
  // Axial panel (30×40 at rows header+15…): x increases to R and is drawn from its last index at the
  // left, so the left edge is R, the right L; y to A at the top.
  const axialTop = header + 15;
  assert.ok(glyphAt(d, axialTop + 11, 2, 'R', yellow), 'R at the left of the axial panel');
  assert.ok(glyphAt(d, axialTop + 11, 40 - 6 - 1, 'L', yellow), 'L at its right');
  assert.ok(glyphAt(d, axialTop + 2, 17, 'A', yellow), 'A at its top');
  const lps = render('LPS');
  assert.ok(glyphAt(lps, axialTop + 11, 2, 'L', yellow), 'an L-stored image has L at the left');
  // Titles: the slice shown is the labels' box centre (z 0…11 → 5, y 0…19 → 9, x 0…24 → 12); panels
  // this narrow show the index only ("K=5"), wide ones the plane too.
  assert.ok(glyphAt(d, 2, 1, 'K', white) && glyphAt(d, 2, 1 + 2 * 6, '5', white), 'axial K=5');
  assert.ok(glyphAt(d, 2, 45, 'J', white) && glyphAt(d, 2, 45 + 2 * 6, '9', white), 'coronal J=9');
  const wide = decodePng(
    renderPreview({ image, labels, shapeZYX: SHAPE, spacingZYX: SPACING, annotate: { labelNames: names } }),
  );
  assert.ok(glyphAt(wide, 2, 1, 'A', white) && glyphAt(wide, 2, 1 + 8 * 6, '5', white), 'AXIAL K=5');
  // Key: label 3 then 7, each a swatch of its colour and "<label> <name>".
  const keyTop = header + 60 + 4;
  assert.deepEqual(pixel(d, keyTop + 3, 5).slice(0, 3), [...previewColour(3)]);
  assert.ok(glyphAt(d, keyTop, 2 + 7 + 4, '3', white));
  assert.ok(glyphAt(d, keyTop, 2 + 7 + 4 + 12, 'L', white), '"3 liver"');
  const secondEntry = d.width >= 2 * (7 + 4 + 6 * 13 - 1 + 10);
  assert.ok(secondEntry || d.height > keyTop + 2 * 11, 'the second class has a place');
});
