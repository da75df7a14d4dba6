/** Paints failure detection: one bar per observer of a fault, and the strip of false suspicions and deaths. */
import type {DetectionFault, ReportData} from '../../../../src/data/types.js';
import {axisFont, cursorRect, drawFaultBands, drawTimeAxis, xOf, type Rect, type TimeScale} from '../common/time-strip.js';
import {ticks as timeTicks} from '../../draw/time.js';

export const detColors = {undetected: '#f3c969', suspected: '#e4572e', dead: '#5c1010', refutation: '#1b5e20', bound: '#3a86ff', falseSuspicion: '#ef5350', falseDeath: '#b71c1c'};

export const barRowH = 14;
export const barTop = 6;
export const barAxisH = 22;
export const barLabelW = 96;

/**
 * The time since the fault a chart shows: every suspicion and death and the
 * bound, with room, and the refutations that fall near them; a refutation
 * long after (the peer came back) would squeeze the bars, so it is counted
 * at the right edge instead.
 */
export function faultSpan(f: DetectionFault): number {
  let core = f.boundMs ?? 0;
  for (const o of f.observers) {
    for (const t of [o.suspectAt, o.deadAt]) if (t !== undefined) core = Math.max(core, t - f.t);
  }
  core = Math.max(100, core);
  let max = core;
  for (const o of f.observers) for (const r of o.refutations) if (r - f.t <= core * 2) max = Math.max(max, r - f.t);
  return max * 1.12;
}

export function barsHeight(f: DetectionFault): number {
  return barTop + f.observers.length * barRowH + barAxisH;
}

export function barScale(f: DetectionFault, width: number): TimeScale {
  return {from: 0, to: faultSpan(f), x0: barLabelW, x1: Math.max(barLabelW + 10, width - 22)};
}

export function drawBars(ctx: CanvasRenderingContext2D, data: ReportData, f: DetectionFault, width: number): void {
  const s = barScale(f, width);
  const bottom = barTop + f.observers.length * barRowH;
  const bands = data.timeline.faults.map((b) => ({...b, from: b.from - f.t, to: (b.to ?? data.meta.end) - f.t}));
  drawFaultBands(ctx, s, bands, barTop, bottom, data.meta.end - f.t, 0.1);
  ctx.font = axisFont;
  ctx.textBaseline = 'middle';
  f.observers.forEach((o, i) => {
    const y = barTop + i * barRowH;
    const late = f.boundMs !== undefined && (o.deadAt === undefined || o.deadAt - f.t > f.boundMs);
    ctx.textAlign = 'right';
    ctx.fillStyle = late ? '#b71c1c' : '#333';
    ctx.fillText(data.peers[o.observer] ?? `#${o.observer}`, barLabelW - 6, y + barRowH / 2, barLabelW - 8);
    const x0 = xOf(s, 0);
    const xs = o.suspectAt !== undefined ? xOf(s, o.suspectAt - f.t) : undefined;
    const xd = o.deadAt !== undefined ? xOf(s, o.deadAt - f.t) : undefined;
    // Undetected from the fault until the first suspicion (or death, or the chart's end); then suspected until dead.
    const firstMark = xs ?? xd ?? s.x1;
    ctx.fillStyle = detColors.undetected;
    ctx.fillRect(x0, y + 2, Math.max(1, firstMark - x0), barRowH - 4);
    if (xs !== undefined) {
      ctx.fillStyle = detColors.suspected;
      ctx.fillRect(xs, y + 2, Math.max(1, (xd ?? s.x1) - xs), barRowH - 4);
    }
    if (xd !== undefined) {
      ctx.fillStyle = detColors.dead;
      ctx.fillRect(xd - 1, y + 1, 3, barRowH - 2);
    }
    if (xs === undefined && xd === undefined) {
      ctx.fillStyle = '#7a4f00';
      ctx.textAlign = 'right';
      ctx.fillText('never suspected', s.x1 - 4, y + barRowH / 2);
    }
    ctx.fillStyle = detColors.refutation;
    let later = 0;
    for (const r of o.refutations) {
      if (r - f.t > s.to) later++;
      else ctx.fillRect(xOf(s, r - f.t) - 1, y, 2, barRowH);
    }
    if (later > 0) {
      ctx.textAlign = 'left';
      ctx.fillText(`${later}›`, s.x1 + 2, y + barRowH / 2);
    }
  });
  if (f.boundMs !== undefined) {
    const x = Math.round(xOf(s, f.boundMs)) + 0.5;
    ctx.strokeStyle = detColors.bound;
    ctx.lineWidth = 2;
    ctx.setLineDash([5, 3]);
    ctx.beginPath();
    ctx.moveTo(x, barTop - 4);
    ctx.lineTo(x, bottom + 2);
    ctx.stroke();
    ctx.setLineDash([]);
  }
  drawRelAxis(ctx, s, bottom + 1);
}

