/**
 * `causal`: every process delivered each message only after everything that
 * happened before its send, as the history recorded it. Opt-in (a scenario
 * lists `invariants: [causal]`).
 *
 * Happens-before is built from each sender's own events, never from the
 * message's `deps`: a process is one peer between two `peer.started`, and
 * when it sends m, m's checker-side predecessors are its frontier then: its
 * own previous send and what it delivered since, less what those already
 * imply. The closure of these predecessor sets is happens-before. Only the
 * order of one source's events is trusted (a delivery may reach the history
 * before its send), so a first pass computes every message's predecessors
 * and a second judges every delivery: each direct predecessor must be
 * delivered already in the receiving process. That finds every violation (a
 * cause missing further back is missing directly at some earlier delivery of
 * the chain) and costs the sum of the predecessor sets over the deliveries:
 * linear while frontiers stay bounded. Ids are interned to integers and each
 * process's deliveries kept as bits, so a million events check in a fraction
 * of the time it takes to parse them.
 *
 * Also flagged: a message delivered twice by one process, one delivered but
 * never sent, an id sent twice or an actor (`sender:epoch`) sending from two
 * processes, an actor's sends not numbered 1, 2, 3, …, a `deps` entry (or
 * `reply_to`, with or without `deps`) the sender had not delivered or sent,
 * and a message still missing at a live peer at the end of the run (judged
 * only when the network is whole and has been quiet for a while: see
 * `lostJudgement`; one that no correct peer could still deliver is
 * undeliverable, not lost: see `lostAt`).
 */
import type {HistoryEvent, HistoryEventOf, Verdict} from './history/types.js';
import {isEvent} from './history/types.js';
import {timingAt} from './bound.js';
import {DeliveryDuties} from './delivered.js';
import type {ChatProcess} from './model.js';
import {Model, chatAt, coordinatorPeer, evidence, formatTime, isSideFault, parseChatId, peerOf} from './model.js';
import {deliveryModelMs} from './swim-model.js';

/** The quiet window after the last send, fault or spawn before lost messages are judged: this many times the delivery model… */
export const QUIET_MULTIPLE = 3;
/** …and never less than this; also the window when no peer reported its timing. */
export const QUIET_FLOOR_MS = 2000;
/** How far back the explanation of a violation walks its chain of missing causes. */
const MAX_CHAIN = 12;

/** A growable array of 32-bit integers. */
class Ints {
  a: Int32Array;
  n = 0;
  constructor(capacity = 1024) {
    this.a = new Int32Array(capacity);
  }
  push(v: number): void {
    if (this.n === this.a.length) this.#grow(this.n + 1);
    this.a[this.n++] = v;
  }
  /** Sets index `i`, growing as needed. */
  set(i: number, v: number): void {
    if (i >= this.a.length) this.#grow(i + 1);
    this.a[i] = v;
  }
  #grow(min: number): void {
    let size = this.a.length * 2;
    while (size < min) size *= 2;
    const next = new Int32Array(size);
    next.set(this.a);
    this.a = next;
  }
}

/** One process of one peer: its events from one `peer.started` to the next (those before any, a process of their own). */
interface Process {
  peer: string;
  src: string;
  /** Its frontier: own last send and what it delivered since (pass 1). */
  frontier: number[];
  /** The frontier's length when last reduced. */
  reducedTo: number;
  /** What it delivered or sent so far, as bits by message number (pass 2). */
  has: Uint32Array | undefined;
}

const SENT = 0;
const DELIVERED = 1;

interface First {
  text: string;
  evidence: () => string[];
}

/** What the two passes found. */
interface Findings {
  messages: number;
  deliveries: number;
  held: number;
  maxFrontier: number;
  counts: {violations: number; phantoms: number; duplicates: number; reused: number; gaps: number; bogus: number};
  /** Where the coordinator's events and the sends are in the history, for judging the end without another pass over it. */
  coordinatorAt: number[];
  sendsAt: number[];
  /** The latest `peer.started` that reported the peer's timing (-1: none). */
  timingAt: number;
  first: {violations?: First; phantoms?: First; duplicates?: First; reused?: First; gaps?: First; bogus?: First};
  /** Each message's checker-side predecessors (pass 1), by interned id, for judging what can still be delivered. */
  graph: CausalGraph;
}

