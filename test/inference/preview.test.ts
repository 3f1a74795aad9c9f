import assert from 'node:assert/strict';
import { test } from 'node:test';
import { previewColour, renderPreview } from '../../src/inference/preview.js';
import { decodePng } from '../../src/io/png.js';

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
