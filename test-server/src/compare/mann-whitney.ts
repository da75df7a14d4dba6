/**
 * The Mann–Whitney U test (Wilcoxon rank-sum), two-sided, as pure functions.
 * It asks whether one sample tends to be larger than the other without
 * assuming any distribution: run timings are skewed and have outliers, so a
 * t-test's normal assumption would not hold.
 *
 * Small samples get the exact p: the rank-sum distribution under the null
 * hypothesis, counted by dynamic programming over the actual (mid-)ranks, so
 * ties are exact too (the conditional permutation distribution). Larger ones
 * get the normal approximation with tie and continuity corrections, as
 * scipy.stats.mannwhitneyu(method='asymptotic') does.
 */

export interface MannWhitney {
  /** U of the first sample: how many (a, b) pairs have a > b, ties counting one half. */
  u: number;
  /** Two-sided p. */
  p: number;
  method: 'exact' | 'normal';
}

/** Up to this many samples in all, the exact distribution is counted; its counts stay below 2^53 (C(50,25) ≈ 1.3e14). */
export const EXACT_MAX_TOTAL = 40;

/** Mid-ranks (1-based) of the pooled values: tied values share the mean of the ranks they span. */
export function midRanks(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((x, y) => x[0] - y[0]);
  const ranks = new Array<number>(values.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    const rank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) ranks[order[k]![1]] = rank;
    i = j + 1;
  }
  return ranks;
}

/** Σ(t³ − t) over the groups of tied values: the variance correction for ties. */
function tieTerm(values: readonly number[]): number {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let sum = 0;
  for (const t of counts.values()) sum += t ** 3 - t;
  return sum;
}

/** The standard normal upper tail, 1 − Φ(z), via erfc (Numerical Recipes' erfcc: relative error below 1.2e-7). */
export function normalUpperTail(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const erfc =
    t *
    Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  const upper = erfc / 2;
  return z >= 0 ? upper : 1 - upper;
}

/**
 * How many ways each rank sum of `n` of the pooled items can come about,
 * ranks doubled so mid-ranks are integers: counts[s] for the sum s/2.
 */
function rankSumCounts(doubledRanks: readonly number[], n: number): number[] {
  const total = doubledRanks.reduce((a, b) => a + b, 0);
  // ways[k][s]: subsets of k items seen so far with doubled rank sum s.
  const ways: number[][] = Array.from({length: n + 1}, () => new Array<number>(total + 1).fill(0));
  ways[0]![0] = 1;
  for (const r of doubledRanks) {
    for (let k = n; k >= 1; k--) {
      const row = ways[k]!;
      const below = ways[k - 1]!;
      for (let s = total; s >= r; s--) if (below[s - r]! > 0) row[s]! += below[s - r]!;
    }
  }
  return ways[n]!;
}

/** `method`: 'auto' counts the exact distribution up to EXACT_MAX_TOTAL values in all, else approximates. */
export function mannWhitneyU(a: readonly number[], b: readonly number[], method: 'auto' | MannWhitney['method'] = 'auto'): MannWhitney {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0) throw new RangeError('Mann–Whitney needs at least one value on each side');
  const pooled = [...a, ...b];
  const ranks = midRanks(pooled);
  const rankSumA = ranks.slice(0, n).reduce((x, y) => x + y, 0);
  const u = rankSumA - (n * (n + 1)) / 2;
  const N = n + m;
  if (method === 'exact' && N > EXACT_MAX_TOTAL) throw new RangeError(`the exact distribution is counted for at most ${EXACT_MAX_TOTAL} values, not ${N}`);
  if (method === 'exact' || (method === 'auto' && N <= EXACT_MAX_TOTAL)) {
    const counts = rankSumCounts(ranks.map((r) => Math.round(r * 2)), n);
    const observed = Math.round(rankSumA * 2);
    let all = 0;
    let atMost = 0;
    let atLeast = 0;
    counts.forEach((c, s) => {
      all += c;
      if (s <= observed) atMost += c;
      if (s >= observed) atLeast += c;
    });
    return {u, p: Math.min(1, (2 * Math.min(atMost, atLeast)) / all), method: 'exact'};
  }
  const mean = (n * m) / 2;
  const variance = ((n * m) / 12) * (N + 1 - tieTerm(pooled) / (N * (N - 1)));
  if (variance <= 0) return {u, p: 1, method: 'normal'};
  const z = Math.max(0, Math.abs(u - mean) - 0.5) / Math.sqrt(variance);
  return {u, p: Math.min(1, 2 * normalUpperTail(z)), method: 'normal'};
}

/** The smallest two-sided p samples of these sizes can give (no ties, complete separation): 2 / C(n+m, n). */
export function smallestP(n: number, m: number): number {
  if (n === 0 || m === 0) return 1;
  // C(n+m, n) as a product, in floating point: only its size matters here.
  let ways = 1;
  for (let i = 1; i <= n; i++) ways = (ways * (m + i)) / i;
  return Math.min(1, 2 / ways);
}

/** The fewest samples per side (the same on both) for which smallestP falls below `level`. */
export function samplesNeeded(level: number): number {
  let k = 1;
  while (smallestP(k, k) >= level && k < 1000) k++;
  return k;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
