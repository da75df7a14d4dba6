/** Paints the sequence diagram: shaded lifelines, then arrows or the density map, then the cursor. */
import {faultColors, type ReportData} from '../../../../src/data/types.js';
import type {MessageIndex} from '../common/message-index.js';
import {axisFont, cursorRect, drawTimeAxis, xOf, type Rect, type TimeScale} from '../common/time-strip.js';
import {rowY, type SeqLayout} from './layout.js';
import type {Selection} from './select.js';

export const arrowColors = {ok: '#1f5f99', duplicate: '#ff7f0e', outOfOrder: '#9b3fb5', missing: '#d62728', late: '#7f0000', unsent: '#8c564b'};

/** A drawn arrow, for hit tests: from (x1, y1) to (x2, y2), of message m (-1: unsent). */
export interface Hit {
  x1: Float32Array;
  y1: Float32Array;
  x2: Float32Array;
  y2: Float32Array;
  msg: Int32Array;
  /** Delivery index, or -1 for a missing end, or -2 - i for unsent i. */
  what: Int32Array;
  n: number;
}

function newHit(n: number): Hit {
  return {x1: new Float32Array(n), y1: new Float32Array(n), x2: new Float32Array(n), y2: new Float32Array(n), msg: new Int32Array(n), what: new Int32Array(n), n: 0};
}

export function drawLifelines(ctx: CanvasRenderingContext2D, data: ReportData, l: SeqLayout, width: number): void {
  const s = l.scale;
  const end = data.meta.end;
  ctx.font = axisFont;
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'right';
  // Thin lifelines are named every few rows, enough to find one.
  const nameEvery = Math.max(1, Math.ceil(11 / l.rowH));
  for (let p = 0; p < l.rows; p++) {
    const y = l.top + p * l.rowH;
    if (p % 2 === 1) {
      ctx.fillStyle = 'rgba(0,0,0,0.025)';
      ctx.fillRect(0, y, width, l.rowH);
    }
    if (p % nameEvery === 0) {
      ctx.fillStyle = '#333';
      ctx.fillText(data.peers[p] ?? `#${p}`, l.labelW - 6, y + l.rowH / 2, l.labelW - 8);
    }
    // Process states: a paused peer is grey, a down one dark, one that left pale green.
    for (const seg of data.timeline.lifecycles[p] ?? []) {
      if (seg.state === 'running') continue;
      const to = seg.to ?? end;
      if (to < s.from || seg.from > s.to) continue;
      const a = Math.max(s.x0, xOf(s, seg.from));
      const b = Math.min(s.x1, xOf(s, to));
      ctx.fillStyle = seg.state === 'paused' ? 'rgba(141,153,174,0.45)' : seg.state === 'down' ? 'rgba(40,40,40,0.35)' : 'rgba(106,153,78,0.22)';
      ctx.fillRect(a, y + 1, Math.max(1, b - a), l.rowH - 2);
    }
  }
  // Faults on the peers they hit; a partition's sides get different strengths and a letter.
  for (const f of data.timeline.faults) {
    const to = f.to ?? end;
    if (to < s.from || f.from > s.to) continue;
    const a = Math.max(s.x0, xOf(s, f.from));
    const b = Math.min(s.x1, xOf(s, to));
    ctx.fillStyle = faultColors[f.kind];
    const sides = f.sides && f.sides.length ? f.sides : [f.peers];
    sides.forEach((side, i) => {
      ctx.globalAlpha = sides.length > 1 ? 0.12 + 0.14 * (i % 3) : 0.2;
      for (const p of side) ctx.fillRect(a, l.top + p * l.rowH, Math.max(1, b - a), l.rowH);
      if (sides.length > 1 && b - a > 14 && l.rowH >= 9) {
        ctx.globalAlpha = 0.9;
        ctx.textAlign = 'left';
        for (const p of side) ctx.fillText(String.fromCharCode(65 + i), a + 3, l.top + p * l.rowH + l.rowH / 2);
      }
    });
    ctx.globalAlpha = 1;
  }
  ctx.strokeStyle = 'rgba(0,0,0,0.22)';
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let p = 0; p < l.rows; p++) {
    const y = Math.round(rowY(l, p)) + 0.5;
    ctx.moveTo(s.x0, y);
    ctx.lineTo(s.x1, y);
  }
  ctx.stroke();
  drawTimeAxis(ctx, s, l.top, {below: false, gridTop: l.top, gridBottom: l.height - 24});
  drawTimeAxis(ctx, s, l.height - 24);
}