/** Happens-before as pass 1 built it: message k's direct causes are `pool[predStart[k] .. predStart[k] + predLen[k])`. */
interface CausalGraph {
  ids: ReadonlyMap<string, number>;
  names: readonly string[];
  sendAt: Ints;
  sendProc: Ints;
  processes: readonly Process[];
  /** Each source's latest process. */
  bySrc: ReadonlyMap<string, number>;
  predStart: Ints;
  predLen: Ints;
  pool: Ints;
}

function chatEvidence(history: readonly HistoryEvent[], relevant: (e: HistoryEvent) => boolean, max = 8): string[] {
  return evidence(history, Infinity, relevant, max);
}

function idOf(e: HistoryEvent): string | undefined {
  return isEvent(e, 'chat.sent') || isEvent(e, 'chat.delivered') ? e.data.id : undefined;
}

/** The two passes over the history; the verdict is written from what they find. */
function findings(history: readonly HistoryEvent[]): Findings {
  // ------------------------------------------------------------ pass 1: predecessors, from each sender's own order
  const ids = new Map<string, number>();
  const names: string[] = [];
  /** Per message: the chat event (its position in `chat*`) of its first send, -1 while none. */
  const sendAt = new Ints();
  const sendProc = new Ints();
  const predStart = new Ints();
  const predLen = new Ints();
  const pool = new Ints(1 << 16);
  /** Marks for reducing a frontier, one slot per message. */
  const mark = new Ints();
  let stamp = 0;
  const intern = (id: string): number => {
    let k = ids.get(id);
    if (k === undefined) {
      k = names.length;
      ids.set(id, k);
      names.push(id);
      sendAt.set(k, -1);
      sendProc.set(k, -1);
      predStart.set(k, 0);
      predLen.set(k, 0);
      mark.set(k, 0);
    }
    return k;
  };

  /**
   * A frontier less what its members' own causes already imply (those whose
   * send the history has shown so far), each once, in order, without `self`
   * (a message a broken peer delivered before sending it is no cause of
   * itself). The closure stays the same, so nothing is lost for the check.
   */
  const reduce = (frontier: readonly number[], self: number): number[] => {
    const m = mark.a;
    stamp++;
    for (const x of frontier) m[x] = stamp;
    for (const x of frontier) {
      // A member already implied by another implies nothing more here: two messages never remove each other.
      if (m[x] !== stamp || sendAt.a[x]! < 0) continue;
      const end = predStart.a[x]! + predLen.a[x]!;
      for (let q = predStart.a[x]!; q < end; q++) {
        const y = pool.a[q]!;
        if (y !== x && m[y] === stamp) m[y] = -stamp;
      }
    }
    if (self >= 0) m[self] = -stamp;
    const out: number[] = [];
    for (const x of frontier) {
      if (m[x] !== stamp) continue;
      out.push(x);
      m[x] = 0;
    }
    return out;
  };

  const processes: Process[] = [];
  const bySrc = new Map<string, number>();
  const processOf = (src: string): number => {
    let p = bySrc.get(src);
    if (p === undefined) {
      p = processes.length;
      processes.push({peer: peerOf(src) ?? src, src, frontier: [], reducedTo: 0, has: undefined});
      bySrc.set(src, p);
    }
    return p;
  };
  /** The chat events, in history order: which (history index), what (sent/delivered), by which process, of which message. */
  const chatIndex = new Ints(1 << 16);
  const chatKind = new Ints(1 << 16);
  const chatProc = new Ints(1 << 16);
  const chatMsg = new Ints(1 << 16);
  /** Per actor (`sender:epoch`): the process that sent its first message and the last seq. */
  const actors = new Map<string, {process: number; last: number}>();
  let held = 0;
  let maxFrontier = 0;
  const counts = {violations: 0, phantoms: 0, duplicates: 0, reused: 0, gaps: 0, bogus: 0};
  const first: Findings['first'] = {};

  const coordinatorAt: number[] = [];
  const sendsAt: number[] = [];
  let timingIndex = -1;
  for (let i = 0; i < history.length; i++) {
    const e = history[i]!;
    const src = e.src;
    if (src === 'coordinator') {
      coordinatorAt.push(i);
      continue;
    }
    const type = e.type;
    if (type === 'chat.delivered') {
      const d = (e as HistoryEventOf<'chat.delivered'>).data;
      const k = intern(d.id);
      const p = processOf(src);
      const process = processes[p]!;
      process.frontier.push(k);
      // A process that delivers much and sends little: its frontier is reduced as it grows, not only at its next send.
      if (process.frontier.length >= process.reducedTo * 2 + 1024) {
        process.frontier = reduce(process.frontier, -1);
        process.reducedTo = process.frontier.length;
      }
      chatIndex.push(i);
      chatKind.push(DELIVERED);
      chatProc.push(p);
      chatMsg.push(k);
    } else if (type === 'chat.sent') {
      const d = (e as HistoryEventOf<'chat.sent'>).data;
      const k = intern(d.id);
      const p = processOf(src);
      const process = processes[p]!;
      const position = chatIndex.n;
      sendsAt.push(i);
      chatIndex.push(i);
      chatKind.push(SENT);
      chatProc.push(p);
      chatMsg.push(k);
      const {stream, seq} = parseChatId(d.id, d.seq);
      const actor = actors.get(stream);
      if (sendAt.a[k]! >= 0 || (actor !== undefined && actor.process !== p)) {
        counts.reused++;
        if (!first.reused) {
          const again = sendAt.a[k]! >= 0;
          const before = again ? processes[sendProc.a[k]!]! : processes[actor!.process]!;
          const where = before === process ? 'by the same process' : `by a new process of ${process.peer}`;
          first.reused = {
            text: again ? `${d.id} was sent twice (again ${where} at ${formatTime(e.t)})` : `actor ${stream} sent ${d.id} from a second process (${process.peer} restarted under the same epoch)`,
            evidence: () => chatEvidence(history, (x) => (x.src === src || x.src === before.src) && (x.type === 'peer.started' || (isEvent(x, 'chat.sent') && x.data.id.startsWith(`${stream}:`)))),
          };
        }
        // A message sent again keeps the causes of its first send; this process has it from now on.
        process.frontier.push(k);
        continue;
      }
      if (actor === undefined) actors.set(stream, {process: p, last: seq ?? 0});
      if (seq !== undefined) {
        const last = actor?.last ?? 0;
        if (seq !== last + 1) {
          counts.gaps++;
          first.gaps ??= {
            text: last === 0 ? `actor ${stream}'s first message ${d.id} has seq ${seq}, not 1` : `actor ${stream} sent seq ${seq} after seq ${last} (${d.id})`,
            evidence: () => chatEvidence(history, (x) => x.src === src && (x.type === 'peer.started' || (isEvent(x, 'chat.sent') && x.data.id.startsWith(`${stream}:`)))),
          };
        }
        if (actor) actor.last = seq;
      }
      const causes = reduce(process.frontier, k);
      const start = pool.n;
      for (const x of causes) pool.push(x);
      sendAt.a[k] = position;
      sendProc.a[k] = p;
      predStart.a[k] = start;
      predLen.a[k] = pool.n - start;
      if (pool.n - start > maxFrontier) maxFrontier = pool.n - start;
      process.frontier = [k];
      process.reducedTo = 0;
    } else if (type === 'chat.held') {
      held++;
    } else if (type === 'peer.started') {
      bySrc.delete(src);
      processOf(src);
      if ((e as HistoryEventOf<'peer.started'>).data.timing !== undefined) timingIndex = i;
    }
  }

  // ------------------------------------------------------------ pass 2: each delivery after its causes
  const words = (names.length + 31) >>> 5;
  const hasOf = (p: number): Uint32Array => {
    const process = processes[p]!;
    return (process.has ??= new Uint32Array(words));
  };
  /** The sender delivered its own message: the first such delivery after the send is no duplicate. */
  const ownDelivered = new Uint8Array(names.length);
  /** Processes that sent an id again (process × ids + message): their own delivery of it is no duplicate either. */
  const resent = new Set<number>();
  let deliveries = 0;
  let messages = 0;
  for (let j = 0; j < chatIndex.n; j++) {
    const p = chatProc.a[j]!;
    const k = chatMsg.a[j]!;
    const has = hasOf(p);
    const bit = 1 << (k & 31);
    const word = k >>> 5;
    if (chatKind.a[j] === SENT) {
      if (sendAt.a[k] === j) messages++;
      else if (sendProc.a[k] !== p) resent.add(p * names.length + k);
      const e = history[chatIndex.a[j]!] as HistoryEventOf<'chat.sent'>;
      const {deps, reply_to: replyTo} = e.data;
      // `reply_to` is a claimed cause of its own, checked with or without `deps`.
      const claimed = replyTo === undefined || deps?.includes(replyTo) === true ? deps : [...(deps ?? []), replyTo];
      if (claimed !== undefined) {
        for (const dep of claimed) {
          const d = ids.get(dep);
          if (d !== undefined && (has[d >>> 5]! & (1 << (d & 31))) !== 0) continue;
          counts.bogus++;
          if (!first.bogus) {
            const peer = processes[p]!.peer;
            const src = processes[p]!.src;
            const what = dep === replyTo && deps?.includes(dep) !== true ? 'as the message it replies to' : 'as a dependency';
            first.bogus = {
              text: `${peer} sent ${e.data.id} naming ${dep} ${what}, which it had not delivered or sent`,
              evidence: () => chatEvidence(history, (x) => (x.src === src && x.type === 'peer.started') || idOf(x) === e.data.id || idOf(x) === dep),
            };
          }
        }
      }
      has[word] = has[word]! | bit;
      continue;
    }
    deliveries++;
    if ((has[word]! & bit) !== 0) {
      if (sendProc.a[k] === p && ownDelivered[k] === 0) {
        ownDelivered[k] = 1;
        continue;
      }
      if (resent.delete(p * names.length + k)) continue;
      counts.duplicates++;
      if (!first.duplicates) {
        const {peer, src} = processes[p]!;
        const id = names[k]!;
        first.duplicates = {
          text: `${peer} delivered ${id} twice (again at ${formatTime(history[chatIndex.a[j]!]!.t)})`,
          evidence: () => chatEvidence(history, (x) => (x.src === src && (x.type === 'peer.started' || idOf(x) === id)) || (isEvent(x, 'chat.sent') && x.data.id === id)),
        };
      }
      continue;
    }
    if (sendProc.a[k] === p) ownDelivered[k] = 1;
    has[word] = has[word]! | bit;
    if (sendAt.a[k]! < 0) {
      counts.phantoms++;
      if (!first.phantoms) {
        const {peer, src} = processes[p]!;
        const id = names[k]!;
        first.phantoms = {
          text: `${peer} delivered ${id} at ${formatTime(history[chatIndex.a[j]!]!.t)}, which was never sent`,
          evidence: () => chatEvidence(history, (x) => idOf(x) === id || (x.src === src && x.type === 'peer.started')),
        };
      }
      continue;
    }
    const end = predStart.a[k]! + predLen.a[k]!;
    for (let q = predStart.a[k]!; q < end; q++) {
      const c = pool.a[q]!;
      // A cause never sent anywhere is a phantom at its sender's process, reported as such, and no receiver's fault.
      if ((has[c >>> 5]! & (1 << (c & 31))) !== 0 || sendAt.a[c]! < 0) continue;
      counts.violations++;
      first.violations ??= explainViolation(history, processes, names, p, j, k, c, has, {sendAt, sendProc, predStart, predLen, pool, chatIndex});
      break;
    }
  }
  return {messages, deliveries, held, maxFrontier, counts, coordinatorAt, sendsAt, timingAt: timingIndex, first, graph: {ids, names, sendAt, sendProc, processes, bySrc, predStart, predLen, pool}};
}

