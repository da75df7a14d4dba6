/**
 * The k-th smallest of some numbers (k from 0), by selection: what
 * `sorted[k]` would be, in linear time on average, without sorting.
 * Reorders `values`. Three-way partitions, so many equal values (latencies
 * of 1 ms, say) cost no more than distinct ones.
 */
export function kthSmallest(values: Float64Array, k: number): number {
  if (k < 0 || k >= values.length) throw new RangeError(`rank ${k} of ${values.length} values`);
  let lo = 0;
  let hi = values.length - 1;
  // A fixed sequence of pivots: the same input gives the same work.
  let seed = 0x2545f491;
  while (lo < hi) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const pivot = values[lo + (seed % (hi - lo + 1))]!;
    // [lo, lt) < pivot, [lt, i) == pivot, (gt, hi] > pivot.
    let lt = lo;
    let gt = hi;
    let i = lo;
    while (i <= gt) {
      const v = values[i]!;
      if (v < pivot) {
        values[i] = values[lt]!;
        values[lt++] = v;
        i++;
      } else if (v > pivot) {
        values[i] = values[gt]!;
        values[gt--] = v;
      } else i++;
    }
    if (k < lt) hi = lt - 1;
    else if (k > gt) lo = gt + 1;
    else return pivot;
  }
  return values[lo]!;
}
