import assert from 'node:assert/strict';
import { test } from 'node:test';
import { drawText, GLYPH_ADVANCE, glyphRows, textWidth } from '../../src/io/bitmap-font.js';

const ink = [10, 20, 30] as const;

function inked(rgba: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < rgba.length; i += 4) if (rgba[i] === 10 && rgba[i + 1] === 20) n++;
  return n;
}

function bits(rows: readonly number[]): number {
  return rows.reduce((s, r) => s + r.toString(2).split('1').length - 1, 0);
}

test('bitmap font: a glyph sets exactly its pixels, scaled by scale²', () => {
  const w = 20;
  const h = 20;
  const a = new Uint8Array(w * h * 4).fill(255);
  drawText(a, w, h, 2, 3, '8', ink);
  assert.equal(inked(a), bits(glyphRows('8')));
  // '8' row 0 is .###. : pixels (3..5, 3) set, (2, 3) not
  const at = (x: number, y: number): number => a[(y * w + x) * 4] as number;
  assert.equal(at(2, 3), 255);
  assert.equal(at(3, 3), 10);
  assert.equal(at(5, 3), 10);
  assert.equal(at(6, 3), 255);
  const b = new Uint8Array(w * h * 4).fill(255);
  drawText(b, w, h, 0, 0, '8', ink, 2);
  assert.equal(inked(b), 4 * bits(glyphRows('8')));
});

test('bitmap font: widths, lower case as upper case, a box for unknown characters, clipping', () => {
  assert.equal(textWidth(''), 0);
  assert.equal(textWidth('A'), 5);
  assert.equal(textWidth('AB'), 5 + GLYPH_ADVANCE);
  assert.equal(textWidth('AB', 3), 3 * (5 + GLYPH_ADVANCE));
  assert.deepEqual(glyphRows('e'), glyphRows('E'));
  assert.notDeepEqual(glyphRows('E'), glyphRows('F'));
  const box = glyphRows('\u00e9');
  assert.equal(bits(box), 5 + 5 + 2 * 5);
  // every digit is distinct
  const digits = new Set('0123456789'.split('').map((d) => glyphRows(d).join(',')));
  assert.equal(digits.size, 10);
  const a = new Uint8Array(4 * 4 * 4).fill(255);
  drawText(a, 4, 4, -3, -2, 'W', ink); // partly outside: clipped, no throw
  assert.ok(inked(a) > 0 && inked(a) < bits(glyphRows('W')));
});
