/**
 * The table the bench prints at its end, for docs/PERFORMANCE.md: one row a
 * figure. A figure with nothing measured (a group that never converged) or
 * nothing to divide by (a pass-or-fail row) carries NaN or Infinity; those
 * read as a dash, since "NaN s" and "Infinityx" look like measurements.
 */
export interface TableFigure {
  name: string;
  value: number;
  unit: string;
  baseline: number;
  ratio: number;
  target: string;
  met: boolean;
}

const shown = (x: number, suffix = ''): string => (Number.isFinite(x) ? `${x}${suffix}` : '—');

export function tableRow(f: TableFigure): string {
  // A baseline of 0 with no finite ratio is a row without a baseline, not a baseline of zero.
  const baseline = f.baseline === 0 && !Number.isFinite(f.ratio) ? '—' : shown(f.baseline);
  return `| ${f.name} | ${shown(f.value, ` ${f.unit}`)} | ${baseline} | ${shown(f.ratio, 'x')} | ${f.target} | ${f.met ? 'met' : 'missed'} |`;
}

export function table(figures: readonly TableFigure[]): string {
  return ['| figure | value | baseline | ratio | target | |', '| --- | --- | --- | --- | --- | --- |', ...figures.map(tableRow)].join('\n');
}
