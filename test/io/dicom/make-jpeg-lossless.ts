/**
 * Test helper: a minimal JPEG lossless (SOF3) encoder with restart intervals, which DCMTK's dcmcjpeg does
 * not write: one greyscale component, one Huffman table giving every category (0–16) a 5-bit code.
 */
const PREDICTORS: Record<number, (a: number, b: number, c: number) => number> = {
  1: (a) => a,
  2: (_a, b) => b,
  3: (_a, _b, c) => c,
  4: (a, b, c) => a + b - c,
  5: (a, b, c) => a + ((b - c) >> 1),
  6: (a, b, c) => b + ((a - c) >> 1),
  7: (a, b) => (a + b) >> 1,
};

export function encodeJpegLossless(
  samples: ArrayLike<number>,
  width: number,
  height: number,
  opts: { precision: number; predictor: number; restart: number },
): Uint8Array {
  const out: number[] = [0xff, 0xd8];
  const u16 = (v: number): number[] => [v >> 8, v & 255];
  out.push(0xff, 0xc3, ...u16(11), opts.precision, ...u16(height), ...u16(width), 1, 1, 0x11, 0);
  const counts = new Array<number>(16).fill(0);
  counts[4] = 17;
  out.push(0xff, 0xc4, ...u16(2 + 1 + 16 + 17), 0x00, ...counts, ...Array.from({ length: 17 }, (_, i) => i));
  if (opts.restart > 0) out.push(0xff, 0xdd, ...u16(4), ...u16(opts.restart));
  out.push(0xff, 0xda, ...u16(8), 1, 1, 0x00, opts.predictor, 0, 0);
  let acc = 0;
  let n = 0;
  const put = (v: number, bits: number): void => {
    for (let i = bits - 1; i >= 0; i--) {
      acc = (acc << 1) | ((v >> i) & 1);
      if (++n === 8) {
        out.push(acc);
        if (acc === 0xff) out.push(0);
        acc = 0;
        n = 0;
      }
    }
  };
  const flush = (): void => {
    if (n > 0) put(0x7f, 8 - n); // pad with 1-bits
  };
  const px = (x: number, y: number): number => samples[y * width + x] ?? 0;
  let count = 0;
  let marker = 0;
  let intervalRow = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let fresh = false;
      if (opts.restart > 0 && count === opts.restart) {
        flush();
        out.push(0xff, 0xd0 + (marker++ % 8));
        count = 0;
        intervalRow = y;
        fresh = true;
      }
      let p: number;
      if ((x === 0 && y === 0) || fresh) p = 1 << (opts.precision - 1);
      else if (y === intervalRow) p = px(x - 1, y);
      else if (x === 0) p = px(x, y - 1);
      else
        p =
          (PREDICTORS[opts.predictor] ?? PREDICTORS[1])?.(px(x - 1, y), px(x, y - 1), px(x - 1, y - 1)) ?? 0;
      let diff = (px(x, y) - p) & 0xffff;
      if (diff >= 0x8000) diff -= 0x10000;
      const magnitude = Math.abs(diff);
      const category = diff === -32768 ? 16 : magnitude === 0 ? 0 : 32 - Math.clz32(magnitude);
      put(category, 5);
      if (category > 0 && category < 16) put(diff < 0 ? diff + (1 << category) - 1 : diff, category);
      count++;
    }
  }
  flush();
  out.push(0xff, 0xd9);
  return Uint8Array.from(out);
}
