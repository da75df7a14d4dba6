/**
 * Messages: every send and delivery (columnar), each delivery flagged as the
 * chat fold judged it (a duplicate in its process, or out of its stream's
 * order), the receivers the delivered checker expected and that never
 * delivered, deliveries of ids never sent, and latency percentiles over time.
 */
import type {HistoryEvent, HistoryEventOf} from '@peerlab/checkers/history/types';
import {isEvent} from '@peerlab/checkers/history/types';
import type {ChatFold, ChatMessage, ChatProcess, Model} from '@peerlab/checkers/model';
import type {DeliveryDuties} from '@peerlab/checkers/delivered';
import type {Messages} from './types.js';
import type {Context} from './context.js';
import {relative} from './context.js';
import {bucketWidth} from './buckets.js';
import {kthSmallest} from './select.js';

interface Source {
  name: string;
  index: number;
  starts: number;
  process: ChatProcess | undefined;
}

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
  // Typed and sized once: the fold knows how many deliveries there are, and a million pushes would copy and collect.
  readonly #message: number[];
  readonly #peer: number[];
  readonly #t: number[];
  readonly #flag: number[];
  /** Per delivery row: its latency (first delivery to another peer than the sender), else NaN. */
  readonly #latency: Float64Array;
  #rows = 0;
  /** The last delivered id and its message: a message's deliveries come close together. */
  #lastId = '';
  #lastMessage: ChatMessage | undefined;
  /** Per peer: its processes by index, as the fold made them. */
  readonly #processes = new Map<string, ChatProcess[]>();
  /** Per source: its peer, and the process its deliveries belong to now (0 before its first start, as the fold counts). */
  readonly #peerOfSrc = new Map<string, Source>();
  readonly #outOfOrder: Set<string>;
  #deliveries = 0;
  #extra = 0;
  #missing: Messages['missing'] | undefined;

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
    const n = chat.deliveries;
    this.#message = new Array<number>(n);
    this.#peer = new Array<number>(n);
    this.#t = new Array<number>(n);
    this.#flag = new Array<number>(n);
    this.#latency = new Float64Array(n);
  }

  #source(src: string): Source | undefined {
    let known = this.#peerOfSrc.get(src);
    if (!known && src.startsWith('peer:')) {
      const name = src.slice('peer:'.length);
      known = {name, index: this.ctx.index.get(name)!, starts: 0, process: this.#processes.get(name)?.[0]};
      this.#peerOfSrc.set(src, known);
    }
    return known;
  }

  /** Call with every event, in order. */
  apply(e: HistoryEvent): void {
    // From a peer, a listed type: what isEvent checks, without its table lookup on the hottest path.
    if (e.type === 'chat.delivered') {
      if (e.src !== 'coordinator') this.#delivered(e as HistoryEventOf<'chat.delivered'>);
    } else if (e.type === 'peer.started' && isEvent(e, 'peer.started')) {
      const source = this.#source(e.src);
      if (source) source.process = this.#processes.get(source.name)?.[++source.starts];
    }
  }

  #delivered(e: HistoryEventOf<'chat.delivered'>): void {
    const source = this.#source(e.src);
    if (!source) return;
    this.#deliveries++;
    const id = e.data.id;
    let m = this.#lastMessage;
    if (id !== this.#lastId || !m) {
      m = this.chat.messages.get(id);
      this.#lastId = id;
      this.#lastMessage = m;
    }
    const process = source.process;
    const record = m && process ? m.deliveries.get(process) : undefined;
    const first = record !== undefined && record.order === this.#deliveries - this.#extra;
    if (!first) this.#extra++;
    const sent = m?.sent;
    if (!sent) return;
    const row = this.#rows++;
    this.#message[row] = sent.index;
    this.#peer[row] = source.index;
    this.#t[row] = Math.round(e.t - this.ctx.t0);
    this.#flag[row] = !first ? DUPLICATE : this.#outOfOrder.size > 0 && this.#outOfOrder.has(`${source.name}\u0000${id}`) ? OUT_OF_ORDER : OK;
    this.#latency[row] = first && source.name !== sent.sender ? e.t - sent.t : NaN;
  }

  /**
   * The receivers that lack a message, as the delivered checker judges them
   * with `model` and `duties` folded to this point: call where the run's
   * steps ended (the peers' shutdown after it empties the live set, so the
   * end of the history would find no one owing anything), else at the end.
   */
  judgeMissing(model: Model, duties: DeliveryDuties): void {
    const ctx = this.ctx;
    const missing: Messages['missing'] = {message: [], peer: []};
    // As the delivered checker judges: live peers whose present process has started, what they owe and lack.
    for (const peer of model.live()) {
      if (!model.view(peer)?.current) continue;
      const index = ctx.index.get(peer)!;
      duties.owed(model, peer, (k) => {
        missing.message.push(k);
        missing.peer.push(index);
      });
    }
    this.#missing = missing;
  }

  /** `model`: the model after the whole history; `duties`: the delivered checker's, folded over it. */
  done(model: Model, duties: DeliveryDuties, missingAtAwait: Messages['missingAtAwait']): Messages {
    const ctx = this.ctx;
    const sends = duties.sends;
    const sent: Messages['sent'] = {id: [], sender: [], t: []};
    for (const s of sends) {
      sent.id.push(s.id);
      sent.sender.push(ctx.index.get(s.sender) ?? -1);
      sent.t.push(relative(ctx, s.t));
    }
    if (!this.#missing) this.judgeMissing(model, duties);
    const missing = this.#missing!;
    const unsent = this.chat.unsent().map((u) => ({id: u.id, peer: ctx.index.get(u.peer)!, t: relative(ctx, u.t)}));
    return {
      sent,
      deliveries: {message: this.#trim(this.#message), peer: this.#trim(this.#peer), t: this.#trim(this.#t), flag: this.#trim(this.#flag)},
      missing,
      missingAtAwait,
      unsent,
      latency: this.#latencyBuckets(),
    };
  }

  /** Deliveries of ids never sent have no row: the columns end where the rows do. */
  #trim(column: number[]): number[] {
    column.length = this.#rows;
    return column;
  }

  #latencyBuckets(): Messages['latency'] {
    const bucketMs = bucketWidth(this.ctx.end, 200);
    const n = Math.floor(Math.max(0, this.ctx.end) / bucketMs) + 1;
    const counts = new Int32Array(n);
    const bucketOf = (t: number) => Math.min(n - 1, Math.max(0, Math.floor(t / bucketMs)));
    const latency = this.#latency;
    const times = this.#t;
    const rows = this.#rows;
    for (let i = 0; i < rows; i++) if (!Number.isNaN(latency[i])) counts[bucketOf(times[i]!)]!++;
    // Each bucket's latencies side by side in one typed array, sorted per bucket natively.
    const start = new Int32Array(n + 1);
    for (let b = 0; b < n; b++) start[b + 1] = start[b]! + counts[b]!;
    const all = new Float64Array(start[n]!);
    const fill = start.slice(0, n);
    for (let i = 0; i < rows; i++) {
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
      // The ranks percentileOfSorted reads, found by selection: sorting every bucket cost more than the rest of the section.
      const values = all.subarray(start[b], start[b + 1]);
      const rank = (p: number) => Math.min(values.length - 1, Math.max(0, Math.ceil((p / 100) * values.length) - 1));
      max.push(kthSmallest(values, values.length - 1));
      p99.push(kthSmallest(values, rank(99)));
      p50.push(kthSmallest(values, rank(50)));
    }
    return {bucketMs, p50, p99, max};
  }
}
