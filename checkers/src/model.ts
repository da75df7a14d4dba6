/**
 * Shared folds over a history prefix, for the checkers. Pure: no clock, no
 * I/O; everything here is a function of the events alone.
 *
 * "Up to `at`" means the events with `t <= at`, taken in the order the history
 * holds them (the order they reached the coordinator). Each fold is one pass.
 *
 * Two notions of a peer's process meet here:
 *  - the coordinator's: `peer.spawn` starts a process, `peer.exit` ends it,
 *    `peer.kill` SIGSTOP/SIGCONT pause and resume it;
 *  - the peer's own: `peer.started` says a new process began reporting, and its
 *    view of the group starts again from itself.
 * A peer is *live* when the coordinator has it running, not paused, and it has
 * not left the group (a `member.left` about itself, from itself, in its current
 * process, not undone by a later `member.alive`/`member.joined` about itself).
 *
 * The network, as the coordinator's `fault` events describe it: `partition`,
 * `isolate` and `cut` add directed blocked links (packets from→to dropped),
 * `heal` clears them all but its `kept` links (those another side's faults
 * still cut), in one step; `loss` and `delay` leave every link usable. Two peers
 * are *reachable* when neither direction between them is blocked; a *side* (a
 * connected component) is a set of live peers joined by reachable pairs,
 * transitively. Without network faults every live peer is on one side.
 */
import type {Condition, ContractHistoryEvent, Declared, EventData, FaultKind, HistoryEvent, HistoryEventOf, PeerEventType, Source} from './history/types.js';
import {isContractEvent, isEvent} from './history/types.js';

export type MemberState = 'alive' | 'suspect' | 'dead' | 'left';

/** The span an awaited condition is judged over: it began at `from`, it is judged at `at` (epoch ms). */
export interface Window {
  from: number;
  at: number;
}

/** What a peer has reported of its view of the group. */
export interface PeerView {
  name: string;
  /** The peer has sent `peer.started` at least once. */
  started: boolean;
  /**
   * The view belongs to the process now running: a `peer.started` came after
   * the peer's last `peer.spawn` (or the peer was never spawned and did start).
   */
  current: boolean;
  /** How many `peer.started` events it sent: its processes. */
  starts: number;
  /** Time of its last `peer.started`. */
  startedAt: number | undefined;
  members: Map<string, MemberState>;
  /** The incarnation the view last recorded per member (member.* events and its own `peer.started`). */
  incarnations: Map<string, number>;
  /** When each member entered its present state in this view. */
  since: Map<string, number>;
}

/** Why a peer is or is not in the live set. */
export type Liveness = 'live' | 'never spawned' | 'exited' | 'paused' | 'left';

// ---------------------------------------------------------------- small helpers

/** `peer:bob` → `bob`; the coordinator → undefined. */
export function peerOf(src: Source | string): string | undefined {
  return src.startsWith('peer:') ? src.slice('peer:'.length) : undefined;
}

/** The types of a peer's news of a member: each names it (`name`) and its incarnation. */
export type MemberEventType = Extract<PeerEventType, `member.${string}`>;

/** A peer's `member.*` event of a type the contract lists. */
export function isMemberEvent(e: HistoryEvent): e is HistoryEventOf<MemberEventType> {
  return e.src !== 'coordinator' && e.type.startsWith('member.') && isContractEvent(e);
}

/**
 * The peer a coordinator event is about: `peer` of every coordinator type
 * the contract gives one (optional in a fault and a protocol error);
 * undefined for any other event.
 */
export function coordinatorPeer(e: HistoryEvent): string | undefined {
  if (e.src !== 'coordinator' || !isContractEvent(e)) return undefined;
  switch (e.type) {
    case 'peer.spawn':
    case 'peer.registered':
    case 'peer.exit':
    case 'peer.kill':
    case 'fault':
    case 'command.send':
    case 'command.reply':
    case 'peer.gap':
    case 'protocol.error':
    case 'event.rejected':
      return e.data.peer;
    default:
      return undefined;
  }
}

/** Alive and suspect members are live in a view; dead and left ones are not. */
export function isLiveState(state: MemberState | undefined): boolean {
  return state === 'alive' || state === 'suspect';
}

/** The members a view holds live (alive or suspect), sorted. */
export function liveMembers(view: PeerView | undefined): string[] {
  if (!view) return [];
  const names: string[] = [];
  for (const [name, state] of view.members) if (isLiveState(state)) names.push(name);
  return names.sort();
}

/**
 * Names for a message, in brackets. Past LIST_MAX only the first LIST_SHOWN
 * and a count: a verdict naming all 2,000 peers of a group was a 72 KB line
 * that no one reads; what differs is named in the message beside the list.
 */
export function list(names: readonly string[]): string {
  return `[${some(names)}]`;
}

const LIST_MAX = 20;
const LIST_SHOWN = 10;

/**
 * Up to LIST_MAX items joined by commas; beyond that the first LIST_SHOWN and
 * how many more of how many. `show` words an item, and only those shown.
 */
