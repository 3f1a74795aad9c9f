/**
 * Exact squared Euclidean distance transform on a 3-D grid with anisotropic spacing (Felzenszwalb &
 * Huttenlocher 2012, "Distance transforms of sampled functions": a lower envelope of parabolas per line,
 * one separable pass per axis). It gives what scipy.ndimage.distance_transform_edt(~features,
 * sampling=spacingMm) gives, squared.
 *
 * The value at a voxel is built in scipy's order, ((dz·sz)² + (dy·sy)²) + (dx·sx)², where (dz, dy, dx) is
 * the offset to the nearest feature: scipy forms the same per-axis terms from its feature transform and
 * sums them over axis 0, so both agree bit for bit whenever the nearest feature is unique.
 */

/**
 * Squared distance in mm² from every voxel of a (Z, Y, X) C-order grid to the nearest voxel where
 * `features` is non-zero; Infinity everywhere if there is no feature. With `rowsNeeded` (one flag per
 * (z, y) row), rows flagged 0 are left unfinished (their values are not distances): for callers that
 * read only some rows.
 */
export function squaredEdt(
  features: Uint8Array,
  shapeZYX: readonly [number, number, number],
  spacingMm: readonly [number, number, number],
  rowsNeeded?: Uint8Array,
): Float64Array {
  const [nz, ny, nx] = shapeZYX;
  const plane = ny * nx;
  const out = new Float64Array(nz * plane);
  alongZ(features, nz, plane, spacingMm[0], out);
  const maxLen = Math.max(ny, nx);
  const work = {
    f: new Float64Array(maxLen),
    g: new Float64Array(maxLen),
    v: new Int32Array(maxLen),
    b: new Float64Array(maxLen + 1),
  };
  const { f, g } = work;
  // Axis 1 (y): lines with stride nx, gathered into a buffer.
  for (let z = 0; z < nz; z++) {
    for (let x = 0; x < nx; x++) {
      const base = z * plane + x;
      for (let y = 0; y < ny; y++) f[y] = out[base + y * nx] as number;
      lowerEnvelope(ny, spacingMm[1], work);
      for (let y = 0; y < ny; y++) out[base + y * nx] = g[y] as number;
    }
  }
  // Axis 2 (x): contiguous lines.
  for (let row = 0; row < nz * ny; row++) {
    if (rowsNeeded !== undefined && rowsNeeded[row] === 0) continue;
    const base = row * nx;
    f.set(out.subarray(base, base + nx));
    lowerEnvelope(nx, spacingMm[2], work);
    out.set(g.subarray(0, nx), base);
  }
  return out;
}

/** First pass on a binary input: distance to the nearest feature in the same z column, two sweeps. */
function alongZ(features: Uint8Array, nz: number, plane: number, sz: number, out: Float64Array): void {
  const last = new Int32Array(plane).fill(-1);
  for (let z = 0; z < nz; z++) {
    const base = z * plane;
    for (let p = 0; p < plane; p++) {
      if (features[base + p] !== 0) last[p] = z;
      const l = last[p] as number;
      // Store the offset to the feature above (or -1 when none) for the backward sweep.
      out[base + p] = l < 0 ? -1 : z - l;
    }
  }
  const next = new Int32Array(plane).fill(-1);
  for (let z = nz - 1; z >= 0; z--) {
    const base = z * plane;
    for (let p = 0; p < plane; p++) {
      if (features[base + p] !== 0) next[p] = z;
      const up = out[base + p] as number;
      const n = next[p] as number;
      const down = n < 0 ? -1 : n - z;
      let d: number;
      if (up < 0) d = down;
      else if (down < 0) d = up;
      else d = Math.min(up, down);
      const mm = d * sz;
      out[base + p] = d < 0 ? Infinity : mm * mm;
    }
  }
}

interface EnvelopeWork {
  /** Input squared distances along the line (Infinity = no feature reached yet). */
  f: Float64Array;
  /** Output. */
  g: Float64Array;
  /** Grid positions of the parabolas in the envelope. */
  v: Int32Array;
  /** Left boundaries (mm) of each parabola's region; b[k+1] closes region k. */
  b: Float64Array;
}

/** 1-D squared distance transform of sampled f with grid spacing s (mm): g(p) = min_q f(q) + ((p−q)·s)². */
function lowerEnvelope(n: number, s: number, w: EnvelopeWork): void {
  const { f, g, v, b } = w;
  let k = -1;
  for (let q = 0; q < n; q++) {
    const fq = f[q] as number;
    if (fq === Infinity) continue;
    const xq = q * s;
    let cross = -Infinity;
    while (k >= 0) {
      const r = v[k] as number;
      const xr = r * s;
      // Where parabola q starts to lie below parabola r (positions in mm).
      cross = (fq + xq * xq - ((f[r] as number) + xr * xr)) / (2 * (xq - xr));
      if (cross <= (b[k] as number)) k--;
      else break;
    }
    k++;
    v[k] = q;
    b[k] = k === 0 ? -Infinity : cross;
  }
  if (k < 0) {
    g.fill(Infinity, 0, n);
    return;
  }
  b[k + 1] = Infinity;
  let j = 0;
  for (let p = 0; p < n; p++) {
    const x = p * s;
    while ((b[j + 1] as number) < x) j++;
    const q = v[j] as number;
    const d = (p - q) * s;
    g[p] = (f[q] as number) + d * d;
  }
}
