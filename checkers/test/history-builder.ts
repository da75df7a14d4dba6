/**
 * Histories for tests, in the shapes of the event contract only
 * (events/src/contract.ts): every event's data is checked against its type
 * when the tests build, so a field renamed or removed in the contract fails
 * the tests' build as it fails the checkers'. A test that means to write a
 * malformed event (the reader's or a fuzzer's) writes it as a plain object,
 * on purpose, not through here.
 */
import type {CoordinatorEventType, Declared, EventData, FaultKind, HistoryEvent, PeerEventType} from '../src/history/types.js';

/** The data of a listed event type, its declared fields only: an unknown field is an error too. */
export type DataOf<K extends PeerEventType | CoordinatorEventType> = Declared<EventData<K>>;

/** A peer's event: `peer('bob', t, 'member.dead', {name: 'charly', incarnation: 2, from: 'alice'})`. */
export function peer<K extends PeerEventType>(name: string, t: number, type: K, data: DataOf<K>, seq?: number): HistoryEvent {
  const e: HistoryEvent = {t, src: `peer:${name}`, type, data: {...data}};
  if (seq !== undefined) e.seq = seq;
  return e;
}

/** A coordinator's event: `coord(t, 'peer.kill', {peer: 'bob', signal: 'SIGSTOP'})`. */
export function coord<K extends CoordinatorEventType>(t: number, type: K, data: DataOf<K>): HistoryEvent {
  return {t, src: 'coordinator', type, data: {...data}};
}

export const T0 = Date.UTC(2024, 0, 1, 12, 0, 0, 0);

/** What a fault event says beside its kind. */
export type FaultDetails = Omit<DataOf<'fault'>, 'kind'>;

/**
 * Builds a history; every event takes the current time, then the clock moves
 * on by 1 ms. Each peer's events are numbered 1, 2, … as its agent numbers
 * them (`seq`).
 */
export class History {
  readonly events: HistoryEvent[] = [];
  #t = T0;
  #pid = 1000;
  readonly #seq = new Map<string, number>();

  /** The current time (ms since T0 as an absolute epoch ms). */
  get now(): number {
    return this.#t;
  }

  /** Moves the clock to T0 + ms. */
  at(ms: number): this {
    this.#t = T0 + ms;
    return this;
  }

  wait(ms: number): this {
    this.#t += ms;
    return this;
  }

