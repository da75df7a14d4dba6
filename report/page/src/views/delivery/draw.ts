/** Paints the delivery matrix: messages down (in send order), receivers across. */
import {faultColors, type ReportData} from '../../../../src/data/types.js';
import type {MessageIndex} from '../common/message-index.js';
import {lowerBound} from '../common/search.js';
import {axisFont, type Rect} from '../common/time-strip.js';
import {cellDuplicate, cellLate, cellMissing, cellNone, cellOutOfOrder, type Cells} from './cells.js';

export const matrixColors = {duplicate: '#ff7f0e', outOfOrder: '#9b3fb5', missing: '#d62728', late: '#7f0000', fast: [222, 235, 247], slow: [8, 48, 107]};

export interface MatrixLayout {
  labelW: number;
  bandW: number;
  headerH: number;
  x0: number;
  colW: number;
  rowH: number;
  height: number;
}

export function matrixLayout(width: number, c: Cells): MatrixLayout {
  // Rows tall enough for a label carry the message id, which needs more room than a time.
  const tall = c.perRow === 1 && maxPlot / Math.max(1, c.rows) >= 12;
  const labelW = tall ? 150 : 78;
  const bandW = 8;
  const headerH = 64;
  const x0 = labelW + bandW + 4;
  const colW = Math.max(1, Math.min(36, Math.floor((width - x0 - 8) / Math.max(1, c.cols))));
  const rowH = Math.max(1, Math.min(14, maxPlot / Math.max(1, c.rows)));
  return {labelW, bandW, headerH, x0, colW, rowH, height: Math.ceil(headerH + Math.max(1, c.rows) * rowH + 6)};
}

const maxPlot = 600;

export function latencyColor(lat: number, scale: number): string {
  const f = Number.isFinite(lat) ? Math.min(1, Math.max(0, lat / scale)) : 0;
  const [r0, g0, b0] = matrixColors.fast as [number, number, number];
  const [r1, g1, b1] = matrixColors.slow as [number, number, number];
  return `rgb(${Math.round(r0 + (r1 - r0) * f)},${Math.round(g0 + (g1 - g0) * f)},${Math.round(b0 + (b1 - b0) * f)})`;
}

export function drawMatrix(
  ctx: CanvasRenderingContext2D,
  data: ReportData,
  idx: MessageIndex,
  c: Cells,
  l: MatrixLayout,
  selected: number | undefined,
): void {
  const {sent} = data.messages;
  // Receivers' names, slanted to fit narrow columns.
  ctx.font = axisFont;
  ctx.fillStyle = '#333';
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'left';
  // Names only where a column is wide enough to point at; the hover line names any cell.
  const nameEvery = Math.max(1, Math.ceil(12 / l.colW));
  for (let p = 0; p < c.cols; p += nameEvery) {
    ctx.save();
    ctx.translate(l.x0 + p * l.colW + l.colW / 2, l.headerH - 4);
    ctx.rotate(-Math.PI / 3);
    ctx.fillText(data.peers[p] ?? `#${p}`, 0, 0, l.headerH + 10);
    ctx.restore();
  }
  const top = l.headerH;
  // Cells: one pixel each in an offscreen image, scaled up without smoothing, so 30,000 cells cost one drawImage.
  const img = cellImage(c, idx.latencyScale);
  if (img) {
    ctx.save();
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(img, l.x0, top, c.cols * l.colW, c.rows * l.rowH);
    ctx.restore();
  }
  // Thin white lines between wide columns and tall rows keep single cells apart.
  ctx.fillStyle = '#fff';
  if (l.colW >= 6) for (let p = 1; p < c.cols; p++) ctx.fillRect(l.x0 + p * l.colW - 1, top, 1, c.rows * l.rowH);
  if (l.rowH >= 6) for (let r = 1; r < c.rows; r++) ctx.fillRect(l.x0, Math.round(top + r * l.rowH) - 1, c.cols * l.colW, 1);
  // Row labels (send times) every so often, and the fault bands down the time gutter.
  ctx.fillStyle = '#555';
  ctx.textAlign = 'right';
  const every = Math.max(1, Math.ceil(13 / l.rowH));
  for (let r = 0; r < c.rows; r += every) {
    const k = c.a + r * c.perRow;
    const m = idx.sentByTime[k]!;
    const label = c.perRow === 1 && l.rowH >= 12 ? `${sent.id[m]}` : `${(sent.t[m]! / 1000).toFixed(3)} s`;
    ctx.fillText(label, l.labelW - 2, top + r * l.rowH + Math.min(l.rowH, 12) / 2, l.labelW - 4);
  }
  for (let r = 0; r < c.rows; r++) {
    const k = c.a + r * c.perRow;
    const t = sent.t[idx.sentByTime[k]!]!;
    for (const f of data.timeline.faults) {
      if (t >= f.from && t <= (f.to ?? data.meta.end)) {
        ctx.fillStyle = faultColors[f.kind];
        ctx.globalAlpha = 0.7;
        ctx.fillRect(l.labelW + 2, top + r * l.rowH, l.bandW, Math.max(1, l.rowH));
        ctx.globalAlpha = 1;
        break;
      }
    }
  }
  if (selected !== undefined) {
    for (let k = c.a; k < c.b; k++) {
      if (idx.sentByTime[k] !== selected) continue;
      const r = Math.floor((k - c.a) / c.perRow);
      ctx.strokeStyle = '#000';
      ctx.lineWidth = 2;
      ctx.strokeRect(l.x0 - 1, top + r * l.rowH - 1, c.cols * l.colW + 1, l.rowH + 1);
      break;
    }
  }
}