export function some(items: readonly string[], show: (item: string) => string = (item) => item): string {
  if (items.length <= LIST_MAX) return items.map(show).join(', ');
  return `${items.slice(0, LIST_SHOWN).map(show).join(', ')} and ${count(items.length - LIST_SHOWN)} more of ${count(items.length)}`;
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** The events with `t <= at`, in history order. */
export function eventsUpTo(history: readonly HistoryEvent[], at: number): HistoryEvent[] {
  const out: HistoryEvent[] = [];
  for (const e of history) if (e.t <= at) out.push(e);
  return out;
}

/**
 * The last `max` events with `t <= at` that satisfy `relevant`, oldest first,
 * formatted with describeEvent. Scans backwards, so it stops early.
 */
export function evidence(history: readonly HistoryEvent[], at: number, relevant: (e: HistoryEvent) => boolean, max = 8): string[] {
  const picked: HistoryEvent[] = [];
  for (let i = history.length - 1; i >= 0 && picked.length < max; i--) {
    const e = history[i]!;
    if (e.t <= at && relevant(e)) picked.push(e);
  }
  return picked.reverse().map(describeEvent);
}

/** Events about a peer: its own, the coordinator's about it, and other peers' member events naming it. */
export function concerns(e: HistoryEvent, name: string): boolean {
  // Its traffic counters say nothing of what happened to it, and come every second.
  if (e.src === `peer:${name}`) return e.type !== 'net.counters';
  return coordinatorPeer(e) === name || (isMemberEvent(e) && e.data.name === name);
}

const sideFaultKinds: ReadonlySet<string> = new Set<FaultKind>(['partition', 'isolate', 'cut', 'heal']);

/** A coordinator's `fault` that blocks or heals links, so decides the sides: evidence of where a peer was. */
export function isSideFault(e: HistoryEvent): boolean {
  return e.src === 'coordinator' && isEvent(e, 'fault') && sideFaultKinds.has(e.data.kind);
}

// ---------------------------------------------------------------- describeEvent

/** `HH:MM:SS.mmm` (UTC, as the peers' logs print it). */
export function formatTime(t: number): string {
  // A peer's clock is its own: a time past what Date can hold (±8.64e15 ms) is shown, not thrown on.
  return Number.isFinite(t) && Math.abs(t) <= 8.64e15 ? new Date(t).toISOString().slice(11, 23) : '??:??:??.???';
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function json(value: unknown, max = 80): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return clip(text, max);
}

function conditionText(c: Condition): string {
  switch (c.kind) {
    case 'state':
      return `state ${c.of} is ${c.is} seen by ${Array.isArray(c.seenBy) ? list(c.seenBy) : c.seenBy}`;
    case 'rejoined':
      return `rejoined ${c.of}`;
    default:
      return c.kind;
  }
}

type FaultData = Declared<EventData<'fault'>>;

function linksText(value: FaultData['blocked'] | FaultData['links']): string {
  if (value === 'all') return 'all links';
  const links = faultLinks(value);
  return links.length === 0 ? 'no links' : clip(links.map(([from, to]) => `${from}→${to}`).join(' '), 100);
}

/** `kill bob`, `partition [alice, bob] | [charly]`, `isolate eve`, `cut alice→bob`, `loss 0.2 on all links`, `heal`. */
function faultText(d: FaultData): string {
  const kind: FaultKind = d.kind;
  if (d.peer !== undefined) return `${kind} ${d.peer}`;
  switch (kind) {
    case 'partition': {
      const groups = d.groups ?? [];
      if (groups.length > 0) return clip(`partition ${groups.map((g) => list(g)).join(' | ')}`, 120);
      return `partition ${linksText(d.blocked)}`;
    }
    case 'isolate': {
      const targets = d.targets;
      return targets && targets.length > 0 ? `isolate ${targets.join(', ')}` : `isolate ${linksText(d.blocked)}`;
    }
    case 'cut':
      return `cut ${linksText(d.blocked)}`;
    case 'loss':
      return `loss ${String(d.rate)} on ${linksText(d.links)}`;
    case 'delay':
      return `delay ${String(d.ms)} ms ± ${String(d.jitter ?? 0)} on ${linksText(d.links)}`;
    case 'heal':
      return d.kept && d.kept.length > 0 ? `heal, keeping ${linksText(d.kept)}` : 'heal';
    default:
      return json(d);
  }
}

function details(e: HistoryEvent): string {
  // Fields outside the contract (an older run.end's status and message) read as they came.
  const open: Readonly<Record<string, unknown>> = e.data;
  if (!isContractEvent(e)) {
    // An extension: the contract says nothing of its data.
    if (e.type === 'expect.result') return `${String(open.peer)} ${String(open.status)}${open.message ? `: ${clip(String(open.message), 100)}` : ''}`;
    return Object.keys(open).length > 0 ? json(open) : '';
  }
  return contractDetails(e, open);
}

function contractDetails(e: ContractHistoryEvent, open: Readonly<Record<string, unknown>>): string {
  switch (e.type) {
    case 'member.joined':
      return `${e.data.name} at ${e.data.address}`;
    case 'member.alive':
      return `${e.data.name} (was ${e.data.previous})`;
    case 'member.suspect':
    case 'member.dead':
      return `${e.data.name} (from ${e.data.from})`;
    case 'member.left':
      return e.data.name;
    case 'member.updated':
      return `${e.data.name} (${e.data.reason})`;
    case 'peer.started':
      return e.data.address;
    case 'net.counters':
      return `sent ${e.data.udpOut} datagrams (${e.data.udpOutBytes} B), ${e.data.tcpOut} connections (${e.data.tcpOutBytes} B)`;
    case 'chat.sent':
      return `${e.data.id} ${json(clip(e.data.text, 40))}`;
    case 'chat.delivered':
      return e.data.id;
    case 'peer.spawn':
    case 'peer.registered':
      return e.data.pid !== null ? `${e.data.peer} (pid ${e.data.pid})` : e.data.peer;
    case 'peer.exit': {
      const d = e.data;
      const how = d.signal ? `signal ${d.signal}` : `code ${String(d.code)}`;
      return `${d.peer} (${how}${d.unexpectedly ? ', unexpectedly' : ''})`;
    }
    case 'peer.kill':
      return `${e.data.peer} ${e.data.signal}`;
    case 'fault':
      return faultText(e.data);
    case 'peer.gap':
      return `${e.data.peer} expected ${e.data.expected} got ${e.data.got}`;
    case 'event.rejected': {
      // The peer's event that broke the contract: the checkers never saw it.
      const d = e.data;
      return `${d.peer} #${d.seq} ${d.type} refused: ${d.field} (${clip(d.message, 100)})`;
    }
    case 'step.begin':
      return `${e.data.path} ${e.data.kind}${e.data.title ? `: ${e.data.title}` : ''}`;
    case 'step.end':
      return `${e.data.path} ${e.data.status}${e.data.message ? `: ${clip(e.data.message, 100)}` : ''}`;
    case 'command.send':
      return `${e.data.peer} ${e.data.name}${Object.keys(e.data.args).length > 0 ? ` ${json(e.data.args, 60)}` : ''}`;
    case 'command.reply':
      if (e.data.ok) return `${e.data.peer} ok`;
      return `${e.data.peer} failed: ${clip(e.data.error?.message ?? 'no reply', 80)}`;
    case 'await.begin':
      return `${conditionText(e.data.condition)} within ${e.data.withinMs} ms`;
    case 'await.end':
      return `${conditionText(e.data.condition)} ${e.data.status}${e.data.message ? `: ${clip(e.data.message, 100)}` : ''}`;
    case 'run.begin':
      return e.data.scenario ?? '';
    case 'run.end':
      return `${String(open.status ?? '')}${open.message ? `: ${clip(String(open.message), 100)}` : ''}${e.data.error ? ` (${clip(e.data.error, 100)})` : ''}`;
    default:
      return Object.keys(open).length > 0 ? json(open) : '';
  }
}

/** One readable line: `12:00:01.234 peer:bob member.dead charly (from alice)`. */
export function describeEvent(e: HistoryEvent): string {
  const rest = details(e);
  return `${formatTime(e.t)} ${e.src} ${e.type}${rest ? ` ${rest}` : ''}`;
}

// ---------------------------------------------------------------- the membership model

/** What one event changed, for checkers that keep incremental state. */
export interface Effect {
  /** The live set changed (a peer entered or left it). */
  liveChanged: boolean;
  /** The one peer whose process or liveness the event concerns (with liveChanged: the one that entered or left the live set). */
  liveOf?: string;
  /** Links were blocked or healed: reachability, and so the sides, may have changed. */
  reachChanged?: boolean;
  /** Whose view changed; with `member` undefined, the whole view was reset. */
  viewOf?: string;
  member?: string;
  before?: MemberState;
  after?: MemberState;
}

interface Process {
  running: boolean;
  paused: boolean;
  /** Left the group in its current process. */
  left: boolean;
  spawned: boolean;
  /** Of its last `peer.spawn` (null: it could not start). */
  pid: number | null | undefined;
  /** Incremented by every `peer.spawn`. */
  generation: number;
  /** When it last entered the live set. */
  liveSince: number;
}

/** A link as a map key. */
function linkKey(a: string, b: string): string {
  return `${a}\u0000${b}`;
}

/** The directed links a `fault` event lists (`blocked`, or `links` other than 'all'): `[from, to]` pairs of distinct names; anything else is skipped. */
export function faultLinks(value: FaultData['blocked'] | FaultData['links']): Array<[string, string]> {
  if (!Array.isArray(value)) return [];
  const out: Array<[string, string]> = [];
  for (const link of value) {
    // The history reader holds every link to the contract, but a hand-made event may break it: such a link is skipped.
    if (!Array.isArray(link) || link.length !== 2) continue;
    const [from, to]: readonly unknown[] = link;
    if (typeof from === 'string' && typeof to === 'string' && from !== to) out.push([from, to]);
  }
  return out;
}

/** Sides of the network, derived from the live set and the blocked links. */
interface Network {
  /** Side index per live peer. */
  side: Map<string, number>;
  /** The sides, each sorted; largest first, then by first name. */
  sides: string[][];
  /** Live peers that cannot reach some other peer of their own side directly. */
  poorlyConnected: Set<string>;
}

/** The state each member event puts its member in. */
const memberStates = {
  'member.joined': 'alive',
  'member.alive': 'alive',
  'member.suspect': 'suspect',
  'member.dead': 'dead',
  'member.left': 'left',
} as const satisfies Record<string, MemberState>;

/**
 * The coordinator's live set and every peer's view, folded one event at a
 * time. `apply` ignores nothing by time: callers filter by `t <= at`.
 */
export class Model {
  readonly #processes = new Map<string, Process>();
  readonly #views = new Map<string, PeerView>();
  /** peers(), kept until a process or a view is first seen: the convergence tracker walks it at every change of the live set. */
  #peers: string[] | undefined;
  readonly #live = new Set<string>();
  #sorted: string[] | undefined = [];
  /** Running processes out of the live set (paused, or left without exiting), sorted; undefined: to be derived. */
  #absent: string[] | undefined = [];
  /** Blocked directed links: from → the peers its packets do not reach. */
  #blocked = new Map<string, Set<string>>();
  #blockedCount = 0;
  #network: Network | undefined;

  #process(name: string): Process {
    let p = this.#processes.get(name);
    if (!p) {
      p = {running: false, paused: false, left: false, spawned: false, pid: undefined, generation: 0, liveSince: -Infinity};
      this.#processes.set(name, p);
      this.#peers = undefined;
    }
    return p;
  }

  #view(name: string): PeerView {
    let v = this.#views.get(name);
    if (!v) {
      v = {name, started: false, current: false, starts: 0, startedAt: undefined, members: new Map(), incarnations: new Map(), since: new Map()};
      this.#views.set(name, v);
      this.#peers = undefined;
    }
    return v;
  }

  /** Re-derives one peer's membership of the live set; true if it changed. */
  #relive(name: string, p: Process, t: number): boolean {
    // Every change of a process (spawn, exit, pause, leave) comes through here, even one that leaves the live set as it was.
    this.#absent = undefined;
    const live = p.running && !p.paused && !p.left;
    if (live === this.#live.has(name)) return false;
    if (live) {
      this.#live.add(name);
      p.liveSince = t;
    } else {
      this.#live.delete(name);
    }
    this.#sorted = undefined;
    this.#network = undefined;
    return true;
  }

  /** A `fault` event: blocks or heals links; other kinds change nothing here. */
  #fault(d: FaultData): Effect | undefined {
    const kind: FaultKind = d.kind;
    switch (kind) {
      case 'partition':
      case 'isolate':
      case 'cut': {
        let changed = false;
        for (const [from, to] of faultLinks(d.blocked)) {
          let tos = this.#blocked.get(from);
          if (!tos) {
            tos = new Set();
            this.#blocked.set(from, tos);
          }
          if (tos.has(to)) continue;
          tos.add(to);
          this.#blockedCount++;
          changed = true;
        }
        if (!changed) return undefined;
        this.#network = undefined;
        return {liveChanged: false, reachChanged: true};
      }
      case 'heal': {
        // What stays blocked is `kept`, taken in the same step: a heal of one side's faults is no reunion of the other's.
        const kept = new Map<string, Set<string>>();
        let count = 0;
        for (const [from, to] of faultLinks(d.kept)) {
          let tos = kept.get(from);
          if (!tos) kept.set(from, (tos = new Set()));
          if (!tos.has(to)) tos.add(to), count++;
        }
        const same = count === this.#blockedCount && [...kept].every(([from, tos]) => [...tos].every((to) => this.#blocked.get(from)?.has(to)));
        if (same) return undefined;
        this.#blocked = kept;
        this.#blockedCount = count;
        this.#network = undefined;
        return {liveChanged: false, reachChanged: true};
      }
      default:
        return undefined;
    }
  }

  apply(e: HistoryEvent): Effect | undefined {
    // Most of a long history is chat and counters, which change nothing here: they leave before the contract's table is asked.
    const type = e.type;
    if (type === 'chat.delivered' || type === 'chat.sent' || type === 'net.counters') return undefined;
    // An extension changes nothing here.
    if (!isContractEvent(e)) return undefined;
    if (e.src === 'coordinator') {
      switch (e.type) {
        case 'fault':
          return this.#fault(e.data);
        case 'peer.spawn': {
          const name = e.data.peer;
          const p = this.#process(name);
          p.running = true;
          p.paused = false;
          p.left = false;
          p.spawned = true;
          p.pid = e.data.pid;
          p.generation++;
          this.#view(name).current = false;
          // A respawn is a new process even if the peer never looked dead: it re-enters the live set now.
          const changed = this.#relive(name, p, e.t);
          if (!changed && this.#live.has(name)) p.liveSince = e.t;
          return {liveChanged: changed, liveOf: name};
        }
        case 'peer.exit': {
          const name = e.data.peer;
          const p = this.#processes.get(name);
          if (!p) return undefined;
          // An exit of an older process (its pid is not the one last spawned) ends nothing now.
          if (typeof e.data.pid === 'number' && typeof p.pid === 'number' && e.data.pid !== p.pid) return undefined;
          p.running = false;
          p.paused = false;
          return {liveChanged: this.#relive(name, p, e.t), liveOf: name};
        }
        case 'peer.kill': {
          const name = e.data.peer;
          const p = this.#processes.get(name);
          if (!p) return undefined;
          if (e.data.signal === 'SIGSTOP') p.paused = true;
          else if (e.data.signal === 'SIGCONT') p.paused = false;
          else return undefined;
          return {liveChanged: this.#relive(name, p, e.t), liveOf: name};
        }
        default:
          return undefined;
      }
    }
    const self = peerOf(e.src);
    if (self === undefined) return undefined;
    switch (e.type) {
      case 'peer.started':
        return this.#started(self, e.t, e.data.incarnation);
      case 'member.updated':
        // Same state, news of its incarnation (or address).
        this.#view(self).incarnations.set(e.data.name, e.data.incarnation);
        return undefined;
      case 'member.reaped':
        return this.#reaped(self, e.data.name);
      case 'member.joined':
      case 'member.alive':
      case 'member.suspect':
      case 'member.dead':
      case 'member.left':
        return this.#member(self, e.t, memberStates[e.type], e.data.name, e.data.incarnation);
      default:
        return undefined;
    }
  }

  /** Its `peer.started`: a new process, whose view starts from itself. */
  #started(self: string, t: number, incarnation: number): Effect {
    const v = this.#view(self);
    v.started = true;
    v.current = true;
    v.starts++;
    v.startedAt = t;
    v.members = new Map([[self, 'alive']]);
    v.incarnations = new Map([[self, incarnation]]);
    v.since = new Map([[self, t]]);
    const p = this.#process(self);
    p.left = false;
    return {liveChanged: this.#relive(self, p, t), liveOf: self, viewOf: self};
  }

  /** The peer forgot a dead or left member: it is in no state in that view any more. */
  #reaped(self: string, member: string): Effect | undefined {
    const v = this.#view(self);
    if (member === self || !v.members.has(member)) return undefined;
    const before = v.members.get(member);
    v.members.delete(member);
    v.incarnations.delete(member);
    v.since.delete(member);
    return {liveChanged: false, viewOf: self, member, before};
  }

  /** A member event: `member` is in `state` at `incarnation` in the view of `self`. */
  #member(self: string, t: number, state: MemberState, member: string, incarnation: number): Effect | undefined {
    const v = this.#view(self);
    const before = v.members.get(member);
    v.members.set(member, state);
    if (before !== state) v.since.set(member, t);
    v.incarnations.set(member, incarnation);
    let liveChanged = false;
    if (member === self) {
      const p = this.#process(self);
      p.left = state === 'left' ? true : state === 'alive' ? false : p.left;
      liveChanged = this.#relive(self, p, t);
    }
    if (before === state && !liveChanged) return undefined;
    return {liveChanged, liveOf: self, viewOf: self, member, before, after: state};
  }

  isLive(name: string): boolean {
    return this.#live.has(name);
  }

  /** The live set as a Set (do not modify). */
  liveNames(): ReadonlySet<string> {
    return this.#live;
  }

  /** The live set, sorted. */
  live(): readonly string[] {
    this.#sorted ??= [...this.#live].sort();
    return this.#sorted;
  }

  /**
   * Peers whose process runs but is not live: paused, or left the group
   * without exiting. Each keeps its process, so what it held and what it
   * must deliver, and may be live again without a respawn.
   */
  absent(): readonly string[] {
    if (this.#absent) return this.#absent;
    const out: string[] = [];
    for (const [name, p] of this.#processes) if (p.running && !this.#live.has(name)) out.push(name);
    this.#absent = out.sort();
    return this.#absent;
  }

  liveness(name: string): Liveness {
    const p = this.#processes.get(name);
    if (!p || !p.spawned) return 'never spawned';
    if (!p.running) return 'exited';
    if (p.paused) return 'paused';
    if (p.left) return 'left';
    return 'live';
  }

  /** The peer's process runs: live, paused, or left without exiting. */
  isRunning(name: string): boolean {
    const p = this.#processes.get(name);
    return (p?.spawned && p.running) ?? false;
  }

  /** The peer left the group in its last process (it said so), whether or not it has exited since. */
  hasLeft(name: string): boolean {
    return this.#processes.get(name)?.left ?? false;
  }

  /** When the peer last entered the live set (-Infinity if never). */
  liveSince(name: string): number {
    return this.#processes.get(name)?.liveSince ?? -Infinity;
  }

  /** Which spawn of the peer is running (0: never spawned). */
  generation(name: string): number {
    return this.#processes.get(name)?.generation ?? 0;
  }

  view(name: string): PeerView | undefined {
    return this.#views.get(name);
  }

  /** Every peer with a view, in sorted order of name. */
  views(): Map<string, PeerView> {
    return new Map([...this.#views.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /** Names of every peer seen in any way, sorted. */
  peers(): readonly string[] {
    this.#peers ??= [...new Set([...this.#processes.keys(), ...this.#views.keys()])].sort();
    return this.#peers;
  }

  // -------------------------------------------------------------- reachability

  /** Some link is blocked (a partition, an isolation or a cut is in force). */
  hasBlockedLinks(): boolean {
    return this.#blockedCount > 0;
  }

  /** Every blocked directed link, sorted. */
  blockedLinks(): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    for (const [from, tos] of this.#blocked) for (const to of tos) out.push([from, to]);
    return out.sort(([a, b], [c, d]) => (a !== c ? (a < c ? -1 : 1) : b < d ? -1 : b > d ? 1 : 0));
  }

  /** Packets from `from` to `to` are dropped. */
  blocked(from: string, to: string): boolean {
    return this.#blocked.get(from)?.has(to) ?? false;
  }

  /** Both directions between `a` and `b` are open (a peer always reaches itself). Says nothing of liveness. */
  reachable(a: string, b: string): boolean {
    if (a === b || this.#blockedCount === 0) return true;
    return !this.blocked(a, b) && !this.blocked(b, a);
  }

  #net(): Network {
    if (this.#network) return this.#network;
    const live = this.live();
    const found: string[][] = [];
    const seen = new Set<string>();
    for (const start of live) {
      if (seen.has(start)) continue;
      seen.add(start);
      const members = [start];
      for (let i = 0; i < members.length; i++) {
        const a = members[i]!;
        for (const b of live) {
          if (!seen.has(b) && this.reachable(a, b)) {
            seen.add(b);
            members.push(b);
          }
        }
      }
      found.push(members.sort());
    }
    found.sort((x, y) => y.length - x.length || (x[0]! < y[0]! ? -1 : 1));
    const side = new Map<string, number>();
    const poorlyConnected = new Set<string>();
    found.forEach((members, index) => {
      for (const m of members) side.set(m, index);
      if (this.#blockedCount === 0) return;
      for (let i = 0; i < members.length; i++) {
        for (let j = i + 1; j < members.length; j++) {
          if (!this.reachable(members[i]!, members[j]!)) {
            poorlyConnected.add(members[i]!);
            poorlyConnected.add(members[j]!);
          }
        }
      }
    });
    this.#network = {side, sides: found, poorlyConnected};
    return this.#network;
  }

  /** The sides of the network: live peers mutually reachable, transitively; largest first. One side without faults. */
  components(): readonly (readonly string[])[] {
    return this.#net().sides;
  }

  /** The side of a live peer (sorted, itself included); undefined for a peer that is not live. */
  component(name: string): readonly string[] | undefined {
    if (!this.#live.has(name)) return undefined;
    if (this.#blockedCount === 0) return this.live();
    const net = this.#net();
    return net.sides[net.side.get(name)!];
  }

  /** Both are live and on the same side. */
  sameComponent(a: string, b: string): boolean {
    if (!this.#live.has(a) || !this.#live.has(b)) return false;
    if (this.#blockedCount === 0 || a === b) return true;
    const side = this.#net().side;
    return side.get(a) === side.get(b);
  }

  /** A live peer that reaches every other peer of its side directly, both ways (no one-way cut, no bridge between it and another). */
  wellConnected(name: string): boolean {
    if (!this.#live.has(name)) return false;
    return this.#blockedCount === 0 || !this.#net().poorlyConnected.has(name);
  }
}

function pairKey(a: string, b: string): string {
  return a < b ? linkKey(a, b) : linkKey(b, a);
}

/**
 * When pairs of peers went to different sides and when they last came back
 * together. Call `update(model, t)` after every event whose effect changed the
 * live set or reachability; it costs O(live²) only while links are blocked (or
 * a split is still open), nothing otherwise.
 *
 * A pair stays split while one of them is down (not live); it comes together
 * again when both are live and on one side.
 */
export class SplitTracker {
  #split = new Map<string, {a: string; b: string; since: number}>();
  readonly #merged = new Map<string, number>();

  update(model: Model, t: number): void {
    if (!model.hasBlockedLinks() && this.#split.size === 0) return;
    const next = new Map<string, {a: string; b: string; since: number}>();
    for (const [key, pair] of this.#split) {
      if (model.sameComponent(pair.a, pair.b)) this.#merged.set(key, t);
      else next.set(key, pair);
    }
    if (model.hasBlockedLinks()) {
      const live = model.live();
      for (let i = 0; i < live.length; i++) {
        for (let j = i + 1; j < live.length; j++) {
          const a = live[i]!;
          const b = live[j]!;
          const key = linkKey(a, b);
          if (!next.has(key) && !model.sameComponent(a, b)) next.set(key, {a, b, since: t});
        }
      }
    }
    this.#split = next;
  }

  /** Since when `a` and `b` have been on different sides (undefined: they are not split). */
  splitSince(a: string, b: string): number | undefined {
    return this.#split.get(pairKey(a, b))?.since;
  }

  /** When a split between `a` and `b` last ended (-Infinity: never). */
  mergedAt(a: string, b: string): number {
    return this.#merged.get(pairKey(a, b)) ?? -Infinity;
  }
}

/** The model after every event with `t <= at`. */
export function modelAt(history: readonly HistoryEvent[], at: number): Model {
  const model = new Model();
  for (const e of history) if (e.t <= at) model.apply(e);
  return model;
}

/** The sides of the network in words: `[alice, bob] | [charly]`. */
export function sidesText(model: Model): string {
  return model.components().map((side) => list(side)).join(' | ');
}

/** The peers the coordinator considers live at `at`, sorted. */
export function liveSet(history: readonly HistoryEvent[], at: number): string[] {
  return [...modelAt(history, at).live()];
}

/** Every peer's view at `at`, folded from its own events, by name. */
export function views(history: readonly HistoryEvent[], at: number): Map<string, PeerView> {
  return modelAt(history, at).views();
}

/** Why a peer is not live, in words, for messages. */
export function whyNotLive(model: Model, name: string): string {
  switch (model.liveness(name)) {
    case 'never spawned':
      return 'never spawned';
    case 'exited':
      return 'exited';
    case 'paused':
      return 'paused';
    case 'left':
      return 'left the group';
    case 'live':
      return 'live';
  }
}

// ---------------------------------------------------------------- chat deliveries

/** What a chat id says: `sender:epoch:seq` → stream `sender:epoch`, seq. */
export function parseChatId(id: string, seqField?: number): {stream: string; seq: number | undefined} {
  return {stream: chatStream(id), seq: chatSeq(id, seqField)};
}

/** The stream of a chat id: `sender:epoch`. */
function chatStream(id: string): string {
  const cut = id.lastIndexOf(':');
  return cut >= 0 ? id.slice(0, cut) : id;
}

/** A message's seq: the event's integer `seq` field, else the id's tail (parsed only then: most events carry the field). */
function chatSeq(id: string, seqField: number | undefined): number | undefined {
  if (seqField !== undefined && Number.isInteger(seqField)) return seqField;
  const cut = id.lastIndexOf(':');
  const tail = cut >= 0 ? Number(id.slice(cut + 1)) : NaN;
  return Number.isInteger(tail) ? tail : undefined;
}

export interface SentMessage {
  id: string;
  sender: string;
  t: number;
  /** Position among the `chat.sent` events. */
  index: number;
  /** The `chat.sent` event that first reported it, so a later pass can find the send in the history. */
  event: HistoryEvent;
}

export interface DeliveryRecord {
  /** How many times this process delivered the id. */
  count: number;
  /** Time of the first delivery. */
  t: number;
  /** Position among every process's first deliveries: reports list deliveries in the order they were folded. */
  order: number;
}

/**
 * Everything the history holds of one message id. Deliveries are kept per
 * message rather than per process: a message's deliveries arrive close
 * together, so a million of them fill many small maps that stay in cache,
 * which is several times faster than a few maps of a million entries.
 */
export interface ChatMessage {
  id: string;
  /** Its stream, derived once rather than at each delivery. */
  stream: string;
  /** Its first `chat.sent`; undefined while (or if) the history holds none. */
  sent: SentMessage | undefined;
  /** Each process that delivered it, in order of first delivery. */
  deliveries: Map<ChatProcess, DeliveryRecord>;
}

/** One process of one peer, as far as chat goes: from one `peer.started` to the next. */
export interface ChatProcess {
  peer: string;
  /** 0 for deliveries before the peer's first `peer.started`, then 1, 2, … */
  index: number;
  /** Highest seq delivered so far per stream. */
  highest: Map<string, number>;
}

export interface Duplicate {
  peer: string;
  id: string;
  process: ChatProcess;
  t: number;
}

export interface OutOfOrder {
  peer: string;
  id: string;
  seq: number;
  after: number;
  t: number;
}

/**
 * Sent messages and every process's deliveries, with duplicates and order
 * violations noted as they happen. `unsent()` is only final once the whole
 * prefix is applied (a delivery may reach the history before its send).
 */
export class ChatFold {
  readonly sent = new Map<string, SentMessage>();
  /** Every id sent or delivered, in order of first appearance. */
  readonly messages = new Map<string, ChatMessage>();
  readonly processes: ChatProcess[] = [];
  readonly current = new Map<string, ChatProcess>();
  readonly duplicates: Duplicate[] = [];
  readonly outOfOrder: OutOfOrder[] = [];
  /** Deliveries beyond the first, per process. */
  extraDeliveries = 0;
  deliveries = 0;
  /** `current` by the events' `src`: a delivery finds its process without cutting a new name out of `peer:…`. */
  readonly #bySrc = new Map<string, ChatProcess>();

  #process(peer: string): ChatProcess {
    let p = this.current.get(peer);
    if (!p) {
      p = {peer, index: 0, highest: new Map()};
      this.current.set(peer, p);
      this.processes.push(p);
    }
    return p;
  }

  /** The current process of the peer behind `src`; undefined for the coordinator. */
  #processOf(src: string): ChatProcess | undefined {
    const known = this.#bySrc.get(src);
    if (known) return known;
    const peer = peerOf(src);
    if (peer === undefined) return undefined;
    const p = this.#process(peer);
    this.#bySrc.set(src, p);
    return p;
  }

  #message(id: string): ChatMessage {
    let m = this.messages.get(id);
    if (!m) {
      m = {id, stream: chatStream(id), sent: undefined, deliveries: new Map()};
      this.messages.set(id, m);
    }
    return m;
  }

  /** Returns the sent message when `e` is a `chat.sent`, for callers that track who should get it. */
  apply(e: HistoryEvent): SentMessage | undefined {
    if (isEvent(e, 'chat.delivered')) this.#delivered(e);
    else if (isEvent(e, 'chat.sent')) return this.#sent(e);
    else if (isEvent(e, 'peer.started')) this.#started(e);
    return undefined;
  }

  #started(e: HistoryEventOf<'peer.started'>): void {
    const peer = peerOf(e.src);
    if (peer === undefined) return;
    const previous = this.current.get(peer);
    const p: ChatProcess = {peer, index: (previous?.index ?? 0) + 1, highest: new Map()};
    this.current.set(peer, p);
    this.#bySrc.set(e.src, p);
    this.processes.push(p);
  }

  #sent(e: HistoryEventOf<'chat.sent'>): SentMessage | undefined {
    const peer = peerOf(e.src);
    const id = e.data.id;
    if (peer === undefined || this.sent.has(id)) return undefined;
    const message: SentMessage = {id, sender: e.data.sender, t: e.t, index: this.sent.size, event: e};
    this.sent.set(id, message);
    this.#message(id).sent = message;
    return message;
  }

  #delivered(e: HistoryEventOf<'chat.delivered'>): void {
    const id = e.data.id;
    const p = this.#processOf(e.src);
    if (!p) return;
    this.deliveries++;
    const m = this.#message(id);
    const record = m.deliveries.get(p);
    if (record) {
      record.count++;
      this.extraDeliveries++;
      if (record.count === 2) this.duplicates.push({peer: p.peer, id, process: p, t: e.t});
      return;
    }
    m.deliveries.set(p, {count: 1, t: e.t, order: this.deliveries - this.extraDeliveries});
    const seq = chatSeq(id, e.data.seq);
    if (seq === undefined) return;
    const highest = p.highest.get(m.stream);
    if (highest !== undefined && seq < highest) this.outOfOrder.push({peer: p.peer, id, seq, after: highest, t: e.t});
    if (highest === undefined || seq > highest) p.highest.set(m.stream, seq);
  }

  /** How a process delivered an id; undefined if it did not. */
  deliveryOf(process: ChatProcess, id: string): DeliveryRecord | undefined {
    return this.messages.get(id)?.deliveries.get(process);
  }

  /**
   * Deliveries of ids never sent: [peer, id, time of first delivery], by
   * time; ties in the order of processes, then of their deliveries, so the
   * one reported first does not depend on how the fold stores them.
   */
  unsent(): Array<{peer: string; id: string; t: number}> {
    const position = new Map(this.processes.map((p, i) => [p, i]));
    const found: Array<{peer: string; id: string; t: number; position: number; order: number}> = [];
    for (const m of this.messages.values()) {
      if (m.sent) continue;
      for (const [p, record] of m.deliveries) found.push({peer: p.peer, id: m.id, t: record.t, position: position.get(p)!, order: record.order});
    }
    found.sort((a, b) => a.t - b.t || a.position - b.position || a.order - b.order);
    return found.map(({peer, id, t}) => ({peer, id, t}));
  }
}

/** Whole-history chat folds, kept while the history has not grown: the chat checkers share one. */
const wholeFolds = new WeakMap<readonly HistoryEvent[], {length: number; latest: number; chat: ChatFold}>();

/**
 * The chat fold after every event not later than `at`. When `at` is past
 * every event, this is the whole history's fold, folded once and shared by
 * every checker that asks: apply nothing more to it.
 */
export function chatAt(history: readonly HistoryEvent[], at = Infinity): ChatFold {
  const shared = wholeFolds.get(history);
  if (shared && shared.length === history.length && at >= shared.latest) return shared.chat;
  const chat = new ChatFold();
  let latest = -Infinity;
  let whole = true;
  for (const e of history) {
    if (e.t > at) {
      whole = false;
      continue;
    }
    chat.apply(e);
    if (e.t > latest) latest = e.t;
  }
  if (whole) wholeFolds.set(history, {length: history.length, latest, chat});
  return chat;
}

/**
 * Folds the history up to `at` into a tracker of a condition and returns the
 * time from which the condition has held without a break (-Infinity if it
 * held from before the first event): the start of a "time to converge" figure.
 */
export function heldSince(history: readonly HistoryEvent[], at: number, tracker: {apply(e: HistoryEvent): unknown; readonly holds: boolean}): number {
  let since = -Infinity;
  let held = tracker.holds;
  for (const e of history) {
    if (e.t > at) continue;
    tracker.apply(e);
    const holds = tracker.holds;
    if (holds && !held) since = e.t;
    held = holds;
  }
  return since;
}
