/**
 * Messages: every send and delivery (columnar), each delivery flagged as the
 * chat fold judged it (a duplicate in its process, or out of its stream's
 * order), the receivers the delivered checker expected and that never
 * delivered, deliveries of ids never sent, and latency percentiles over time.
 */
import type {HistoryEvent} from '@peerlab/checkers/history/types';
import {isEvent} from '@peerlab/checkers/history/types';
import type {ChatFold, ChatProcess, Model} from '@peerlab/checkers/model';
import type {DeliveryDuties} from '@peerlab/checkers/delivered';
import {percentileOfSorted} from '@peerlab/checkers/stats';
import type {Messages} from './types.js';
import type {Context} from './context.js';
import {relative} from './context.js';
import {bucketWidth} from './timeline.js';

const OK = 0;
const DUPLICATE = 1;
const OUT_OF_ORDER = 2;

/**
 * Replays the deliveries against the whole history's chat fold: the fold
 * has each process's first delivery of an id and its position among first
 * deliveries (`order`), so counting deliveries again tells a first one from
 * a repeat without a set of a million pairs.
 */
export class MessagesFold {
  readonly #message: number[] = [];
  readonly #peer: number[] = [];
  readonly #t: number[] = [];
  readonly #flag: number[] = [];
  /** Per delivery row: its latency (first delivery to another peer than the sender), else NaN. */
  readonly #latency: number[] = [];
  /** Per peer: its processes by index, as the fold made them. */
  readonly #processes = new Map<string, ChatProcess[]>();
  readonly #currentIndex = new Map<string, number>();
  readonly #peerOfSrc = new Map<string, {name: string; index: number}>();
  readonly #outOfOrder: Set<string>;
  #deliveries = 0;
  #extra = 0;

  constructor(
    readonly ctx: Context,
    readonly chat: ChatFold,
  ) {
    for (const p of chat.processes) {
      let own = this.#processes.get(p.peer);
      if (!own) this.#processes.set(p.peer, (own = []));
      own[p.index] = p;
    }
    this.#outOfOrder = new Set(chat.outOfOrder.map((o) => `${o.peer}\u0000${o.id}`));
  }

  #source(src: string): {name: string; index: number} | undefined {
    let known = this.#peerOfSrc.get(src);
    if (!known && src.startsWith('peer:')) {
      const name = src.slice('peer:'.length);
      known = {name, index: this.ctx.index.get(name)!};
      this.#peerOfSrc.set(src, known);
    }
    return known;
  }

  /** Call with every event, in order. */
  apply(e: HistoryEvent): void {
    if (e.type === 'chat.delivered') {
      if (isEvent(e, 'chat.delivered')) this.#delivered(e);
    } else if (e.type === 'peer.started' && isEvent(e, 'peer.started')) {
      const source = this.#source(e.src);
      if (source) this.#currentIndex.set(source.name, (this.#currentIndex.get(source.name) ?? 0) + 1);
    }
  }

  #delivered(e: HistoryEvent & {data: {id: string}}): void {
    const source = this.#source(e.src);
    if (!source) return;
    this.#deliveries++;
    const id = e.data.id;
    const m = this.chat.messages.get(id);
    const process = this.#processes.get(source.name)?.[this.#currentIndex.get(source.name) ?? 0];
    const record = m && process ? m.deliveries.get(process) : undefined;
    const first = record !== undefined && record.order === this.#deliveries - this.#extra;
    if (!first) this.#extra++;
    const sent = m?.sent;
    if (!sent) return;
    this.#message.push(sent.index);
    this.#peer.push(source.index);
    this.#t.push(relative(this.ctx, e.t));
    this.#flag.push(!first ? DUPLICATE : this.#outOfOrder.size > 0 && this.#outOfOrder.has(`${source.name}\u0000${id}`) ? OUT_OF_ORDER : OK);
    this.#latency.push(first && source.name !== sent.sender ? e.t - sent.t : NaN);
  }

  /** `model`: the model after the whole history; `duties`: the delivered checker's, folded over it. */
  done(model: Model, duties: DeliveryDuties): Messages {
    const ctx = this.ctx;
    const sends = duties.sends;
    const sent: Messages['sent'] = {id: [], sender: [], t: []};
    for (const s of sends) {
      sent.id.push(s.id);
      sent.sender.push(ctx.index.get(s.sender) ?? -1);
      sent.t.push(relative(ctx, s.t));
    }
    const missing: Messages['missing'] = {message: [], peer: []};
    // As the delivered checker judges at the end: live peers whose present process has started, what they owe and lack.
    for (const peer of model.live()) {
      if (!model.view(peer)?.current) continue;
      const index = ctx.index.get(peer)!;
      duties.owed(model, peer, (k) => {
        missing.message.push(k);
        missing.peer.push(index);
      });
    }
    const unsent = this.chat.unsent().map((u) => ({id: u.id, peer: ctx.index.get(u.peer)!, t: relative(ctx, u.t)}));
    return {
      sent,
      deliveries: {message: this.#message, peer: this.#peer, t: this.#t, flag: this.#flag},
      missing,
      unsent,
      latency: this.#latencyBuckets(),
    };
  }

  #latencyBuckets(): Messages['latency'] {
    const bucketMs = bucketWidth(this.ctx.end, 200);
    const n = Math.floor(Math.max(0, this.ctx.end) / bucketMs) + 1;
    const counts = new Int32Array(n);
    const bucketOf = (t: number) => Math.min(n - 1, Math.max(0, Math.floor(t / bucketMs)));
    const latency = this.#latency;
    const times = this.#t;
    for (let i = 0; i < latency.length; i++) if (!Number.isNaN(latency[i])) counts[bucketOf(times[i]!)]!++;
    // Each bucket's latencies side by side in one typed array, sorted per bucket natively.
    const start = new Int32Array(n + 1);
    for (let b = 0; b < n; b++) start[b + 1] = start[b]! + counts[b]!;
    const all = new Float64Array(start[n]!);
    const fill = start.slice(0, n);
    for (let i = 0; i < latency.length; i++) {
      const l = latency[i]!;
      if (!Number.isNaN(l)) all[fill[bucketOf(times[i]!)]!++] = l;
    }
    const p50: Array<number | null> = [];
    const p99: Array<number | null> = [];
    const max: Array<number | null> = [];
    for (let b = 0; b < n; b++) {
      if (counts[b] === 0) {
        p50.push(null);
        p99.push(null);
        max.push(null);
        continue;
      }
      const sorted = all.subarray(start[b], start[b + 1]).sort();
      p50.push(percentileOfSorted(sorted, 50));
      p99.push(percentileOfSorted(sorted, 99));
      max.push(sorted[sorted.length - 1]!);
    }
    return {bucketMs, p50, p99, max};
  }
}
