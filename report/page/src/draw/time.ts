/** Times on the page are ms since the run's first event; these format them and place ticks. */

export function formatTime(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  const a = Math.abs(ms);
  if (a < 60_000) return `${sign}${(a / 1000).toFixed(a < 10_000 ? 3 : 2)}s`;
  const m = Math.floor(a / 60_000);
  const s = (a - m * 60_000) / 1000;
  return `${sign}${m}:${s.toFixed(1).padStart(4, '0')}`;
}

/** A short label for an axis tick, precise enough for the tick spacing. */
export function formatTick(ms: number, step: number): string {
  // As many decimals of a second as the step needs: 250 ms ticks read 0.25s, 0.50s.
  const digits = step % 1000 === 0 ? 0 : step % 100 === 0 ? 1 : step % 10 === 0 ? 2 : 3;
  if (Math.abs(ms) < 60_000) return `${(ms / 1000).toFixed(digits)}s`;
  const m = Math.floor(ms / 60_000);
  const s = (ms - m * 60_000) / 1000;
  return `${m}:${s.toFixed(digits).padStart(digits ? 3 + digits : 2, '0')}`;
}

const steps = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000];

/** Round tick positions in [from, to], about `target` of them. */
export function ticks(from: number, to: number, target: number): {step: number; values: number[]} {
  const span = Math.max(1, to - from);
  const raw = span / Math.max(1, target);
  const step = steps.find((s) => s >= raw) ?? steps[steps.length - 1]!;
  const values: number[] = [];
  for (let v = Math.ceil(from / step) * step; v <= to; v += step) values.push(v);
  return {step, values};
}

/** The first index i with sorted[i] >= t (sorted.length if none). */
export function lowerBound(sorted: ArrayLike<number>, t: number, lo = 0, hi = sorted.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The last index i with sorted[i] <= t (-1 if none). */
export function lastAtOrBefore(sorted: ArrayLike<number>, t: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}