/**
 * A violation in words: `bob delivered c before its cause a; a → b (alice
 * delivered a, then sent b) → c (…)`, walking back from the missing direct
 * cause through causes the receiver had not delivered either, to the
 * earliest; with the events of that chain.
 */
function explainViolation(
  history: readonly HistoryEvent[],
  processes: readonly Process[],
  names: readonly string[],
  receiver: number,
  position: number,
  message: number,
  cause: number,
  has: Uint32Array,
  at: {sendAt: Ints; sendProc: Ints; predStart: Ints; predLen: Ints; pool: Ints; chatIndex: Ints},
): First {
  const missing = (c: number) => (has[c >>> 5]! & (1 << (c & 31))) === 0 && at.sendAt.a[c]! >= 0;
  const chain = [message, cause];
  const seen = new Set(chain);
  let cut = false;
  for (let step = 0; step <= MAX_CHAIN; step++) {
    const last = chain[chain.length - 1]!;
    const end = at.predStart.a[last]! + at.predLen.a[last]!;
    let next: number | undefined;
    for (let q = at.predStart.a[last]!; q < end && next === undefined; q++) {
      const c = at.pool.a[q]!;
      if (!seen.has(c) && missing(c)) next = c;
    }
    if (next === undefined) break;
    // Further back there is more: the message says so rather than walking on.
    if (step === MAX_CHAIN) {
      cut = true;
      break;
    }
    chain.push(next);
    seen.add(next);
  }
  chain.reverse();
  const peerOfProcess = (p: number) => processes[p]!.peer;
  const links = chain.slice(1).map((to, i) => {
    const from = chain[i]!;
    const by = at.sendProc.a[to]!;
    const how = at.sendProc.a[from] === by ? `${peerOfProcess(by)} sent ${names[from]}, then ${names[to]}` : `${peerOfProcess(by)} delivered ${names[from]}, then sent ${names[to]}`;
    return ` → ${names[to]} (${how})`;
  });
  const truncated = cut ? '… ' : '';
  const {peer, src} = processes[receiver]!;
  const text = `${peer} delivered ${names[message]} before its cause ${names[chain[0]!]}; ${truncated}${names[chain[0]!]}${links.join('')}`;
  // The sends along the chain, each link's delivery at the next sender, and what the receiver delivered of it.
  const wanted = new Map<string, Set<string>>();
  for (let i = 0; i < chain.length; i++) {
    const srcs = new Set([src]);
    const next = chain[i + 1];
    if (next !== undefined) srcs.add(processes[at.sendProc.a[next]!]!.src);
    wanted.set(names[chain[i]!]!, srcs);
  }
  const deliveredAt = at.chatIndex.a[position]!;
  return {
    text,
    evidence: () =>
      chatEvidence(
        history.slice(0, deliveredAt + 1),
        (x) => {
          const id = idOf(x);
          if (id === undefined) return false;
          const srcs = wanted.get(id);
          return srcs !== undefined && (x.type === 'chat.sent' || srcs.has(x.src));
        },
        Math.min(2 * chain.length + 1, 12),
      ),
  };
}

