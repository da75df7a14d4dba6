/**
 * The one percentile (nearest rank), for the checkers' figures and the bench.
 *
 * An empty input has no percentile, so the answer is NaN, never 0: a 0 would
 * read as "0 ms latency", a perfect figure out of no data, while NaN shows
 * (JSON writes it as null) and poisons any arithmetic done with it. Callers
 * that report a figure check for no values first and leave the figure out.
 */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** As percentileOfSorted, for values in any order (sorts a copy). */
export function percentile(values: readonly number[], p: number): number {
  return percentileOfSorted([...values].sort((a, b) => a - b), p);
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
