/** Binary searches over ascending time arrays: a view finds its window in O(log n), never by scanning. */
export type Sorted = ArrayLike<number>;

/** First index i with a[i] >= x (a.length if none). */
export function lowerBound(a: Sorted, x: number, lo = 0, hi = a.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index i with a[i] > x (a.length if none). */
export function upperBound(a: Sorted, x: number, lo = 0, hi = a.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Whether a is ascending: history order is time order, except for clock ties and the odd late line. */
export function isAscending(a: Sorted): boolean {
  for (let i = 1; i < a.length; i++) if (a[i]! < a[i - 1]!) return false;
  return true;
}

/** Indices of a in ascending order of a[i] (stable), as a typed array. */
export function sortedOrder(a: Sorted): Int32Array {
  const order = new Int32Array(a.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  if (!isAscending(a)) order.sort((x, y) => a[x]! - a[y]! || x - y);
  return order;
}
