/**
 * numpy's `np.round` / Python 3's `round` on a float: ties go to the even neighbour (2.5 → 2, 3.5 → 4,
 * −2.5 → −2) and the sign of zero is kept (−0.4 → −0, as numpy prints `-0.`).
 */
export function roundHalfEven(x: number): number {
  const r = Math.round(x); // ties toward +∞
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
