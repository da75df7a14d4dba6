/**
 * Compares the figures of two runs, figure by figure, as pure functions.
 *
 * A figure regresses when the Mann–Whitney test says the two runs differ
 * (p below the level) and its median moved past the threshold in the worse
 * direction. Many figures are tested at once, so the level is alpha divided
 * by the number of figures that can gate (Bonferroni): with alpha 0.05 the
 * chance that a comparison of two runs of the same code flags anything stays
 * at most 5%, however many figures the scenarios have.
 */
import {figureDirection} from './direction.js';
import type {Direction} from './direction.js';
import type {FiguresFile, Samples} from './figures-file.js';
import {mannWhitneyU, median, samplesNeeded, smallestP} from './mann-whitney.js';

export interface CompareOptions {
  /** Family-wise significance level, e.g. 0.05. */
  alpha: number;
  /** Smallest relative change of the median that counts, e.g. 0.25 for 25%. */
  threshold: number;
  /**
   * Only these figure names (scenario and step figures alike); all when absent.
   * Each figure compared costs significance (the level is alpha over the gated
   * figures), so a gate on the few figures that matter needs fewer repeats.
   */
  figures?: readonly string[];
}

export type FigureVerdict = 'regression' | 'improvement' | 'same' | 'not enough samples' | 'info' | 'only in baseline' | 'only in new';

export interface Side {
  n: number;
  median: number;
}

export interface FigureComparison {
  scenario: string;
  /** The step's key (`<path> <title>`), for a step's figure; absent for the scenario's own. */
  step?: string;
  figure: string;
  direction: Direction;
  baseline?: Side;
  new?: Side;
  /** new median / baseline median − 1; ±Infinity from a zero baseline. */
  change?: number;
  p?: number;
  verdict: FigureVerdict;
}

export interface Comparison {
  alpha: number;
  threshold: number;
  /** Figures on both sides whose direction is known: the ones that can gate. */
  gated: number;
  /** The p each gated figure must fall below: alpha / gated. */
  level: number;
  regressions: number;
  improvements: number;
  /** Gated figures whose samples are too few to ever fall below the level. */
  undecidable: number;
  /** Repeats per side that would let every gated figure reach the level. */
  repeatsNeeded: number;
  rows: FigureComparison[];
}

/** The relative change of the median; a zero baseline makes any rise infinite (and no change zero). */
export function relativeChange(base: number, next: number): number {
  if (base === 0) return next === 0 ? 0 : next > 0 ? Infinity : -Infinity;
  return (next - base) / Math.abs(base);
}

interface Pair {
  scenario: string;
  step?: string;
  figure: string;
  base?: number[];
  next?: number[];
}

function pairs(baseline: FiguresFile, next: FiguresFile): Pair[] {
  const out: Pair[] = [];
  const addAll = (scenario: string, step: string | undefined, base: Samples | undefined, nxt: Samples | undefined) => {
    for (const figure of union(Object.keys(base ?? {}), Object.keys(nxt ?? {}))) {
      const b = base?.[figure];
      const n = nxt?.[figure];
      out.push({scenario, ...(step !== undefined ? {step} : {}), figure, ...(b && b.length > 0 ? {base: b} : {}), ...(n && n.length > 0 ? {next: n} : {})});
    }
  };
  for (const scenario of union(Object.keys(baseline.scenarios), Object.keys(next.scenarios))) {
    const b = baseline.scenarios[scenario];
    const n = next.scenarios[scenario];
    addAll(scenario, undefined, b?.figures, n?.figures);
    for (const step of union(Object.keys(b?.steps ?? {}), Object.keys(n?.steps ?? {}))) addAll(scenario, step, b?.steps[step], n?.steps[step]);
  }
  return out;
}

/** Both lists' names once each, in the order first seen: the baseline's scenario order, then what is new. */
function union(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])];
}

export function compareFigures(baseline: FiguresFile, next: FiguresFile, options: CompareOptions): Comparison {
  const only = options.figures ? new Set(options.figures) : undefined;
  const all = pairs(baseline, next).filter((x) => !only || only.has(x.figure));
  const gated = all.filter((x) => x.base && x.next && figureDirection(x.figure) !== 'info').length;
  const level = gated > 0 ? options.alpha / gated : options.alpha;
  let repeatsNeeded = 0;
  const rows = all.map((x): FigureComparison => {
    const direction = figureDirection(x.figure);
    const head = {scenario: x.scenario, ...(x.step !== undefined ? {step: x.step} : {}), figure: x.figure, direction};
    if (!x.base || !x.next) {
      const only = x.base ? {baseline: side(x.base)} : {new: side(x.next!)};
      return {...head, ...only, verdict: x.base ? 'only in baseline' : 'only in new'};
    }
    const baseSide = side(x.base);
    const newSide = side(x.next);
    const change = relativeChange(baseSide.median, newSide.median);
    const {p} = mannWhitneyU(x.next, x.base);
    const row = {...head, baseline: baseSide, new: newSide, change, p};
    if (direction === 'info') return {...row, verdict: 'info'};
    if (smallestP(x.base.length, x.next.length) >= level) {
      repeatsNeeded = Math.max(repeatsNeeded, samplesNeeded(level));
      return {...row, verdict: 'not enough samples'};
    }
    if (p < level && change > options.threshold) return {...row, verdict: 'regression'};
    if (p < level && change < -options.threshold) return {...row, verdict: 'improvement'};
    return {...row, verdict: 'same'};
  });
  const count = (verdict: FigureVerdict) => rows.filter((r) => r.verdict === verdict).length;
  return {
    alpha: options.alpha,
    threshold: options.threshold,
    gated,
    level,
    regressions: count('regression'),
    improvements: count('improvement'),
    undecidable: count('not enough samples'),
    repeatsNeeded,
    rows,
  };
}

function side(samples: readonly number[]): Side {
  return {n: samples.length, median: median(samples)};
}

/**
 * 1 when anything regressed; 3 (undecided, as `peerlab run` says it) when
 * nothing could be judged: no figure in common, or too few samples for every
 * gated one, which would otherwise pass in silence; else 0.
 */
export function comparisonExitCode(c: Comparison): 0 | 1 | 3 {
  if (c.regressions > 0) return 1;
  if (c.gated === 0 || c.undecidable === c.gated) return 3;
  return 0;
}