/** Why the end of the run is, or is not, a fair moment to call a message lost; and when that end is. */
interface LostJudgement {
  /** The index the run's steps end at: teardown (peers leaving and exiting) is not the run. */
  end: number;
  why?: string;
}

/**
 * Lost is judged at the end of the run's steps (its first `run.stop`, or
 * just after its last `step.end`; the whole history when it has neither),
 * and only when no network fault is in force then and the last send, fault
 * or spawn is at least the quiet window back: `QUIET_MULTIPLE` times the
 * delivery model (two anti-entropy intervals, from the peers' timing), never
 * less than `QUIET_FLOOR_MS`. A message still missing sooner may yet come.
 */
function lostJudgement(history: readonly HistoryEvent[], f: Findings): LostJudgement {
  let stop = Infinity;
  let lastStepEnd = -1;
  let lastStepBegin = -1;
  for (const i of f.coordinatorAt) {
    const e = history[i]!;
    if (isEvent(e, 'run.stop')) stop = Math.min(stop, i + 1);
    else if (isEvent(e, 'step.end')) lastStepEnd = i;
    else if (isEvent(e, 'step.begin')) lastStepBegin = i;
  }
  const end = Math.min(stop, lastStepEnd > lastStepBegin ? lastStepEnd + 1 : history.length, history.length);
  if (end === 0) return {end, why: 'the history is empty'};
  const endT = history[end - 1]!.t;
  let blocked = false;
  let rates = false;
  let lastChange: {t: number; what: string} | undefined;
  for (const i of f.coordinatorAt) {
    if (i >= end) break;
    const e = history[i]!;
    if (isEvent(e, 'fault')) {
      const kind = e.data.kind;
      if (kind === 'partition' || kind === 'isolate' || kind === 'cut') blocked = true;
      else if (kind === 'loss' || kind === 'delay') rates = true;
      else if (kind === 'heal') {
        blocked = (e.data.kept ?? []).length > 0;
        rates = e.data.kept_rates === true;
      }
      if (!lastChange || e.t >= lastChange.t) lastChange = {t: e.t, what: `a ${kind} fault`};
    } else if (isEvent(e, 'peer.spawn') || isEvent(e, 'peer.kill')) {
      if (!lastChange || e.t >= lastChange.t) lastChange = {t: e.t, what: `${e.type} of ${coordinatorPeer(e) ?? '?'}`};
    }
  }
  // The last send before the end (sends are in history order; their times from different peers need not be).
  for (let j = f.sendsAt.length - 1; j >= 0; j--) {
    const i = f.sendsAt[j]!;
    if (i >= end) continue;
    const t = history[i]!.t;
    if (!lastChange || t >= lastChange.t) lastChange = {t, what: 'the last send'};
    break;
  }
  if (blocked) return {end, why: 'links are still blocked at the end of the run'};
  if (rates) return {end, why: 'loss or delay is still in force at the end of the run'};
  // The latest timing a peer reported, found by the pass over the history rather than by another.
  const timing = timingAt(f.timingAt >= 0 ? [history[f.timingAt]!] : []);
  const model = 'timing' in timing ? deliveryModelMs(timing.timing, 0) : undefined;
  const quiet = Math.max(QUIET_FLOOR_MS, model === undefined ? 0 : QUIET_MULTIPLE * model);
  if (lastChange && endT - lastChange.t < quiet) {
    const window = model === undefined ? `${quiet} ms (no peer reported its timing)` : `${quiet} ms (${QUIET_MULTIPLE}x the delivery model's ${model} ms${quiet > QUIET_MULTIPLE * model ? `, or the ${QUIET_FLOOR_MS} ms floor` : ''})`;
    return {end, why: `the run ended ${endT - lastChange.t} ms after ${lastChange.what} at ${formatTime(lastChange.t)}, less than the quiet window of ${window}`};
  }
  return {end};
}

