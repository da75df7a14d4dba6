/** One change's curves on a common axis of ms since the change, as uPlot wants them (one x array, null gaps). */
import type uPlot from 'uplot';
import type {ConvergenceChange} from '../../../../src/data/types.js';

/** The data's times are since the run began; the charts count from the change. */
function sinceChange(t: number[], change: number): number[] {
  return t.map((x) => x - change);
}

export interface ChangeSeries {
  data: uPlot.AlignedData;
  /** The x range to show: the curves, the completion and the model's time, with some room. */
  xMax: number;
  took?: number;
  modelMs?: number;
  hasModel: boolean;
}

export function changeSeries(c: ConvergenceChange): ChangeSeries {
  const ct = sinceChange(c.curve.t, c.t);
  const mt = c.model ? sinceChange(c.model.t, c.t) : [];
  const xs = Array.from(new Set([...ct, ...mt])).sort((a, b) => a - b);
  const pos = new Map(xs.map((x, i) => [x, i] as const));
  const frac: Array<number | null> = xs.map(() => null);
  const views: Array<number | null> = xs.map(() => null);
  const model: Array<number | null> = xs.map(() => null);
  ct.forEach((x, i) => {
    frac[pos.get(x)!] = c.curve.fraction[i] ?? null;
    views[pos.get(x)!] = c.curve.views[i] ?? null;
  });
  mt.forEach((x, i) => (model[pos.get(x)!] = c.model!.fraction[i] ?? null));
  const took = c.completeAt !== undefined ? c.completeAt - c.t : undefined;
  const modelMs = c.model?.ms;
  const xMax = Math.max(1, ...[ct[ct.length - 1], took, modelMs !== undefined ? modelMs * 1.5 : undefined].filter((x): x is number => x !== undefined)) * 1.05;
  return {data: [xs, frac, model, views], xMax, took, modelMs, hasModel: !!c.model};
}

/** "complete in 812 ms, model 600 ms: 1.35x", or why there is no such line. */
export function completionLabel(s: ChangeSeries, fmt: (ms: number) => string): {text: string; bad: boolean} {
  if (s.took === undefined) {
    return {text: `never complete${s.modelMs !== undefined ? ` (model ${fmt(s.modelMs)})` : ''}`, bad: true};
  }
  if (s.modelMs === undefined) return {text: `complete in ${fmt(s.took)}, no model (no timing reported)`, bad: false};
  const ratio = s.took / Math.max(1, s.modelMs);
  return {text: `complete in ${fmt(s.took)}, model ${fmt(s.modelMs)}: ${ratio.toFixed(2)}x`, bad: ratio > 2};
}
