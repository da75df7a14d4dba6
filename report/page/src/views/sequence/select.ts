/**
 * Which arrows of the sequence diagram a window holds: found with binary
 * searches on the time-sorted indices, never by scanning every delivery.
 */
import type {ReportData} from '../../../../src/data/types.js';
import type {MessageIndex} from '../common/message-index.js';
import {lowerBound, upperBound} from '../common/search.js';

/** Past this many arrows a window is drawn as a density map instead, and says so. */
export const maxArrows = 3000;

export interface ArrowSet {
  /** Delivery indices to draw as arrows. */
  deliveries: number[];
  /** Missing (message, peer) pairs to draw as arrows ending in ✕. */
  missMsg: number[];
  missPeer: number[];
  /** Unsent deliveries (indices into messages.unsent) in the window. */
  unsent: number[];
  counts: {ok: number; duplicate: number; outOfOrder: number; missing: number; unsent: number};
}

export interface Selection {
  /** Total arrows the window holds (deliveries + missing ends). */
  total: number;
  /** Set when the window holds at most maxArrows (or one message is singled out). */
  arrows?: ArrowSet;
  /** The range of time-sorted deliveries in the window, for the density map. */
  range: [number, number];
}

function emptySet(): ArrowSet {
  return {deliveries: [], missMsg: [], missPeer: [], unsent: [], counts: {ok: 0, duplicate: 0, outOfOrder: 0, missing: 0, unsent: 0}};
}

function countFlag(set: ArrowSet, flag: number): void {
  if (flag === 1) set.counts.duplicate++;
  else if (flag === 2) set.counts.outOfOrder++;
  else set.counts.ok++;
}

/** Arrows of one message, wherever they fall: filtering on a message shows all of how it spread. */
export function selectMessageArrows(data: ReportData, idx: MessageIndex, m: number): Selection {
  const set = emptySet();
  const flags = data.messages.deliveries.flag;
  for (let k = idx.msgStart[m]!; k < idx.msgStart[m + 1]!; k++) {
    const d = idx.msgDel[k]!;
    set.deliveries.push(d);
    countFlag(set, flags[d]!);
  }
  for (let k = idx.missStart[m]!; k < idx.missStart[m + 1]!; k++) {
    set.missMsg.push(m);
    set.missPeer.push(idx.missPeer[k]!);
  }
  set.counts.missing = set.missMsg.length;
  return {total: set.deliveries.length + set.missMsg.length, arrows: set, range: [0, 0]};
}

export function selectWindow(data: ReportData, idx: MessageIndex, from: number, to: number): Selection {
  const a = lowerBound(idx.timeSorted, from);
  const b = upperBound(idx.timeSorted, to);
  const inWindow = b - a;
  const range: [number, number] = [a, b];
  const sa = lowerBound(idx.sentTimeSorted, from);
  const sb = upperBound(idx.sentTimeSorted, to);
  // Cheap bound first: a window this full is a density map whatever else it holds.
  if (inWindow > maxArrows) {
    let total = inWindow;
    for (let k = sa; k < sb; k++) {
      const m = idx.sentByTime[k]!;
      total += idx.missStart[m + 1]! - idx.missStart[m]!;
    }
    return {total, range};
  }
  const set = emptySet();
  const {t, flag} = data.messages.deliveries;
  for (let k = a; k < b; k++) {
    const d = idx.byTime[k]!;
    set.deliveries.push(d);
    countFlag(set, flag[d]!);
  }
  // Messages sent in the window and delivered after it: their arrows leave by the right edge.
  for (let k = sa; k < sb; k++) {
    const m = idx.sentByTime[k]!;
    for (let j = idx.msgStart[m]!; j < idx.msgStart[m + 1]!; j++) {
      const d = idx.msgDel[j]!;
      if (t[d]! > to) {
        set.deliveries.push(d);
        countFlag(set, flag[d]!);
      }
    }
    for (let j = idx.missStart[m]!; j < idx.missStart[m + 1]!; j++) {
      set.missMsg.push(m);
      set.missPeer.push(idx.missPeer[j]!);
    }
  }
  set.counts.missing = set.missMsg.length;
  const unsent = data.messages.unsent;
  for (let i = 0; i < unsent.length; i++) {
    const u = unsent[i]!;
    if (u.t >= from && u.t <= to) set.unsent.push(i);
  }
  set.counts.unsent = set.unsent.length;
  const total = set.deliveries.length + set.missMsg.length;
  return total > maxArrows ? {total, range} : {total, arrows: set, range};
}

/** From a message's send to its last delivery (or its send alone). */
export function messageSpan(data: ReportData, idx: MessageIndex, m: number): {from: number; to: number} {
  const from = data.messages.sent.t[m]!;
  let to = from;
  for (let k = idx.msgStart[m]!; k < idx.msgStart[m + 1]!; k++) to = Math.max(to, data.messages.deliveries.t[idx.msgDel[k]!]!);
  // A missing end is drawn one typical latency after the send.
  if (idx.missStart[m + 1]! > idx.missStart[m]!) to = Math.max(to, from + idx.latencyScale);
  return {from, to};
}
