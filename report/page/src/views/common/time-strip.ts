/** What every canvas time axis draws the same way: ticks, fault bands, the cursor. */
import {faultColors, type FaultBand} from '../../../../src/data/types.js';
import {formatTick, ticks as timeTicks} from '../../draw/time.js';

/** A linear map from time to x over [x0, x1]. */
export interface TimeScale {
  from: number;
  to: number;
  x0: number;
  x1: number;
}

export function xOf(s: TimeScale, t: number): number {
  return s.x0 + ((t - s.from) / Math.max(1e-9, s.to - s.from)) * (s.x1 - s.x0);
}

export function tOf(s: TimeScale, x: number): number {
  return s.from + ((x - s.x0) / Math.max(1e-9, s.x1 - s.x0)) * (s.to - s.from);
}

export const axisFont = '11px system-ui, sans-serif';

/** Ticks and labels along y (labels below when `below`), with faint grid lines from gridTop to gridBottom. */
export function drawTimeAxis(
  ctx: CanvasRenderingContext2D,
  s: TimeScale,
  y: number,
  opts: {below?: boolean; gridTop?: number; gridBottom?: number} = {},
): void {
  const {step, values: ticks} = timeTicks(s.from, s.to, Math.max(2, Math.floor((s.x1 - s.x0) / 90)));
  ctx.save();
  ctx.font = axisFont;
  ctx.fillStyle = '#555';
  ctx.strokeStyle = '#999';
  ctx.textAlign = 'center';
  ctx.textBaseline = opts.below === false ? 'bottom' : 'top';
  ctx.beginPath();
  ctx.moveTo(s.x0, y + 0.5);
  ctx.lineTo(s.x1, y + 0.5);
  ctx.stroke();
  for (const t of ticks) {
    const x = Math.round(xOf(s, t)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(x, y);
    ctx.lineTo(x, y + (opts.below === false ? -4 : 4));
    ctx.stroke();
    ctx.fillText(formatTick(t, step), x, y + (opts.below === false ? -5 : 5));
  }
  if (opts.gridTop !== undefined && opts.gridBottom !== undefined) {
    ctx.strokeStyle = 'rgba(0,0,0,0.07)';
    ctx.beginPath();
    for (const t of ticks) {
      const x = Math.round(xOf(s, t)) + 0.5;
      ctx.moveTo(x, opts.gridTop);
      ctx.lineTo(x, opts.gridBottom);
    }
    ctx.stroke();
  }
  ctx.restore();
}

/** Shades each fault's span from y0 to y1 in its kind's colour. */
export function drawFaultBands(ctx: CanvasRenderingContext2D, s: TimeScale, faults: FaultBand[], y0: number, y1: number, end: number, alpha = 0.14): void {
  ctx.save();
  ctx.globalAlpha = alpha;
  for (const f of faults) {
    const to = f.to ?? end;
    if (to < s.from || f.from > s.to) continue;
    const a = Math.max(s.x0, xOf(s, f.from));
    const b = Math.min(s.x1, xOf(s, to));
    ctx.fillStyle = faultColors[f.kind];
    ctx.fillRect(a, y0, Math.max(1, b - a), y1 - y0);
  }
  ctx.restore();
}

/** A rectangle in CSS pixels: the cursor as a thin element over a canvas, moved without repainting the canvas. */
export interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** The cursor's line over [y0, y1], or undefined when it is out of view. */
export function cursorRect(s: TimeScale, t: number, y0: number, y1: number): Rect | undefined {
  if (!(t >= s.from && t <= s.to)) return undefined;
  return {left: Math.round(xOf(s, t)) - 1, top: y0, width: 2, height: y1 - y0};
}
