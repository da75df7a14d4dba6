/**
 * `delivered`: every message sent so far was delivered exactly once by every
 * peer that is live now and was live (in its current process) when the
 * message was sent; nothing was delivered that was never sent; each sender's
 * stream reached each peer in order. Deliveries are counted per process:
 * since the peer's last `peer.started`.
 *
 * Partitions: a message is only expected where it can be. While links are
 * blocked it is expected on its sender's side, and on every side that has
 * since shared a side with a peer holding it (reach.ts): the other sides of
 * a partition are not expected to have it until a heal brings them together.
 * A message sent before the sides parted, and not yet delivered everywhere
 * it was due then, is expected on the sides of those that had it.
 */
import type {HistoryEvent, Verdict} from './history/types.js';
import {isEvent} from './history/types.js';
import type {ChatFold, ChatMessage, ChatProcess, Effect, SentMessage, Window} from './model.js';
import {Model, chatAt, coordinatorPeer, evidence, formatTime, isSideFault, list, parseChatId, peerOf, sidesText} from './model.js';
import type {Carried} from './reach.js';
import {MessageReach} from './reach.js';
import {percentileOfSorted} from './stats.js';

/** Delivery latencies (delivery t − sent t) over every first delivery, per process, to a peer other than the sender. */
export function latencyFigures(chat: ChatFold): Record<string, number> {
  // A typed array sorts numbers natively: a million latencies sort several times faster than through a comparator.
  const latencies = new Float64Array(chat.deliveries - chat.extraDeliveries);
  let n = 0;
  for (const m of chat.messages.values()) {
    const sent = m.sent;
    if (!sent) continue;
    for (const [p, record] of m.deliveries) if (p.peer !== sent.sender) latencies[n++] = record.t - sent.t;
  }
  const figures: Record<string, number> = {messages: chat.sent.size};
  if (n === 0) return figures;
  const sorted = latencies.subarray(0, n).sort();
  figures.latency_p50_ms = percentileOfSorted(sorted, 50);
  figures.latency_p99_ms = percentileOfSorted(sorted, 99);
  figures.latency_max_ms = sorted[n - 1]!;
  return figures;
}

function streamOf(id: string): string {
  return parseChatId(id).stream;
}

/** The sender's name: the id up to its first colon. */
function senderOf(id: string): string {
  const cut = id.indexOf(':');
  return cut >= 0 ? id.slice(0, cut) : id;
}

/** The events that explain a delivery problem of `peer` with `id`: its process starts, its chat events on the stream, the send, the partitions. */
function chatEvidence(history: readonly HistoryEvent[], at: number, peer: string, id: string): string[] {
  const stream = `${streamOf(id)}:`;
  const sender = senderOf(id);
  return evidence(history, at, (e) => {
    if (isEvent(e, 'fault')) return isSideFault(e);
    if (isEvent(e, 'chat.sent') || isEvent(e, 'chat.delivered')) {
      const other = e.data.id;
      if (other === id) return true;
      return e.src === `peer:${peer}` && other.startsWith(stream);
    }
    if (e.src === `peer:${peer}`) return e.type === 'peer.started';
    const about = coordinatorPeer(e);
    return (about === peer || about === sender) && e.type.startsWith('peer.');
  });
}

function times(n: number): string {
  return n === 2 ? 'twice' : `${n} times`;
}

/**
 * The sends (by index) that a peer's current process, by spawn, must deliver,
 * as runs of indices: `[start, end)` pairs in increasing order. Sends come in
 * index order, so a run mostly just grows: a million required deliveries cost
 * a few numbers, not a list of ids.
 */
interface Required {
  generation: number;
  runs: number[];
  /** The first run (its index in `runs`) that may hold sends a split has not looked at yet. */
  scan: number;
}

function addSend(runs: number[], index: number): void {
  if (runs.length > 0 && runs[runs.length - 1] === index) runs[runs.length - 1] = index + 1;
  else runs.push(index, index + 1);
}

/**
 * Of the required sends, how many are due and how many the process did not
 * deliver, and the first of those in order of sending; with `expects`, a send
 * it says no to is not due yet (it has not reached the peer's side), and is
 * counted as `apart`.
 */