function arrowHead(ctx: CanvasRenderingContext2D, x1: number, y1: number, x2: number, y2: number, size: number): void {
  const ang = Math.atan2(y2 - y1, x2 - x1);
  ctx.moveTo(x2, y2);
  ctx.lineTo(x2 - size * Math.cos(ang - 0.45), y2 - size * Math.sin(ang - 0.45));
  ctx.moveTo(x2, y2);
  ctx.lineTo(x2 - size * Math.cos(ang + 0.45), y2 - size * Math.sin(ang + 0.45));
}

/** Where a missing delivery's ✕ goes: as far right as a typical delivery of the run, so it reads as "should have arrived by now". */
function missingX(s: TimeScale, sendT: number, idx: MessageIndex): number {
  return Math.max(xOf(s, sendT + idx.latencyScale), xOf(s, sendT) + 18);
}

export function drawArrows(ctx: CanvasRenderingContext2D, data: ReportData, idx: MessageIndex, l: SeqLayout, sel: Selection, single: boolean): Hit {
  const set = sel.arrows!;
  const s = l.scale;
  const {sent, deliveries, unsent} = data.messages;
  const hit = newHit(set.deliveries.length + set.missMsg.length + set.unsent.length);
  const many = set.deliveries.length > 600;
  ctx.save();
  ctx.beginPath();
  ctx.rect(s.x0, l.top, s.x1 - s.x0, l.rowH * l.rows);
  ctx.clip();
  const head = Math.max(3, Math.min(6, l.rowH / 2.5));
  // One path per colour keeps thousands of arrows to a handful of strokes.
  const groups: Array<[number, string]> = [
    [0, arrowColors.ok],
    [1, arrowColors.duplicate],
    [2, arrowColors.outOfOrder],
  ];
  for (const [flag, color] of groups) {
    ctx.strokeStyle = color;
    ctx.globalAlpha = flag === 0 && many ? 0.35 : 0.85;
    ctx.lineWidth = single ? 1.6 : flag === 0 ? 1 : 1.4;
    ctx.beginPath();
    for (const d of set.deliveries) {
      const f = deliveries.flag[d]!;
      if ((f === 1 || f === 2 ? f : 0) !== flag) continue;
      const m = deliveries.message[d]!;
      const x1 = xOf(s, sent.t[m]!);
      const y1 = rowY(l, sent.sender[m]!);
      const x2 = xOf(s, deliveries.t[d]!);
      const y2 = rowY(l, deliveries.peer[d]!);
      ctx.moveTo(x1, y1);
      ctx.lineTo(x2, y2);
      arrowHead(ctx, x1, y1, x2, y2, head);
      const k = hit.n++;
      hit.x1[k] = x1;
      hit.y1[k] = y1;
      hit.x2[k] = x2;
      hit.y2[k] = y2;
      hit.msg[k] = m;
      hit.what[k] = d;
    }
    ctx.stroke();
  }
  // Duplicates and out-of-order deliveries also get a mark at their end, so they stand out among many arrows.
  ctx.globalAlpha = 1;
  for (const d of set.deliveries) {
    const f = deliveries.flag[d]!;
    if (f !== 1 && f !== 2) continue;
    const x = xOf(s, deliveries.t[d]!);
    const y = rowY(l, deliveries.peer[d]!);
    ctx.fillStyle = f === 1 ? arrowColors.duplicate : arrowColors.outOfOrder;
    if (f === 1) {
      ctx.fillRect(x - 3, y - 3, 6, 6);
    } else {
      ctx.beginPath();
      ctx.moveTo(x, y - 4);
      ctx.lineTo(x + 4, y);
      ctx.lineTo(x, y + 4);
      ctx.lineTo(x - 4, y);
      ctx.fill();
    }
  }
  // Missing deliveries: a dashed arrow ending in ✕.
  ctx.strokeStyle = arrowColors.missing;
  ctx.lineWidth = 1.3;
  ctx.setLineDash([4, 3]);
  ctx.beginPath();
  const crosses: Array<[number, number]> = [];
  for (let i = 0; i < set.missMsg.length; i++) {
    const m = set.missMsg[i]!;
    const x1 = xOf(s, sent.t[m]!);
    const y1 = rowY(l, sent.sender[m]!);
    const x2 = missingX(s, sent.t[m]!, idx);
    const y2 = rowY(l, set.missPeer[i]!);
    ctx.moveTo(x1, y1);
    ctx.lineTo(x2, y2);
    crosses.push([x2, y2]);
    const k = hit.n++;
    hit.x1[k] = x1;
    hit.y1[k] = y1;
    hit.x2[k] = x2;
    hit.y2[k] = y2;
    hit.msg[k] = m;
    hit.what[k] = -1;
  }
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.lineWidth = 2;
  ctx.beginPath();
  for (const [x, y] of crosses) {
    ctx.moveTo(x - 4, y - 4);
    ctx.lineTo(x + 4, y + 4);
    ctx.moveTo(x + 4, y - 4);
    ctx.lineTo(x - 4, y + 4);
  }
  ctx.stroke();
  // Missing when a delivered await was judged (its step is red): a ✕ at that deadline on the receiver's lifeline,
  // joined to the delivery that came later, if one did.
  const late = data.messages.missingAtAwait;
  if (late && idx.lateRow.length > 0) {
    const messages = new Set<number>();
    for (const d of set.deliveries) messages.add(deliveries.message[d]!);
    for (const m of set.missMsg) messages.add(m);
    ctx.strokeStyle = arrowColors.late;
    ctx.lineWidth = 2;
    ctx.beginPath();
    for (const m of messages) {
      for (let j = idx.lateStart[m]!; j < idx.lateStart[m + 1]!; j++) {
        const r = idx.lateRow[j]!;
        const x = xOf(s, late.t[r]!);
        const y = rowY(l, late.peer[r]!);
        ctx.moveTo(x - 4, y - 4);
        ctx.lineTo(x + 4, y + 4);
        ctx.moveTo(x + 4, y - 4);
        ctx.lineTo(x - 4, y + 4);
        for (const d of set.deliveries) {
          if (deliveries.message[d] !== m || deliveries.peer[d] !== late.peer[r] || deliveries.t[d]! < late.t[r]!) continue;
          ctx.moveTo(x + 4, y);
          ctx.lineTo(xOf(s, deliveries.t[d]!), y);
        }
      }
    }
    ctx.stroke();
  }
  // Delivered but never sent: a stub from nowhere, ending in an open circle.
  ctx.strokeStyle = arrowColors.unsent;
  ctx.lineWidth = 1.3;
  for (const i of set.unsent) {
    const u = unsent[i]!;
    const x = xOf(s, u.t);
    const y = rowY(l, u.peer);
    ctx.beginPath();
    ctx.moveTo(x - 16, y - 8);
    ctx.lineTo(x - 4, y - 2);
    ctx.moveTo(x + 4, y);
    ctx.arc(x, y, 4, 0, Math.PI * 2);
    ctx.stroke();
    const k = hit.n++;
    hit.x1[k] = x - 16;
    hit.y1[k] = y - 8;
    hit.x2[k] = x;
    hit.y2[k] = y;
    hit.msg[k] = -1;
    hit.what[k] = -2 - i;
  }
  // Send ends: a dot on the sender's lifeline.
  ctx.fillStyle = '#111';
  const seen = new Set<number>();
  for (let k = 0; k < hit.n; k++) {
    const m = hit.msg[k]!;
    if (m < 0 || seen.has(m)) continue;
    seen.add(m);
    ctx.beginPath();
    ctx.arc(hit.x1[k]!, hit.y1[k]!, single ? 3.5 : 2, 0, Math.PI * 2);
    ctx.fill();
  }
  ctx.restore();
  return hit;
}