export function barsCursor(f: DetectionFault, width: number, cursor: number): Rect | undefined {
  return cursorRect(barScale(f, width), cursor - f.t, barTop, barTop + f.observers.length * barRowH);
}

function drawRelAxis(ctx: CanvasRenderingContext2D, s: TimeScale, y: number): void {
  const {step, values: ticks} = timeTicks(s.from, s.to, Math.max(2, Math.floor((s.x1 - s.x0) / 80)));
  ctx.strokeStyle = '#999';
  ctx.fillStyle = '#555';
  ctx.font = axisFont;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(s.x0, y + 0.5);
  ctx.lineTo(s.x1, y + 0.5);
  for (const t of ticks) {
    const x = Math.round(xOf(s, t)) + 0.5;
    ctx.moveTo(x, y);
    ctx.lineTo(x, y + 4);
  }
  ctx.stroke();
  // Times since the fault: durations, so "+500 ms", "+1.5 s", not points on the run.
  for (const t of ticks) ctx.fillText(step < 1000 ? `+${Math.round(t)} ms` : `+${+(t / 1000).toFixed(step >= 10_000 ? 0 : 1)} s`, xOf(s, t), y + 5);
}

export const stripH = 76;

export function stripScale(width: number, from: number, to: number): TimeScale {
  return {from, to, x0: barLabelW, x1: Math.max(barLabelW + 10, width - 14)};
}

/** The window on the run's axis: fault bands, the detection faults, false suspicions and false deaths. */
export function drawStrip(ctx: CanvasRenderingContext2D, data: ReportData, width: number, from: number, to: number): void {
  const s = stripScale(width, from, to);
  const lanes = [
    {y: 4, label: 'faults'},
    {y: 22, label: 'false suspicion'},
    {y: 40, label: 'false death'},
  ];
  drawFaultBands(ctx, s, data.timeline.faults, 4, 56, data.meta.end, 0.16);
  ctx.font = axisFont;
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'right';
  for (const l of lanes) {
    ctx.fillStyle = l.label === 'faults' ? '#333' : detColors.falseDeath;
    ctx.fillText(l.label, barLabelW - 6, l.y + 8, barLabelW - 8);
  }
  ctx.fillStyle = '#222';
  for (const f of data.detection.faults) {
    if (f.t < from || f.t > to) continue;
    const x = xOf(s, f.t);
    ctx.beginPath();
    ctx.moveTo(x, 6);
    ctx.lineTo(x + 5, 18);
    ctx.lineTo(x - 5, 18);
    ctx.fill();
  }
  const ticks = (list: Array<{t: number}>, y: number, color: string) => {
    ctx.fillStyle = color;
    for (const e of list) if (e.t >= from && e.t <= to) ctx.fillRect(Math.round(xOf(s, e.t)) - 1, y, 2, 16);
  };
  ticks(data.detection.falseSuspicions, lanes[1]!.y, detColors.falseSuspicion);
  ticks(data.detection.falseDeaths, lanes[2]!.y, detColors.falseDeath);
  drawTimeAxis(ctx, s, 57);
}

export function stripCursor(width: number, from: number, to: number, cursor: number): Rect | undefined {
  return cursorRect(stripScale(width, from, to), cursor, 2, 57);
}