function deliveriesDue(
  messages: readonly ChatMessage[],
  runs: readonly number[],
  has: (index: number) => boolean,
  expects: ((id: string) => boolean) | undefined,
  each?: (index: number) => void,
): {due: number; missing: number; first: string | undefined; apart: number} {
  let due = 0;
  let missing = 0;
  let apart = 0;
  let first: string | undefined;
  for (let i = 0; i < runs.length; i += 2) {
    for (let k = runs[i]!; k < runs[i + 1]!; k++) {
      if (has(k)) {
        due++;
        continue;
      }
      const m = messages[k]!;
      if (expects && !expects(m.id)) {
        apart++;
        continue;
      }
      due++;
      missing++;
      first ??= m.id;
      each?.(k);
    }
  }
  return {due, missing, first, apart};
}

/** At a send: every live peer that was already live when it was sent must deliver it. */
function requireOfLive(model: Model, required: Map<string, Required>, sent: SentMessage): void {
  for (const peer of model.liveNames()) {
    // Entered the live set after the send (a late joiner, a resumed peer): not required to get it.
    if (model.liveSince(peer) > sent.t) continue;
    const generation = model.generation(peer);
    let r = required.get(peer);
    if (!r || r.generation !== generation) {
      r = {generation, runs: [], scan: 0};
      required.set(peer, r);
    }
    addSend(r.runs, sent.index);
  }
}

/**
 * The chat process of each peer's current process by spawn, as the model has
 * it now: the one its last `peer.started` began (none while a respawned peer
 * has not started yet; the one before any start, for a peer never started).
 */
function currentChatProcess(chat: ChatFold): (model: Model, peer: string) => ChatProcess | undefined {
  let byPeer: Map<string, Map<number, ChatProcess>> | undefined;
  return (model, peer) => {
    if (!byPeer) {
      byPeer = new Map();
      for (const p of chat.processes) {
        let own = byPeer.get(p.peer);
        if (!own) byPeer.set(p.peer, (own = new Map()));
        own.set(p.index, p);
      }
    }
    const view = model.view(peer);
    if (!view?.started) return byPeer.get(peer)?.get(0);
    return view.current ? byPeer.get(peer)?.get(view.starts) : undefined;
  };
}

/**
 * At a change that splits the live set: the sends from index `from` on, not
 * tracked yet, that some process required to deliver them had not delivered
 * by `t`, each with who had it then: its sender, if still the process that
 * sent it, and every peer whose current process delivered it. Each send is
 * looked at by one split only (the caller moves `from` on), so this stays
 * linear; a send delivered everywhere by then is never tracked.
 */
function carriedAt(
  model: Model,
  t: number,
  from: number,
  required: ReadonlyMap<string, Required>,
  messages: readonly ChatMessage[],
  senderGenerations: readonly number[],
  reach: MessageReach,
  processOf: (model: Model, peer: string) => ChatProcess | undefined,
): Carried[] {
  const pending = new Set<number>();
  for (const [peer, r] of required) {
    if (r.generation !== model.generation(peer) || !model.isRunning(peer)) continue;
    const runs = r.runs;
    while (r.scan < runs.length && runs[r.scan + 1]! <= from) r.scan += 2;
    const process = processOf(model, peer);
    for (let i = r.scan; i < runs.length; i += 2) {
      for (let k = Math.max(runs[i]!, from); k < runs[i + 1]!; k++) {
        if (pending.has(k)) continue;
        const m = messages[k]!;
        const record = process ? m.deliveries.get(process) : undefined;
        if ((!record || record.t > t) && !reach.tracks(m.id)) pending.add(k);
      }
    }
  }
  const carried: Carried[] = [];
  for (const k of [...pending].sort((a, b) => a - b)) {
    const m = messages[k]!;
    const sent = m.sent!;
    const holders = new Set<string>();
    if (model.generation(sent.sender) === senderGenerations[k] && model.isRunning(sent.sender)) holders.add(sent.sender);
    for (const [p, record] of m.deliveries) if (record.t <= t && model.isRunning(p.peer) && processOf(model, p.peer) === p) holders.add(p.peer);
    carried.push({sent, holders: [...holders].sort()});
  }
  return carried;
}

/** Where a message tracked for a partition was sent or held when the sides parted, and since when `peer` shares a side with a holder of it. */
function partitionNote(model: Model, reach: MessageReach, peer: string, id: string): string {
  const about = reach.about(model, peer, id);
  if (!about) return '';
  const since = about.since !== undefined ? `; ${peer} has shared a side with a holder of it since ${formatTime(about.since)}` : '';
  if (about.parted !== undefined) return `, before a partition at ${formatTime(about.parted)}, when ${about.side.length > 0 ? `only ${list(about.side)} held it` : 'no running process held it'}${since}`;
  return ` on its side of a partition ${list(about.side)}${since}`;
}

