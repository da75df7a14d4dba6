/** Where the diagram's parts go: one lifeline row per peer, time running left to right. */
import type {TimeScale} from '../common/time-strip.js';

export interface SeqLayout {
  scale: TimeScale;
  top: number;
  rowH: number;
  rows: number;
  height: number;
  labelW: number;
}

export const axisH = 24;

export function seqLayout(width: number, peers: number, from: number, to: number): SeqLayout {
  const labelW = 96;
  // Up to some seventy peers every lifeline keeps a readable label; past that they thin out to fit a screen or two.
  const rowH = peers <= 70 ? Math.max(9, Math.min(26, Math.floor(640 / Math.max(1, peers)))) : Math.max(1, Math.floor(1000 / peers));
  const top = axisH;
  const height = top + rowH * peers + axisH;
  return {scale: {from, to, x0: labelW, x1: Math.max(labelW + 10, width - 12)}, top, rowH, rows: peers, height, labelW};
}

export function rowY(l: SeqLayout, peer: number): number {
  return l.top + l.rowH * peer + l.rowH / 2;
}
