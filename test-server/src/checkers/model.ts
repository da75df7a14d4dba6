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
 */
import type {HistoryEvent, Source} from '../history/types.js';

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
}

/** Why a peer is or is not in the live set. */
export type Liveness = 'live' | 'never spawned' | 'exited' | 'paused' | 'left';

// ---------------------------------------------------------------- small helpers

/** `peer:bob` → `bob`; the coordinator → undefined. */
export function peerOf(src: Source | string): string | undefined {
  return src.startsWith('peer:') ? src.slice('peer:'.length) : undefined;
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
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

export function list(names: readonly string[]): string {
  return `[${names.join(', ')}]`;
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
  if (e.src === `peer:${name}`) return true;
  return e.data.peer === name || (e.type.startsWith('member.') && e.data.name === name);
}

// ---------------------------------------------------------------- describeEvent

/** `HH:MM:SS.mmm` (UTC, as the peers' logs print it). */
export function formatTime(t: number): string {
  return Number.isFinite(t) ? new Date(t).toISOString().slice(11, 23) : '??:??:??.???';
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

function conditionText(value: unknown): string {
  if (typeof value !== 'object' || value === null) return json(value);
  const c = value as Record<string, unknown>;
  if (c.kind === 'state') {
    const seenBy = Array.isArray(c.seenBy) ? list(c.seenBy.map(String)) : String(c.seenBy);
    return `state ${String(c.of)} is ${String(c.is)} seen by ${seenBy}`;
  }
  return typeof c.kind === 'string' ? c.kind : json(value);
}

function details(e: HistoryEvent): string {
  const d = e.data;
  const name = str(d.name) ?? '?';
  switch (e.type) {
    case 'member.joined':
      return d.address !== undefined ? `${name} at ${String(d.address)}` : name;
    case 'member.alive':
      return str(d.previous) ? `${name} (was ${String(d.previous)})` : name;
    case 'member.suspect':
    case 'member.dead':
      return str(d.from) ? `${name} (from ${String(d.from)})` : name;
    case 'member.left':
      return name;
    case 'member.updated':
      return str(d.reason) ? `${name} (${String(d.reason)})` : name;
    case 'peer.started':
      return d.address !== undefined ? String(d.address) : '';
    case 'chat.sent':
      return typeof d.text === 'string' ? `${String(d.id)} ${json(clip(d.text, 40))}` : String(d.id);
    case 'chat.delivered':
      return String(d.id);
    case 'peer.spawn':
    case 'peer.registered':
      return d.pid !== undefined && d.pid !== null ? `${String(d.peer)} (pid ${String(d.pid)})` : String(d.peer);
    case 'peer.exit': {
      const how = d.signal ? `signal ${String(d.signal)}` : `code ${String(d.code)}`;
      return `${String(d.peer)} (${how}${d.unexpectedly ? ', unexpectedly' : ''})`;
    }
    case 'peer.kill':
      return `${String(d.peer)} ${String(d.signal)}`;
    case 'peer.gap':
      return `${String(d.peer)} expected ${String(d.expected)} got ${String(d.got)}`;
    case 'step.begin':
      return `${String(d.path)} ${String(d.kind)}${d.title ? `: ${String(d.title)}` : ''}`;
    case 'step.end':
      return `${String(d.path)} ${String(d.status)}${d.message ? `: ${clip(String(d.message), 100)}` : ''}`;
    case 'command.send':
      return `${String(d.peer)} ${String(d.name)}${d.args && Object.keys(d.args as object).length > 0 ? ` ${json(d.args, 60)}` : ''}`;
    case 'command.reply': {
      if (d.ok) return `${String(d.peer)} ok`;
      const error = d.error as {message?: unknown} | undefined;
      return `${String(d.peer)} failed: ${clip(String(error?.message ?? 'no reply'), 80)}`;
    }
    case 'await.begin':
      return `${conditionText(d.condition)} within ${String(d.withinMs)} ms`;
    case 'await.end':
      return `${conditionText(d.condition)} ${String(d.status)}${d.message ? `: ${clip(String(d.message), 100)}` : ''}`;
    case 'expect.result':
      return `${String(d.peer)} ${String(d.status)}${d.message ? `: ${clip(String(d.message), 100)}` : ''}`;
    case 'run.begin':
      return String(d.scenario ?? '');
    case 'run.end':
      return `${String(d.status ?? '')}${d.message ? `: ${clip(String(d.message), 100)}` : ''}${d.error ? ` (${clip(String(d.error), 100)})` : ''}`;
    default:
      return Object.keys(d).length > 0 ? json(d) : '';
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
  pid: unknown;
  /** Incremented by every `peer.spawn`. */
  generation: number;
  /** When it last entered the live set. */
  liveSince: number;
}

const memberStates: Record<string, MemberState> = {
  'member.joined': 'alive',
  'member.alive': 'alive',
  'member.suspect': 'suspect',
  'member.dead': 'dead',
  'member.left': 'left',
};

/**
 * The coordinator's live set and every peer's view, folded one event at a
 * time. `apply` ignores nothing by time: callers filter by `t <= at`.
 */
export class Model {
  readonly #processes = new Map<string, Process>();
  readonly #views = new Map<string, PeerView>();
  readonly #live = new Set<string>();
  #sorted: string[] | undefined = [];

  #process(name: string): Process {
    let p = this.#processes.get(name);
    if (!p) {
      p = {running: false, paused: false, left: false, spawned: false, pid: undefined, generation: 0, liveSince: -Infinity};
      this.#processes.set(name, p);
    }
    return p;
  }

  #view(name: string): PeerView {
    let v = this.#views.get(name);
    if (!v) {
      v = {name, started: false, current: false, starts: 0, startedAt: undefined, members: new Map()};
      this.#views.set(name, v);
    }
    return v;
  }

  /** Re-derives one peer's membership of the live set; true if it changed. */
  #relive(name: string, p: Process, t: number): boolean {
    const live = p.running && !p.paused && !p.left;
    if (live === this.#live.has(name)) return false;
    if (live) {
      this.#live.add(name);
      p.liveSince = t;
    } else {
      this.#live.delete(name);
    }
    this.#sorted = undefined;
    return true;
  }

  apply(e: HistoryEvent): Effect | undefined {
    const d = e.data;
    if (e.src === 'coordinator') {
      const name = str(d.peer);
      if (name === undefined) return undefined;
      switch (e.type) {
        case 'peer.spawn': {
          const p = this.#process(name);
          p.running = true;
          p.paused = false;
          p.left = false;
          p.spawned = true;
          p.pid = d.pid;
          p.generation++;
          this.#view(name).current = false;
          // A respawn is a new process even if the peer never looked dead: it re-enters the live set now.
          const changed = this.#relive(name, p, e.t);
          if (!changed && this.#live.has(name)) p.liveSince = e.t;
          return {liveChanged: changed};
        }
        case 'peer.exit': {
          const p = this.#processes.get(name);
          if (!p) return undefined;
          // An exit of an older process (its pid is not the one last spawned) ends nothing now.
          if (typeof d.pid === 'number' && typeof p.pid === 'number' && d.pid !== p.pid) return undefined;
          p.running = false;
          p.paused = false;
          return {liveChanged: this.#relive(name, p, e.t)};
        }
        case 'peer.kill': {
          const p = this.#processes.get(name);
          if (!p) return undefined;
          if (d.signal === 'SIGSTOP') p.paused = true;
          else if (d.signal === 'SIGCONT') p.paused = false;
          else return undefined;
          return {liveChanged: this.#relive(name, p, e.t)};
        }
        default:
          return undefined;
      }
    }
    const self = peerOf(e.src);
    if (self === undefined) return undefined;
    if (e.type === 'peer.started') {
      const v = this.#view(self);
      v.started = true;
      v.current = true;
      v.starts++;
      v.startedAt = e.t;
      v.members = new Map([[self, 'alive']]);
      const p = this.#process(self);
      p.left = false;
      return {liveChanged: this.#relive(self, p, e.t), viewOf: self};
    }
    const state = memberStates[e.type];
    if (state === undefined) return undefined;
    const member = str(d.name);
    if (member === undefined) return undefined;
    const v = this.#view(self);
    const before = v.members.get(member);
    v.members.set(member, state);
    let liveChanged = false;
    if (member === self) {
      const p = this.#process(self);
      p.left = state === 'left' ? true : state === 'alive' ? false : p.left;
      liveChanged = this.#relive(self, p, e.t);
    }
    if (before === state && !liveChanged) return undefined;
    return {liveChanged, viewOf: self, member, before, after: state};
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

  liveness(name: string): Liveness {
    const p = this.#processes.get(name);
    if (!p || !p.spawned) return 'never spawned';
    if (!p.running) return 'exited';
    if (p.paused) return 'paused';
    if (p.left) return 'left';
    return 'live';
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
  peers(): string[] {
    return [...new Set([...this.#processes.keys(), ...this.#views.keys()])].sort();
  }
}

/** The model after every event with `t <= at`. */
export function modelAt(history: readonly HistoryEvent[], at: number): Model {
  const model = new Model();
  for (const e of history) if (e.t <= at) model.apply(e);
  return model;
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
export function parseChatId(id: string, seqField?: unknown): {stream: string; seq: number | undefined} {
  const cut = id.lastIndexOf(':');
  const stream = cut >= 0 ? id.slice(0, cut) : id;
  const fromField = typeof seqField === 'number' && Number.isInteger(seqField) ? seqField : undefined;
  const tail = cut >= 0 ? Number(id.slice(cut + 1)) : NaN;
  return {stream, seq: fromField ?? (Number.isInteger(tail) ? tail : undefined)};
}

export interface SentMessage {
  id: string;
  sender: string;
  t: number;
  /** Position among the `chat.sent` events. */
  index: number;
}

export interface DeliveryRecord {
  /** How many times this process delivered the id. */
  count: number;
  /** Time of the first delivery. */
  t: number;
}

/** One process of one peer, as far as chat goes: from one `peer.started` to the next. */
export interface ChatProcess {
  peer: string;
  /** 0 for deliveries before the peer's first `peer.started`, then 1, 2, … */
  index: number;
  delivered: Map<string, DeliveryRecord>;
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
  readonly processes: ChatProcess[] = [];
  readonly current = new Map<string, ChatProcess>();
  readonly duplicates: Duplicate[] = [];
  readonly outOfOrder: OutOfOrder[] = [];
  /** Deliveries beyond the first, per process. */
  extraDeliveries = 0;
  deliveries = 0;

  #process(peer: string): ChatProcess {
    let p = this.current.get(peer);
    if (!p) {
      p = {peer, index: 0, delivered: new Map(), highest: new Map()};
      this.current.set(peer, p);
      this.processes.push(p);
    }
    return p;
  }

  /** Returns the sent message when `e` is a `chat.sent`, for callers that track who should get it. */
  apply(e: HistoryEvent): SentMessage | undefined {
    const peer = peerOf(e.src);
    if (peer === undefined) return undefined;
    switch (e.type) {
      case 'peer.started': {
        const previous = this.current.get(peer);
        const p: ChatProcess = {peer, index: (previous?.index ?? 0) + 1, delivered: new Map(), highest: new Map()};
        this.current.set(peer, p);
        this.processes.push(p);
        return undefined;
      }
      case 'chat.sent': {
        const id = str(e.data.id);
        if (id === undefined || this.sent.has(id)) return undefined;
        const message: SentMessage = {id, sender: str(e.data.sender) ?? peer, t: e.t, index: this.sent.size};
        this.sent.set(id, message);
        return message;
      }
      case 'chat.delivered': {
        const id = str(e.data.id);
        if (id === undefined) return undefined;
        this.deliveries++;
        const p = this.#process(peer);
        const record = p.delivered.get(id);
        if (record) {
          record.count++;
          this.extraDeliveries++;
          if (record.count === 2) this.duplicates.push({peer, id, process: p, t: e.t});
          return undefined;
        }
        p.delivered.set(id, {count: 1, t: e.t});
        const {stream, seq} = parseChatId(id, e.data.seq);
        if (seq === undefined) return undefined;
        const highest = p.highest.get(stream);
        if (highest !== undefined && seq < highest) this.outOfOrder.push({peer, id, seq, after: highest, t: e.t});
        if (highest === undefined || seq > highest) p.highest.set(stream, seq);
        return undefined;
      }
      default:
        return undefined;
    }
  }

  /** Deliveries of ids never sent: [peer, id, time of first delivery], in order of processes. */
  unsent(): Array<{peer: string; id: string; t: number}> {
    const out: Array<{peer: string; id: string; t: number}> = [];
    for (const p of this.processes) {
      for (const [id, record] of p.delivered) if (!this.sent.has(id)) out.push({peer: p.peer, id, t: record.t});
    }
    return out.sort((a, b) => a.t - b.t);
  }
}

/** The chat fold after every event with `t <= at`. */
export function chatAt(history: readonly HistoryEvent[], at: number): ChatFold {
  const fold = new ChatFold();
  for (const e of history) if (e.t <= at) fold.apply(e);
  return fold;
}