/** Deliveries per peer per time bucket, when the window holds too many arrows to read. */
export function drawDensity(ctx: CanvasRenderingContext2D, idx: MessageIndex, l: SeqLayout, sel: Selection): {bucketMs: number; max: number} {
  const s = l.scale;
  const cols = Math.max(1, Math.floor((s.x1 - s.x0) / 3));
  const bucketMs = (s.to - s.from) / cols;
  const counts = new Uint32Array(cols * l.rows);
  const {peerByTime, timeSorted} = idx;
  const [a, b] = sel.range;
  const perMs = 1 / bucketMs;
  let max = 0;
  for (let k = a; k < b; k++) {
    const c = Math.min(cols - 1, Math.floor((timeSorted[k]! - s.from) * perMs));
    const cell = peerByTime[k]! * cols + c;
    const v = ++counts[cell]!;
    if (v > max) max = v;
  }
  // One pixel per cell in an offscreen image, scaled up unsmoothed: a few hundred thousand cells cost one drawImage.
  const img = document.createElement('canvas');
  img.width = cols;
  img.height = l.rows;
  const ictx = img.getContext('2d');
  if (ictx && max > 0) {
    const im = ictx.createImageData(cols, l.rows);
    const px = im.data;
    const logMax = Math.log1p(max);
    for (let i = 0; i < counts.length; i++) {
      const v = counts[i]!;
      if (!v) continue;
      px[i * 4] = 31;
      px[i * 4 + 1] = 95;
      px[i * 4 + 2] = 153;
      px[i * 4 + 3] = Math.round(255 * (0.15 + (0.85 * Math.log1p(v)) / logMax));
    }
    ictx.putImageData(im, 0, 0);
    ctx.save();
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(img, s.x0, l.top, s.x1 - s.x0, l.rows * l.rowH);
    ctx.restore();
    // Keep the rows apart.
    if (l.rowH >= 6) {
      ctx.fillStyle = '#fff';
      for (let p = 1; p < l.rows; p++) ctx.fillRect(s.x0, l.top + p * l.rowH - 1, s.x1 - s.x0, 1);
    }
  }
  return {bucketMs, max};
}

export function seqCursor(l: SeqLayout, cursor: number): Rect | undefined {
  return cursorRect(l.scale, cursor, l.top, l.height - 24);
}

/** The arrow nearest (x, y) within `tol` pixels, or -1. */
export function hitTest(hit: Hit | undefined, x: number, y: number, tol = 5): number {
  if (!hit) return -1;
  let best = -1;
  let bestD = tol * tol;
  for (let k = 0; k < hit.n; k++) {
    const x1 = hit.x1[k]!;
    const y1 = hit.y1[k]!;
    const dx = hit.x2[k]! - x1;
    const dy = hit.y2[k]! - y1;
    const len = dx * dx + dy * dy;
    const u = len > 0 ? Math.max(0, Math.min(1, ((x - x1) * dx + (y - y1) * dy) / len)) : 0;
    const ex = x1 + u * dx - x;
    const ey = y1 + u * dy - y;
    const d = ex * ex + ey * ey;
    if (d <= bestD) {
      bestD = d;
      best = k;
    }
  }
  return best;
}
