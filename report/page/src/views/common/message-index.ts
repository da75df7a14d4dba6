/**
 * Indices over the messages, built once per ReportData (a WeakMap memo) so
 * scrubbing never rescans: deliveries in time order for the window's
 * binary search, and each message's deliveries and missing receivers.
 */
import type {ReportData} from '../../../../src/data/types.js';
import {isAscending, sortedOrder} from './search.js';

export interface MessageIndex {
  /** Delivery indices in ascending delivery time (the identity when the history is in time order), and those times. */
  byTime: ArrayLike<number>;
  timeSorted: ArrayLike<number>;
  /** The receiver of each time-sorted delivery: the density map reads it in order. */
  peerByTime: ArrayLike<number>;
  /** Sent messages in ascending send time, and those times. */
  sentByTime: ArrayLike<number>;
  sentTimeSorted: ArrayLike<number>;
  /** Deliveries of message m: msgDel[msgStart[m] .. msgStart[m+1]). */
  msgStart: Int32Array;
  msgDel: Int32Array;
  /** Receivers that never delivered message m: missPeer[missStart[m] .. missStart[m+1]). */
  missStart: Int32Array;
  missPeer: Int32Array;
  /** Receivers a failed delivered await found missing at its deadline, for message m: rows of messages.missingAtAwait, lateRow[lateStart[m] .. lateStart[m+1]). */
  lateStart: Int32Array;
  lateRow: Int32Array;
  /** The row of missingAtAwait for message m at peer p (the first await that found it missing), or -1. */
  lateAt(m: number, p: number): number;
  /** Latency of delivery d (ms), NaN for a delivery of an unknown message. */
  latency(d: number): number;
  /** A latency for shading: the 99th percentile of all deliveries (at least 1 ms). */
  latencyScale: number;
  /** id → message index, built on first use (the picker). */
  idMap(): Map<string, number>;
}

const memo = new WeakMap<ReportData, MessageIndex>();

export function messageIndex(data: ReportData): MessageIndex {
  let idx = memo.get(data);
  if (!idx) {
    const steps = build(data);
    let step = steps.next();
    while (!step.done) step = steps.next();
    idx = step.value;
    memo.set(data, idx);
  }
  return idx;
}

/**
 * Builds the index ahead of the views, a step a task (each a pass over the
 * deliveries), so a million deliveries never hold the page for one long task
 * when the views that need it appear.
 */
export async function prepareMessageIndex(data: ReportData): Promise<void> {
  if (memo.has(data)) return;
  const steps = build(data);
  let step = steps.next();
  while (!step.done) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    step = steps.next();
  }
  if (!memo.has(data)) memo.set(data, step.value);
}

function gather(n: number, keys: ArrayLike<number>): {start: Int32Array; items: Int32Array} {
  const start = new Int32Array(n + 1);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (k >= 0 && k < n) start[k + 1]!++;
  }
  for (let i = 0; i < n; i++) start[i + 1]! += start[i]!;
  const fill = start.slice(0, n);
  const items = new Int32Array(start[n]!);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (k >= 0 && k < n) items[fill[k]!++] = i;
  }
  return {start, items};
}

/** A column in ascending order: itself when it already is (the usual case, a history is in time order), else a sorted copy and the order. */
function ordered(col: ArrayLike<number>, other?: ArrayLike<number>): {order: ArrayLike<number>; sorted: ArrayLike<number>; other?: ArrayLike<number>} {
  if (isAscending(col)) return {order: identity(col.length), sorted: col, other};
  const order = sortedOrder(col);
  const sorted = new Float64Array(order.length);
  const o = other ? new Int32Array(order.length) : undefined;
  for (let i = 0; i < order.length; i++) {
    sorted[i] = col[order[i]!]!;
    if (o) o[i] = other![order[i]!]!;
  }
  return {order, sorted, other: o};
}

/** 0, 1, 2, ... n-1: the order of a column already sorted. */
function identity(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

/** Yields between passes: prepareMessageIndex gives the page a turn there. */
function* build(data: ReportData): Generator<void, MessageIndex> {
  const {sent, deliveries, missing} = data.messages;
  const missingAtAwait = data.messages.missingAtAwait ?? {message: [], peer: [], t: [], step: []};
  const nMsg = sent.id.length;
  const del = ordered(deliveries.t, deliveries.peer);
  yield;
  const snd = ordered(sent.t);
  const byMsg = gather(nMsg, deliveries.message);
  yield;
  const miss = gather(nMsg, missing.message);
  const missPeer = new Int32Array(miss.items.length);
  for (let i = 0; i < miss.items.length; i++) missPeer[i] = missing.peer[miss.items[i]!]!;
  const late = gather(nMsg, missingAtAwait.message);
  const latency = (d: number): number => {
    const m = deliveries.message[d]!;
    return m >= 0 && m < nMsg ? deliveries.t[d]! - sent.t[m]! : NaN;
  };
  // A sample is enough for a colour scale, and keeps a million deliveries cheap.
  const stride = Math.max(1, Math.floor(deliveries.t.length / 20_000));
  const sample: number[] = [];
  for (let i = 0; i < deliveries.t.length; i += stride) {
    const l = latency(i);
    if (Number.isFinite(l)) sample.push(l);
  }
  sample.sort((a, b) => a - b);
  const latencyScale = Math.max(1, sample[Math.floor(sample.length * 0.99)] ?? 1);
  let ids: Map<string, number> | undefined;
  return {
    byTime: del.order,
    timeSorted: del.sorted,
    peerByTime: del.other!,
    sentByTime: snd.order,
    sentTimeSorted: snd.sorted,
    msgStart: byMsg.start,
    msgDel: byMsg.items,
    missStart: miss.start,
    missPeer,
    lateStart: late.start,
    lateRow: late.items,
    lateAt(m, p) {
      if (m < 0 || m >= nMsg) return -1;
      for (let j = late.start[m]!; j < late.start[m + 1]!; j++) if (missingAtAwait.peer[late.items[j]!] === p) return late.items[j]!;
      return -1;
    },
    latency,
    latencyScale,
    idMap() {
      if (!ids) {
        ids = new Map();
        for (let i = 0; i < nMsg; i++) ids.set(sent.id[i]!, i);
      }
      return ids;
    },
  };
}