/** Deliveries not expected (yet): held only on other sides of a partition, and no holder has shared a side with the peers since. */
function apartNote(model: Model, reach: MessageReach, apart: number, peers: readonly string[]): string {
  if (apart === 0) return '';
  const sides = model.components().length > 1 ? ` (sides ${sidesText(model)})` : '';
  const where = reach.everCarried ? 'held only on another side of a partition (sent there, or before it and not across when the sides parted)' : 'sent on another side of a partition';
  return `; ${apart} more not expected at ${list(peers)}: ${where}, and none of their holders has shared a side with ${peers.length === 1 ? 'it' : 'them'} since${sides}`;
}

/**
 * Who must deliver what, folded one event at a time: per peer, the sends its
 * current process (by spawn) must deliver, and which of them a partition
 * keeps from it (reach.ts). `delivered` judges from its state at the window's
 * end; the report folds it beside its own model to show the same missing
 * deliveries the verdict counts.
 */
export class DeliveryDuties {
  /** The sends, in order of sending: their indices are the ones `missing` reports. */
  readonly sends: SentMessage[];
  readonly messages: ChatMessage[];
  /** Per peer: the messages its current process (by spawn) must deliver. */
  readonly #required = new Map<string, Required>();
  /** Of the messages sent during a partition, who can have them. */
  readonly reach = new MessageReach();
  /** Per send (by index): the sender's generation when it sent it, to know whether its process still holds it. */
  readonly #senderGenerations: number[] = [];
  readonly #processOf: (model: Model, peer: string) => ChatProcess | undefined;
  /** Sends before this index have been looked at by a split (reach.ts: carried). */
  #looked = 0;
  #next = 0;
  /** Per current process: the sends it delivered, as bits (made when first asked; the fold is whole by then). */
  #delivered: Map<ChatProcess, Uint8Array> | undefined;

  /** `chat`: the fold of the whole prefix the duties are folded over (its sends are matched by event). */
  constructor(readonly chat: ChatFold) {
    this.sends = [...chat.sent.values()];
    this.messages = this.sends.map((sent) => chat.messages.get(sent.id)!);
    this.#processOf = currentChatProcess(chat);
  }