/**
 * Per message, by interned id: -1 when it and all its causes are held by a
 * process still live (so a correct peer can yet get them), else one of them
 * that only processes now gone ever held, a cause before the message itself. A message is looked
 * at once (memo, and an explicit stack so a long chain does not overflow the
 * call stack): linear in the predecessor sets.
 */
function stuckCauses(graph: CausalGraph, heldLive: (k: number) => boolean): (k: number) => number {
  const UNSEEN = -2;
  const OPEN = -3;
  const memo = new Int32Array(graph.names.length).fill(UNSEEN);
  const {sendAt, predStart, predLen, pool} = graph;
  return (root) => {
    if (memo[root] !== UNSEEN) return memo[root] === OPEN ? -1 : memo[root]!;
    const stack = [root];
    const next: number[] = [0];
    memo[root] = OPEN;
    while (stack.length > 0) {
      const top = stack.length - 1;
      const k = stack[top]!;
      const end = sendAt.a[k]! < 0 ? 0 : predLen.a[k]!;
      let pushed = false;
      // A cause found stuck below set memo[k] to it: k is stuck too, and needs no more looking.
      while (memo[k] === OPEN && next[top]! < end) {
        const c = pool.a[predStart.a[k]! + next[top]!]!;
        next[top]!++;
        if (memo[c] === UNSEEN) {
          memo[c] = OPEN;
          stack.push(c);
          next.push(0);
          pushed = true;
          break;
        }
        // OPEN: a cycle, only in a broken history; it blocks nothing here.
        if (memo[c]! >= 0) memo[k] = memo[c]!;
      }
      if (pushed) continue;
      // Its causes first, so the one named is the earliest gone: then the message itself.
      if (memo[k] === OPEN) memo[k] = heldLive(k) ? -1 : k;
      stack.pop();
      next.pop();
      const stuck = memo[k]!;
      if (stuck >= 0 && stack.length > 0) memo[stack[stack.length - 1]!] = stuck;
    }
    return memo[root]!;
  };
}