  #push(e: HistoryEvent): this {
    this.events.push(e);
    this.#t += 1;
    return this;
  }

  coordinator<K extends CoordinatorEventType>(type: K, data: DataOf<K>): this {
    return this.#push(coord(this.#t, type, data));
  }

  peer<K extends PeerEventType>(name: string, type: K, data: DataOf<K>): this {
    const seq = (this.#seq.get(name) ?? 0) + 1;
    this.#seq.set(name, seq);
    return this.#push(peer(name, this.#t, type, data, seq));
  }

  /** An event of a type the contract does not list: a peer's own extension, stored as it came. */
  extension(name: string, type: string, data: Record<string, unknown>): this {
    const seq = (this.#seq.get(name) ?? 0) + 1;
    this.#seq.set(name, seq);
    return this.#push({t: this.#t, src: `peer:${name}`, type, data, seq});
  }

  spawn(...names: string[]): this {
    for (const peer of names) this.coordinator('peer.spawn', {peer, pid: ++this.#pid});
    return this;
  }

  started(...names: string[]): this {
    for (const name of names) this.peer(name, 'peer.started', {address: `127.0.0.1:${7000 + name.length}`, incarnation: 0, profile: 'local'});
    return this;
  }

  /** Spawned and started. */
  up(...names: string[]): this {
    return this.spawn(...names).started(...names);
  }

  exit(peer: string, signal: string | null = 'SIGKILL'): this {
    return this.coordinator('peer.exit', {peer, pid: null, code: signal ? null : 0, signal, unexpectedly: false});
  }

  kill(peer: string): this {
    return this.coordinator('peer.kill', {peer, signal: 'SIGKILL'}).exit(peer, 'SIGKILL');
  }

  pause(peer: string): this {
    return this.coordinator('peer.kill', {peer, signal: 'SIGSTOP'});
  }

  resume(peer: string): this {
    return this.coordinator('peer.kill', {peer, signal: 'SIGCONT'});
  }

  joined(viewer: string, ...members: string[]): this {
    for (const name of members) this.peer(viewer, 'member.joined', {name, address: `127.0.0.1:${7000 + name.length}`, incarnation: 0});
    return this;
  }

  alive(viewer: string, name: string): this {
    return this.peer(viewer, 'member.alive', {name, address: '127.0.0.1:7000', incarnation: 1, previous: 'suspect'});
  }

  suspect(viewer: string, name: string, from = viewer): this {
    return this.peer(viewer, 'member.suspect', {name, incarnation: 0, from});
  }

  dead(viewer: string, name: string, from = viewer): this {
    return this.peer(viewer, 'member.dead', {name, incarnation: 0, from});
  }

  left(viewer: string, name: string): this {
    return this.peer(viewer, 'member.left', {name, incarnation: 0});
  }

  /** Everyone named is up and each has joined all the others. */
  group(...names: string[]): this {
    this.up(...names);
    for (const viewer of names) this.joined(viewer, ...names.filter((n) => n !== viewer));
    return this;
  }

  send(sender: string, seq: number, epoch = 'e1'): this {
    return this.peer(sender, 'chat.sent', {id: `${sender}:${epoch}:${seq}`, sender, seq, text: `message ${seq}`});
  }

  deliver(peer: string, id: string): this {
    const [sender = '', , seq] = id.split(':');
    return this.peer(peer, 'chat.delivered', {id, sender, seq: Number(seq), sentAt: this.#t});
  }

  /** Delivered to each named peer in turn. */
  deliverAll(id: string, ...peers: string[]): this {
    for (const p of peers) this.deliver(p, id);
    return this;
  }

  /** A member event with an explicit incarnation: `member(alice, 'alive', bob, 3)`. */
  member(viewer: string, kind: 'joined' | 'alive' | 'updated' | 'suspect' | 'dead', name: string, incarnation: number, from = viewer): this {
    const address = '127.0.0.1:7000';
    switch (kind) {
      case 'suspect':
      case 'dead':
        return this.peer(viewer, `member.${kind}`, {name, incarnation, from});
      case 'joined':
        return this.peer(viewer, 'member.joined', {name, incarnation, address});
      case 'alive':
        return this.peer(viewer, 'member.alive', {name, incarnation, address, previous: 'dead'});
      case 'updated':
        return this.peer(viewer, 'member.updated', {name, incarnation, address, reason: 'incarnation'});
    }
  }

  fault(kind: FaultKind, data: FaultDetails = {}): this {
    return this.coordinator('fault', {kind, ...data});
  }

  /** Every link between two different groups blocked, both ways. */
  partition(...groups: string[][]): this {
    const blocked: Array<[string, string]> = [];
    for (const g of groups) for (const other of groups) if (other !== g) for (const from of g) for (const to of other) blocked.push([from, to]);
    return this.fault('partition', {blocked, groups});
  }

  isolate(peer: string, ...others: string[]): this {
    return this.fault('isolate', {blocked: others.flatMap((o): Array<[string, string]> => [[peer, o], [o, peer]]), targets: [peer]});
  }

  cut(from: string, to: string): this {
    return this.fault('cut', {blocked: [[from, to]]});
  }

  heal(): this {
    return this.fault('heal');
  }

  /** A peer's cumulative traffic counters, UDP only unless TCP is given. */
  counters(name: string, udpOut: number, udpOutBytes: number, tcpOut = 0, tcpOutBytes = 0): this {
    return this.peer(name, 'net.counters', {udpOut, udpOutBytes, tcpOut, tcpOutBytes});
  }

  /** Every named viewer marks every named member dead. */
  deadAll(viewers: readonly string[], members: readonly string[]): this {
    for (const v of viewers) for (const m of members) this.dead(v, m);
    return this;
  }
}