  /** Call with every event of the prefix, in order, right after `model.apply(e)` returned `effect`. */
  apply(model: Model, e: HistoryEvent, effect: Effect | undefined): void {
    // A respawn is a new process even when the live set stays the same: what the old one held is gone.
    if (effect && (effect.liveChanged || effect.reachChanged || e.type === 'peer.spawn')) {
      let carried: Carried[] = [];
      if (this.#looked < this.#next && model.hasBlockedLinks() && model.components().length > 1) {
        carried = carriedAt(model, e.t, this.#looked, this.#required, this.messages, this.#senderGenerations, this.reach, this.#processOf);
        this.#looked = this.#next;
      }
      this.reach.changed(model, e.t, carried);
    } else if (this.reach.open && isEvent(e, 'chat.delivered')) {
      const peer = peerOf(e.src);
      if (peer !== undefined) this.reach.delivered(model, peer, e.data.id, e.t);
    }
    const sent = this.sends[this.#next];
    if (e !== sent?.event) return;
    this.#senderGenerations.push(model.generation(sent.sender));
    requireOfLive(model, this.#required, sent);
    this.reach.sent(model, sent);
    this.#next++;
  }

  /**
   * What a live peer's current process owes now: due and missing counts, the
   * first missing id, the sends a partition keeps from it (`apart`), and with
   * `each`, every missing send's index in `sends`. Undefined when it owes
   * nothing (nothing required of its present process).
   */
  owed(model: Model, peer: string, each?: (index: number) => void): {due: number; missing: number; first: string | undefined; apart: number} | undefined {
    const r = this.#required.get(peer);
    if (!r || r.generation !== model.generation(peer)) return undefined;
    const expects = this.reach.everTracked ? (id: string) => this.reach.expects(model, peer, id) : undefined;
    const process = this.chat.current.get(peer);
    const bits = process && this.#deliveredBy(process);
    const has = bits ? (k: number) => (bits[k >>> 3]! & (1 << (k & 7))) !== 0 : () => false;
    return deliveriesDue(this.messages, r.runs, has, expects, each);
  }

  /**
   * Which sends each current process delivered, as bits by send index, made
   * in one pass over the messages the first time one is asked for. Asking
   * each message's delivery map about one process, peer after peer, read
   * every map once per peer: with 50 peers and a million deliveries that
   * was most of the checker's time, where one pass reads each map once.
   */
  #deliveredBy(process: ChatProcess): Uint8Array | undefined {
    if (!this.#delivered) {
      const slots = new Map<ChatProcess, Uint8Array>();
      const bytes = (this.messages.length + 7) >>> 3;
      for (const p of this.chat.current.values()) slots.set(p, new Uint8Array(bytes));
      for (let k = 0; k < this.messages.length; k++) {
        for (const p of this.messages[k]!.deliveries.keys()) {
          const bits = slots.get(p);
          if (bits) bits[k >>> 3] = bits[k >>> 3]! | (1 << (k & 7));
        }
      }
      this.#delivered = slots;
    }
    return this.#delivered.get(process);
  }
}

export function delivered(history: readonly HistoryEvent[], window: Window): Verdict {
  // The chat fold is shared with the invariants; this pass only replays the live set, to know who was live at each send.
  const chat = chatAt(history, window.at);
  const model = new Model();
  const duties = new DeliveryDuties(chat);
  const reach = duties.reach;
  for (const e of history) {
    if (e.t > window.at) continue;
    duties.apply(model, e, model.apply(e));
  }
  const at = window.at;
  const figures = latencyFigures(chat);
  const problems: string[] = [];
  let firstEvidence: string[] | undefined;
  const note = (message: string, peer: string, id: string) => {
    problems.push(message);
    firstEvidence ??= chatEvidence(history, at, peer, id);
  };

  const unsent = chat.unsent();
  for (const u of unsent) note(`${u.peer}: ${u.id} never sent (delivered at ${formatTime(u.t)})`, u.peer, u.id);
  for (const d of chat.duplicates) note(`${d.peer}: ${d.id} delivered ${times(chat.deliveryOf(d.process, d.id)?.count ?? 2)}`, d.peer, d.id);
  for (const o of chat.outOfOrder) note(`${o.peer}: ${o.id} out of order: got seq ${o.seq} after ${o.after}`, o.peer, o.id);
  figures.unsent = unsent.length;
  figures.duplicates = chat.extraDeliveries;
  figures.out_of_order = chat.outOfOrder.length;

  const live = model.live();
  const notStarted = live.filter((p) => !model.view(p)?.current);
  let missing = 0;
  let expected = 0;
  let firstMissing: string | undefined;
  let missingPeers = 0;
  let apart = 0;
  const apartPeers: string[] = [];
  for (const peer of live) {
    if (notStarted.includes(peer)) continue;
    const due = duties.owed(model, peer);
    if (!due) continue;
    const {missing: missingHere, first} = due;
    expected += due.due;
    if (due.apart > 0) {
      apart += due.apart;
      apartPeers.push(peer);
    }
    if (first !== undefined) {
      missing += missingHere;
      missingPeers++;
      const sent = chat.sent.get(first);
      const message = `${peer}: ${first} missing (sent by ${sent?.sender ?? senderOf(first)} at ${sent ? formatTime(sent.t) : '?'}${partitionNote(model, reach, peer, first)}${missingHere > 1 ? `; ${missingHere} messages missing at ${peer}` : ''})`;
      firstMissing ??= message;
      if (problems.length === 0) firstEvidence ??= chatEvidence(history, at, peer, first);
    }
  }
  figures.missing = missing;
  if (reach.everTracked) figures.not_yet_across_partition = apart;

  const summary = (first: string, count: number) => (count > 1 ? `${first} (and ${count - 1} more ${count === 2 ? 'problem' : 'problems'})` : first);
  if (problems.length > 0) {
    const count = problems.length + missingPeers;
    return {status: 'fail', message: summary(problems[0]!, count), figures, ...(firstEvidence ? {evidence: firstEvidence} : {})};
  }
  if (notStarted.length > 0) {
    const who = notStarted[0]!;
    const why = model.view(who)?.started ? 'has not started again since it was respawned' : 'never started (no peer.started from it)';
    return {
      status: 'unknown',
      message: `${who} is live but ${why}, so what it delivered is not known`,
      figures,
      evidence: evidence(history, at, (e) => (e.src === `peer:${who}` ? e.type === 'peer.started' : coordinatorPeer(e) === who)),
    };
  }
  if (firstMissing) return {status: 'fail', message: summary(firstMissing, missingPeers), figures, ...(firstEvidence ? {evidence: firstEvidence} : {})};
  const n = chat.sent.size;
  return {
    status: 'pass',
    message: `${n} ${n === 1 ? 'message' : 'messages'}, ${expected} expected ${expected === 1 ? 'delivery' : 'deliveries'} to ${list(live)}, each exactly once and in order${apartNote(model, reach, apart, apartPeers)}`,
    figures,
  };
}