/** The cursor: a line between the last message sent before it and the first after. */
export function matrixCursor(idx: MessageIndex, c: Cells, l: MatrixLayout, cursor: number): Rect | undefined {
  if (c.rows === 0) return undefined;
  const k = lowerBound(idx.sentTimeSorted, cursor, c.a, c.b);
  if (k <= c.a || k >= c.b) return undefined;
  const y = Math.round(l.headerH + ((k - c.a) / c.perRow) * l.rowH);
  return {left: l.labelW, top: y - 1, width: l.x0 + c.cols * l.colW - l.labelW, height: 2};
}

function rgb(color: string): [number, number, number] {
  const m = /^#(..)(..)(..)$/.exec(color);
  if (m) return [parseInt(m[1]!, 16), parseInt(m[2]!, 16), parseInt(m[3]!, 16)];
  const n = /rgb\((\d+),(\d+),(\d+)\)/.exec(color);
  return n ? [+n[1]!, +n[2]!, +n[3]!] : [0, 0, 0];
}

const paletteSteps = 64;
const palette = Array.from({length: paletteSteps + 1}, (_, i) => rgb(latencyColor(i / paletteSteps, 1)));

const images = new WeakMap<Cells, HTMLCanvasElement | null>();

function cellImage(c: Cells, scale: number): HTMLCanvasElement | null {
  if (images.has(c)) return images.get(c)!;
  let out: HTMLCanvasElement | null = null;
  if (c.rows > 0 && c.cols > 0) {
    out = document.createElement('canvas');
    out.width = c.cols;
    out.height = c.rows;
    const ctx = out.getContext('2d');
    if (ctx) {
      const img = ctx.createImageData(c.cols, c.rows);
      const px = img.data;
      const fixed: Record<number, [number, number, number]> = {
        [cellMissing]: rgb(matrixColors.missing),
        [cellLate]: rgb(matrixColors.late),
        [cellOutOfOrder]: rgb(matrixColors.outOfOrder),
        [cellDuplicate]: rgb(matrixColors.duplicate),
      };
      for (let cell = 0; cell < c.state.length; cell++) {
        const s = c.state[cell]!;
        if (s === cellNone) continue;
        const lat = c.latency[cell]!;
        const color = fixed[s] ?? palette[Number.isFinite(lat) ? Math.min(paletteSteps, Math.round((lat / scale) * paletteSteps)) : 0]!;
        px[cell * 4] = color[0];
        px[cell * 4 + 1] = color[1];
        px[cell * 4 + 2] = color[2];
        px[cell * 4 + 3] = 255;
      }
      ctx.putImageData(img, 0, 0);
    }
  }
  images.set(c, out);
  return out;
}
