/**
 * The delivery matrix's cells: for each row (a message, or a group of
 * consecutive messages when they outnumber the pixels) and each receiver,
 * the worst state and the mean latency of its deliveries.
 */
import type {ReportData} from '../../../../src/data/types.js';
import type {MessageIndex} from '../common/message-index.js';
import {lowerBound, upperBound} from '../common/search.js';

/** Cell states, worst last: a group shows the worst of its messages. */
export const cellNone = 0;
export const cellDelivered = 1;
export const cellDuplicate = 2;
export const cellOutOfOrder = 3;
/** Delivered, but after the deadline of a delivered await that found it missing. */
export const cellLate = 4;
export const cellMissing = 5;

export const maxRows = 600;

export interface Cells {
  /** Positions [a, b) in idx.sentByTime of the window's messages. */
  a: number;
  b: number;
  /** Messages per row (1: no aggregation). */
  perRow: number;
  rows: number;
  cols: number;
  state: Uint8Array;
  latency: Float32Array;
}

export function buildCells(data: ReportData, idx: MessageIndex, from: number, to: number): Cells {
  const a = lowerBound(idx.sentTimeSorted, from);
  const b = upperBound(idx.sentTimeSorted, to);
  const n = b - a;
  const perRow = n <= maxRows ? 1 : Math.ceil(n / maxRows);
  const rows = Math.ceil(n / perRow);
  const cols = data.peers.length;
  const state = new Uint8Array(rows * cols);
  const latSum = new Float64Array(rows * cols);
  const latN = new Uint32Array(rows * cols);
  const {peer, flag} = data.messages.deliveries;
  for (let k = a; k < b; k++) {
    const m = idx.sentByTime[k]!;
    const row = Math.floor((k - a) / perRow) * cols;
    for (let j = idx.msgStart[m]!; j < idx.msgStart[m + 1]!; j++) {
      const d = idx.msgDel[j]!;
      const cell = row + peer[d]!;
      const f = flag[d]!;
      const s = f === 1 ? cellDuplicate : f === 2 ? cellOutOfOrder : cellDelivered;
      if (s > state[cell]!) state[cell] = s;
      const lat = idx.latency(d);
      if (Number.isFinite(lat)) {
        latSum[cell] = latSum[cell]! + lat;
        latN[cell]!++;
      }
    }
    for (let j = idx.lateStart[m]!; j < idx.lateStart[m + 1]!; j++) {
      const cell = row + data.messages.missingAtAwait.peer[idx.lateRow[j]!]!;
      if (cellLate > state[cell]!) state[cell] = cellLate;
    }
    for (let j = idx.missStart[m]!; j < idx.missStart[m + 1]!; j++) state[row + idx.missPeer[j]!] = cellMissing;
  }
  const latency = new Float32Array(rows * cols);
  for (let i = 0; i < latency.length; i++) latency[i] = latN[i] ? latSum[i]! / latN[i]! : NaN;
  return {a, b, perRow, rows, cols, state, latency};
}

/** What one cell holds, counted over its messages: for the hover line. */
export function cellDetail(data: ReportData, idx: MessageIndex, c: Cells, row: number, col: number) {
  const out = {messages: [] as number[], delivered: 0, duplicate: 0, outOfOrder: 0, missing: 0, late: 0, latencies: [] as number[], sender: 0};
  const {peer, flag} = data.messages.deliveries;
  for (let k = c.a + row * c.perRow; k < Math.min(c.b, c.a + (row + 1) * c.perRow); k++) {
    const m = idx.sentByTime[k]!;
    out.messages.push(m);
    if (data.messages.sent.sender[m] === col) out.sender++;
    for (let j = idx.msgStart[m]!; j < idx.msgStart[m + 1]!; j++) {
      const d = idx.msgDel[j]!;
      if (peer[d] !== col) continue;
      const f = flag[d]!;
      if (f === 1) out.duplicate++;
      else if (f === 2) out.outOfOrder++;
      else out.delivered++;
      const lat = idx.latency(d);
      if (Number.isFinite(lat)) out.latencies.push(lat);
    }
    for (let j = idx.missStart[m]!; j < idx.missStart[m + 1]!; j++) if (idx.missPeer[j] === col) out.missing++;
    if (idx.lateAt(m, col) >= 0) out.late++;
  }
  return out;
}
