/**
 * Indices over the messages, built once per ReportData (a WeakMap memo) so
 * scrubbing never rescans: deliveries in time order for the window's
 * binary search, and each message's deliveries and missing receivers.
 */
import type {ReportData} from '../../../../src/data/types.js';
import {sortedOrder} from './search.js';

export interface MessageIndex {
  /** Delivery indices in ascending delivery time, and those times. */
  byTime: Int32Array;
  timeSorted: Float64Array;
  /** The receiver of each time-sorted delivery: the density map reads it in order. */
  peerByTime: Int32Array;
  /** Sent messages in ascending send time, and those times. */
  sentByTime: Int32Array;
  sentTimeSorted: Float64Array;
  /** Deliveries of message m: msgDel[msgStart[m] .. msgStart[m+1]). */
  msgStart: Int32Array;
  msgDel: Int32Array;
  /** Receivers that never delivered message m: missPeer[missStart[m] .. missStart[m+1]). */
  missStart: Int32Array;
  missPeer: Int32Array;
  /** Latency of each delivery (ms), NaN for a delivery of an unknown message. */
  latency: Float64Array;
  /** A latency for shading: the 99th percentile of all deliveries (at least 1 ms). */
  latencyScale: number;
  /** id → message index, built on first use (the picker). */
  idMap(): Map<string, number>;
}

const memo = new WeakMap<ReportData, MessageIndex>();

export function messageIndex(data: ReportData): MessageIndex {
  let idx = memo.get(data);
  if (!idx) {
    idx = build(data);
    memo.set(data, idx);
  }
  return idx;
}

function gather(n: number, keys: number[]): {start: Int32Array; items: Int32Array} {
  const start = new Int32Array(n + 1);
  for (const k of keys) if (k >= 0 && k < n) start[k + 1]!++;
  for (let i = 0; i < n; i++) start[i + 1]! += start[i]!;
  const fill = start.slice(0, n);
  const items = new Int32Array(start[n]!);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (k >= 0 && k < n) items[fill[k]!++] = i;
  }
  return {start, items};
}

function build(data: ReportData): MessageIndex {
  const {sent, deliveries, missing} = data.messages;
  const nMsg = sent.id.length;
  const byTime = sortedOrder(deliveries.t);
  const timeSorted = new Float64Array(byTime.length);
  for (let i = 0; i < byTime.length; i++) timeSorted[i] = deliveries.t[byTime[i]!]!;
  const sentByTime = sortedOrder(sent.t);
  const sentTimeSorted = new Float64Array(sentByTime.length);
  for (let i = 0; i < sentByTime.length; i++) sentTimeSorted[i] = sent.t[sentByTime[i]!]!;
  const del = gather(nMsg, deliveries.message);
  const miss = gather(nMsg, missing.message);
  const missPeer = new Int32Array(miss.items.length);
  for (let i = 0; i < miss.items.length; i++) missPeer[i] = missing.peer[miss.items[i]!]!;
  const latency = new Float64Array(deliveries.t.length);
  for (let i = 0; i < latency.length; i++) {
    const m = deliveries.message[i]!;
    latency[i] = m >= 0 && m < nMsg ? deliveries.t[i]! - sent.t[m]! : NaN;
  }
  // A sample is enough for a colour scale, and keeps a million deliveries cheap.
  const stride = Math.max(1, Math.floor(latency.length / 20_000));
  const sample: number[] = [];
  for (let i = 0; i < latency.length; i += stride) if (Number.isFinite(latency[i]!)) sample.push(latency[i]!);
  sample.sort((a, b) => a - b);
  const latencyScale = Math.max(1, sample[Math.floor(sample.length * 0.99)] ?? 1);
  const peerByTime = new Int32Array(byTime.length);
  for (let i = 0; i < byTime.length; i++) peerByTime[i] = deliveries.peer[byTime[i]!]!;
  let ids: Map<string, number> | undefined;
  return {
    byTime,
    timeSorted,
    peerByTime,
    sentByTime,
    sentTimeSorted,
    msgStart: del.start,
    msgDel: del.items,
    missStart: miss.start,
    missPeer,
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