/**
 * Messages due at a live peer (delivered.ts's duties: sent while it was live
 * in its present process) and missing there at `end`. One that no correct
 * peer can deliver any more is not lost but undeliverable: it, or a cause of
 * it, was only ever held by processes that are gone (killed or restarted)
 * when the run ends, so no one can send it to the peer, and delivering the
 * message without that cause would break causal order.
 */
function lostAt(history: readonly HistoryEvent[], end: number, graph: CausalGraph): {lost: number; undeliverable: number; first?: First; firstUndeliverable?: string} {
  const chat = chatAt(history);
  const model = new Model();
  const duties = new DeliveryDuties(chat);
  for (let i = 0; i < end; i++) {
    const e = history[i]!;
    duties.apply(model, e, model.apply(e));
  }
  const live = new Set<ChatProcess>();
  for (const peer of model.live()) {
    const process = model.view(peer)?.current ? chat.current.get(peer) : undefined;
    if (process) live.add(process);
  }
  // Its sender holds it while still the process that sent it (a history need not show the sender's own delivery).
  const liveSrcs = new Set(model.live().flatMap((peer) => (model.view(peer)?.current ? [`peer:${peer}`] : [])));
  const heldLive = (k: number): boolean => {
    const p = graph.sendProc.a[k]!;
    if (p >= 0) {
      const {src} = graph.processes[p]!;
      if (liveSrcs.has(src) && graph.bySrc.get(src) === p) return true;
    }
    const m = chat.messages.get(graph.names[k]!);
    if (!m) return false;
    for (const process of m.deliveries.keys()) if (live.has(process)) return true;
    return false;
  };
  const stuck = stuckCauses(graph, heldLive);
  let lost = 0;
  let undeliverable = 0;
  let first: First | undefined;
  let firstUndeliverable: string | undefined;
  let undeliverableByCause = false;
  for (const peer of model.live()) {
    // A peer whose present process has not started has delivered nothing it could report.
    if (!model.view(peer)?.current) continue;
    let firstLost: string | undefined;
    let missingHere = 0;
    const owed = duties.owed(model, peer, (index) => {
      const id = duties.messages[index]!.id;
      const k = graph.ids.get(id);
      const cause = k === undefined ? -1 : stuck(k);
      if (cause >= 0) {
        undeliverable++;
        const gone = graph.names[cause]!;
        // An example with a cause says more than one of a message gone itself: the first such, if any.
        if (gone !== id && !undeliverableByCause) {
          undeliverableByCause = true;
          firstUndeliverable = `${id} at ${peer}: its cause ${gone} is held only by processes that are gone`;
        } else firstUndeliverable ??= `${id} at ${peer}: it is held only by processes that are gone`;
        return;
      }
      missingHere++;
      firstLost ??= id;
    });
    if (!owed || firstLost === undefined) continue;
    lost += missingHere;
    const id = firstLost;
    if (first) continue;
    const sent = chat.sent.get(id);
    const stream = `${parseChatId(id).stream}:`;
    const count = missingHere;
    first = {
      text: `${peer} never delivered ${id} (sent by ${sent?.sender ?? '?'} at ${sent ? formatTime(sent.t) : '?'})${count > 1 ? `, one of ${count} messages missing at ${peer}` : ''}`,
      evidence: () =>
        chatEvidence(history.slice(0, end), (x) => {
          if (isSideFault(x)) return true;
          if (x.src === `peer:${peer}`) return x.type === 'peer.started' || (idOf(x)?.startsWith(stream) ?? false);
          return isEvent(x, 'chat.sent') && x.data.id === id;
        }),
    };
  }
  return {lost, undeliverable, ...(first ? {first} : {}), ...(firstUndeliverable !== undefined ? {firstUndeliverable} : {})};
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function causal(history: readonly HistoryEvent[]): Verdict {
  const f = findings(history);
  const judgement = lostJudgement(history, f);
  const lost: ReturnType<typeof lostAt> = judgement.why === undefined ? lostAt(history, judgement.end, f.graph) : {lost: 0, undeliverable: 0};
  const {counts} = f;
  const figures: Record<string, number> = {
    messages: f.messages,
    deliveries: f.deliveries,
    held: f.held,
    violations: counts.violations,
    duplicates: counts.duplicates,
    phantoms: counts.phantoms,
    lost: lost.lost,
    undeliverable: lost.undeliverable,
    reused_ids: counts.reused,
    gaps: counts.gaps,
    bogus_deps: counts.bogus,
    max_frontier: f.maxFrontier,
  };
  const defects: Array<{first: First | undefined; count: number; noun: string}> = [
    {first: f.first.violations, count: counts.violations, noun: 'deliveries before a cause'},
    {first: f.first.phantoms, count: counts.phantoms, noun: 'deliveries of messages never sent'},
    {first: f.first.duplicates, count: counts.duplicates, noun: 'deliveries more than once'},
    {first: f.first.reused, count: counts.reused, noun: 'sends reusing an id or actor'},
    {first: f.first.gaps, count: counts.gaps, noun: 'sequence gaps'},
    {first: f.first.bogus, count: counts.bogus, noun: 'dependencies not delivered by their sender'},
    {first: lost.first, count: lost.lost, noun: 'messages lost'},
  ];
  const found = defects.filter((d) => d.first !== undefined);
  if (found.length > 0) {
    const message = found.map((d) => `${d.first!.text}${d.count > 1 ? ` (${d.count} ${d.noun} in all)` : ''}`).join('; ');
    return {status: 'fail', message, figures, evidence: found[0]!.first!.evidence()};
  }
  const tally = `${plural(f.messages, 'message', 'messages')}, ${plural(f.deliveries, 'delivery', 'deliveries')}`;
  if (f.messages === 0) return {status: 'unknown', message: 'no message was sent: causal order was never put to the test', figures};
  if (f.held === 0) return {status: 'unknown', message: `no message was ever held back: causal order was never put to the test (${tally})`, figures};
  const undeliverable =
    lost.firstUndeliverable === undefined
      ? ''
      : ` (not judged: ${plural(lost.undeliverable, 'message', 'messages')} no correct peer could still deliver, such as ${lost.firstUndeliverable})`;
  const lostNote = judgement.why === undefined ? `nothing lost${undeliverable}` : `lost not judged: ${judgement.why}`;
  return {status: 'pass', message: `${tally}, ${f.held} held back; every delivery came after its causes, once, of a message sent; ${lostNote}`, figures};
}
