/** The comparison as people read it: one table row per figure, then what it adds up to. */
import {renderTable} from '@peerlab/node-kit/table';
import type {Comparison, FigureComparison, Side} from './compare.js';
import {smallestP} from './mann-whitney.js';

function number(x: number): string {
  if (Number.isInteger(x)) return String(x);
  return x.toFixed(Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 1 ? 1 : 3);
}

function sideText(s: Side | undefined): string {
  return s ? `${number(s.median)} (n=${s.n})` : '-';
}

export function percent(change: number | undefined): string {
  if (change === undefined) return '-';
  if (!Number.isFinite(change)) return change > 0 ? '+inf%' : '-inf%';
  const p = change * 100;
  return `${p > 0 ? '+' : ''}${p.toFixed(Math.abs(p) >= 10 ? 0 : 1)}%`;
}

export function pText(p: number | undefined): string {
  if (p === undefined) return '-';
  // Enough digits to tell a p from the level it is held against, e.g. 0.0079 from 0.0083.
  return p < 0.001 ? p.toExponential(1) : p < 0.01 ? p.toFixed(4) : p.toFixed(3);
}

function figureText(r: FigureComparison): string {
  return r.step !== undefined ? `${r.figure} [step ${r.step}]` : r.figure;
}

export function renderComparison(c: Comparison): string {
  const header = ['scenario', 'figure', 'baseline median', 'new median', 'change', 'p', 'verdict'];
  const rows = c.rows.map((r) => [r.scenario, figureText(r), sideText(r.baseline), sideText(r.new), percent(r.change), pText(r.p), r.verdict === 'regression' ? 'REGRESSION' : r.verdict]);
  const lines = [renderTable(header, rows), ''];
  lines.push(`${c.regressions} ${c.regressions === 1 ? 'regression' : 'regressions'}, ${c.improvements} ${c.improvements === 1 ? 'improvement' : 'improvements'} among ${c.gated} gated ${c.gated === 1 ? 'figure' : 'figures'} (Mann-Whitney U, alpha ${c.alpha} over ${c.gated}: p < ${pText(c.level)}; threshold ${percent(c.threshold).replace('+', '')})`);
  if (c.gated === 0) lines.push('Nothing to judge: the two runs have no gating figure in common.');
  if (c.undecidable > 0) {
    const example = c.rows.find((r) => r.verdict === 'not enough samples')!;
    lines.push(
      `${c.undecidable} of ${c.gated} gated figures cannot show a change with these samples: with ${example.baseline!.n} and ${example.new!.n} the smallest possible p is ${pText(smallestP(example.baseline!.n, example.new!.n))}, ` +
        `not below ${pText(c.level)}. Repeat at least ${c.repeatsNeeded} times on each side (peerlab run --repeat ${c.repeatsNeeded}).`,
    );
  }
  return lines.join('\n');
}
