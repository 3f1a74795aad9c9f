/**
 * numpy's float64 `np.sum` over a contiguous 1-D array: pairwise summation with 8 accumulators on blocks
 * of up to 128 values (numpy/core/src/umath/loops_utils.h.src, pairwise_sum). Matching it keeps our
 * surface-distance sums within an ulp or two of DeepMind's instead of drifting with n.
 */
export function numpySum(a: ArrayLike<number>, start = 0, end = a.length): number {
  return pairwise(a, start, end - start);
}

function pairwise(a: ArrayLike<number>, i0: number, n: number): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[i0 + i] as number;
    return res;
  }
  if (n <= 128) {
    const at = (i: number): number => a[i0 + i] as number;
    let r0 = at(0),
      r1 = at(1),
      r2 = at(2),
      r3 = at(3),
      r4 = at(4),
      r5 = at(5),
      r6 = at(6),
      r7 = at(7);
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      r0 += at(i);
      r1 += at(i + 1);
      r2 += at(i + 2);
      r3 += at(i + 3);
      r4 += at(i + 4);
      r5 += at(i + 5);
      r6 += at(i + 6);
      r7 += at(i + 7);
    }
    let res = r0 + r1 + (r2 + r3) + (r4 + r5 + (r6 + r7));
    for (; i < n; i++) res += at(i);
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwise(a, i0, n2) + pairwise(a, i0 + n2, n - n2);
}
