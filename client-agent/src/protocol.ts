/**
 * The agent protocol: every message that crosses the socket.io link between a
 * peer's agent and the coordinator, and the checks each side runs on what it
 * receives. Both sides import this one module and nothing else of each other.
 * docs/PROTOCOL.md describes the same protocol in prose, for implementers in
 * other languages.
 */
import type {ArgSpec, CommandSpec} from './registry.js';
import {MAX_VALUE_DEPTH, describeValue, findPrototypeKey, nestsDeeperThan, prototypeKey} from '@peerlab/events/values';
import {PEER_NAME_RULE, isValidPeerName} from '@peerlab/events/names';
import type {Capabilities} from '@peerlab/events/capabilities';
import {EVENT_FAMILIES, EVENT_FIELDS, NO_CAPABILITIES} from '@peerlab/events/capabilities';

export {MAX_VALUE_DEPTH, describeValue, findPrototypeKey, nestsDeeperThan} from '@peerlab/events/values';
export {isValidPeerName} from '@peerlab/events/names';
export {EVENT_FAMILIES, EVENT_FIELDS, NO_CAPABILITIES, declares} from '@peerlab/events/capabilities';
export type {Capabilities, Capability, EventFamily, EventField} from '@peerlab/events/capabilities';

export type {ArgSpec, CommandSpec};

export const PROTOCOL_VERSION = 1;

/** socket.io event names. */
export const Channel = {
  /** agent → coordinator, with ack: registration. */
  hello: 'hello',
  /** coordinator → agent, with ack: run one command. */
  command: 'command',
  /** agent → coordinator, with ack: a batch of events. */
  events: 'events',
  /** coordinator → agent, with ack: the peer's current view. */
  snapshot: 'snapshot',
  /** coordinator → agent, with ack: answered at once with the payload; the floor any command pays. */
  ping: 'ping',
  /**
   * coordinator → agent, no ack: the peers started together with this one
   * have all registered (or their start has ended), so the peer may begin its
   * own work, such as joining its group. Sent only after a hello answered
   * with `hold: true`.
   */
  go: 'go',
} as const;

/** Sent in the socket.io handshake (`auth`), checked before any message. */
export interface HandshakeAuth {
  token: string;
}

/** An error as a value: it crosses the wire, it is never thrown across it. */
export interface WireError {
  message: string;
  /** 'unknown-command' | 'bad-arguments' | 'failed' | 'timeout' | 'duplicate-name' | 'bad-message' | 'unauthorized' | ... */
  code: string;
}

export interface Hello {
  protocol: number;
  peer: string;
  pid: number;
  version: string;
  /** The peer's own protocol address (host:port), for people and tools to read. */
  address: string;
  commands: CommandSpec[];
  /**
   * Identifies this process run (random, fixed for the agent's life). A new
   * instance under a known name is a restart: its event count starts again.
   * Optional for compatibility; without it the pid is used.
   */
  instance?: string;
  /**
   * What the peer reports beyond its commands. Optional for compatibility:
   * a hello without it declares nothing, and the checkers judge nothing that
   * needs it. Its timing is not here but in `peer.started`, once per process.
   */
  capabilities?: Capabilities;
}

/** The commands a peer must offer for each network fault the coordinator can make. */
export const FAULT_COMMANDS = {
  cut: ['net-cut', 'net-heal'],
  heal: ['net-heal'],
  loss: ['net-loss', 'net-heal'],
  delay: ['net-delay', 'net-heal'],
} as const;

/** What a program prints for `--describe-commands`: its hello's commands and capabilities. */
export interface Description {
  commands: CommandSpec[];
  capabilities: Capabilities;
}

export interface AgentSettings {
  /** Default deadline for a command that does not carry its own. */
  commandTimeoutMs: number;
  /** The agent flushes its event buffer at least this often. */
  flushIntervalMs: number;
  /**
   * Optional: the most events one batch should carry (the reference's own bound is 5000). The
   * coordinator holds every agent's batch in flight until it has taken it in, so it sizes this for
   * the run (coordinator.ts, maxBatchEventsFor): N agents times this is what it may hold waiting.
   */
  maxBatchEvents?: number;
}

/**
 * `hold: true` asks the peer to hold back its own start-up work (a join)
 * until `go` arrives: peers started by the hundred register sooner when the
 * first ones' joins are not competing with the last ones' start-up for the
 * CPU. Absent or false: begin at once. An agent that ignores it still
 * conforms; its peer only starts that work sooner.
 */
export type HelloAck = {ok: true; runId: string; settings: AgentSettings; hold?: boolean} | {ok: false; error: WireError};

export interface CommandRequest {
  /** Unique per coordinator; echoed in the reply. */
  id: string;
  name: string;
  args?: Record<string, unknown>;
  /** The agent gives up and answers `timeout` after this long. */
  timeoutMs: number;
}

/**
 * `text` is the peer's own rendering of the result for a person, when it has one.
 * `seq` is the sequence number of the last event the agent had emitted when it
 * replied: the events a command caused are at or below it, so the coordinator
 * can wait for them before it acts on the reply.
 */
export type CommandReply = {id: string; ok: true; result: unknown; text?: string; seq?: number} | {id: string; ok: false; error: WireError; seq?: number};

/** One thing that happened in a peer. `seq` counts from 1 per agent run, without gaps. */
export interface PeerEvent {
  seq: number;
  /** Epoch ms at the peer. */
  time: number;
  type: string;
  data: Record<string, unknown>;
}

export interface EventBatch {
  peer: string;
  events: PeerEvent[];
}

/**
 * `rejected` lists the events of the batch whose data broke the event
 * contract for their type (@peerlab/events/contract): counted, recorded in
 * the history as `event.rejected`, not as the peer's. Absent when none was.
 */
export type EventBatchAck = {ok: true; lastSeq: number; rejected?: Array<{seq: number; field: string; message: string}>} | {ok: false; error: WireError};

export interface SnapshotMember {
  name: string;
  address: string;
  state: 'alive' | 'suspect' | 'dead' | 'left';
  incarnation: number;
}

export interface Snapshot {
  peer: string;
  time: number;
  members: SnapshotMember[];
  messages: {count: number; ids: string[]};
  /** Anything else the peer wants to show. */
  extra?: Record<string, unknown>;
}

export type SnapshotReply = {ok: true; snapshot: Snapshot} | {ok: false; error: WireError};

// --- validation ------------------------------------------------------------

export class ProtocolError extends Error {
  constructor(
    readonly field: string,
    expected: string,
    readonly value: unknown,
  ) {
    super(`${field}: expected ${expected}, got ${describeValue(value)}`);
    this.name = 'ProtocolError';
  }
}



function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}


function refusePrototypeKey(v: object, field: string): void {
  const key = prototypeKey(v);
  if (key !== undefined) throw new ProtocolError(`${field}.${key}`, 'no such key (it names the object prototype)', (v as Record<string, unknown>)[key]);
}


function object(v: unknown, field: string): Record<string, unknown> {
  if (!isObject(v)) throw new ProtocolError(field, 'an object', v);
  refusePrototypeKey(v, field);
  return v;
}

function string(v: unknown, field: string, max = 1000): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw new ProtocolError(field, `a string of 1-${max} characters`, v);
  return v;
}

function integer(v: unknown, field: string, min = 0): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw new ProtocolError(field, `an integer >= ${min}`, v);
  return v;
}


const argTypes = new Set(['string', 'integer', 'number', 'boolean', 'enum']);

function argSpec(v: unknown, field: string): ArgSpec {
  const a = object(v, field);
  string(a.name, `${field}.name`, 64);
  if (typeof a.type !== 'string' || !argTypes.has(a.type)) throw new ProtocolError(`${field}.type`, [...argTypes].join('|'), a.type);
  // Index loops rather than every()/forEach(), which skip the holes of a sparse array.
  if (a.values !== undefined && (!Array.isArray(a.values) || !Array.from(a.values as unknown[]).every((x) => typeof x === 'string'))) {
    throw new ProtocolError(`${field}.values`, 'a list of strings', a.values);
  }
  return a as unknown as ArgSpec;
}

export function parseHello(v: unknown): Hello {
  const h = object(v, 'hello');
  if (h.protocol !== PROTOCOL_VERSION) throw new ProtocolError('hello.protocol', String(PROTOCOL_VERSION), h.protocol);
  if (!isValidPeerName(h.peer)) throw new ProtocolError('hello.peer', `a name of ${PEER_NAME_RULE}`, h.peer);
  integer(h.pid, 'hello.pid', 1);
  string(h.version, 'hello.version', 100);
  string(h.address, 'hello.address', 300);
  if (h.instance !== undefined) string(h.instance, 'hello.instance', 100);
  parseCommandSpecs(h.commands, 'hello.commands');
  if (h.capabilities !== undefined) parseCapabilities(h.capabilities, 'hello.capabilities');
  return h as unknown as Hello;
}

/** A capabilities object: known names only, each once; an unknown one is refused rather than ignored, so a misspelling is seen. */
export function parseCapabilities(v: unknown, field = 'capabilities'): Capabilities {
  const c = object(v, field);
  refusePrototypeKey(c, field);
  for (const key of Object.keys(c)) if (key !== 'events' && key !== 'fields') throw new ProtocolError(`${field}.${key}`, 'no such key (events, fields)', c[key]);
  const names = <T extends string>(list: unknown, at: string, known: readonly T[]): T[] => {
    if (list === undefined) return [];
    if (!Array.isArray(list)) throw new ProtocolError(at, `a list of ${known.join(', ')}`, list);
    const out: T[] = [];
    for (let i = 0; i < list.length; i++) {
      const name: unknown = list[i];
      if (!known.includes(name as T)) throw new ProtocolError(`${at}[${i}]`, `one of ${known.join(', ')}`, name);
      if (!out.includes(name as T)) out.push(name as T);
    }
    return out;
  };
  return {events: names(c.events, `${field}.events`, EVENT_FAMILIES), fields: names(c.fields, `${field}.fields`, EVENT_FIELDS)};
}

/**
 * A program's `--describe-commands` answer: `{commands, capabilities}`, or
 * (the older form, still taken) a plain list of command specs, which
 * declares nothing beyond its commands.
 */
export function parseDescription(v: unknown): Description {
  if (Array.isArray(v)) return {commands: parseCommandSpecs(v), capabilities: NO_CAPABILITIES};
  const d = object(v, 'description');
  refusePrototypeKey(d, 'description');
  for (const key of Object.keys(d)) if (key !== 'commands' && key !== 'capabilities') throw new ProtocolError(`description.${key}`, 'no such key (commands, capabilities)', d[key]);
  return {
    commands: parseCommandSpecs(d.commands, 'description.commands'),
    capabilities: d.capabilities === undefined ? NO_CAPABILITIES : parseCapabilities(d.capabilities, 'description.capabilities'),
  };
}


/**
 * A list of command specs, checked as `hello` checks its own: also what a
 * peer program prints for `--describe-commands`, so the scenario loader
 * trusts that list no more than the hub trusts a hello.
 */
export function parseCommandSpecs(v: unknown, field = 'commands'): CommandSpec[] {
  if (!Array.isArray(v)) throw new ProtocolError(field, 'a list', v);
  for (let i = 0; i < v.length; i++) {
    const command = object(v[i], `${field}[${i}]`);
    string(command.name, `${field}[${i}].name`, 64);
    if (!Array.isArray(command.args)) throw new ProtocolError(`${field}[${i}].args`, 'a list', command.args);
    for (let j = 0; j < command.args.length; j++) argSpec(command.args[j], `${field}[${i}].args[${j}]`);
  }
  return v as CommandSpec[];
}

export function parseHelloAck(v: unknown): HelloAck {
  const a = object(v, 'hello ack');
  if (a.ok === true) {
    string(a.runId, 'hello ack.runId', 200);
    const s = object(a.settings, 'hello ack.settings');
    integer(s.commandTimeoutMs, 'hello ack.settings.commandTimeoutMs', 1);
    integer(s.flushIntervalMs, 'hello ack.settings.flushIntervalMs', 1);
    if (s.maxBatchEvents !== undefined) integer(s.maxBatchEvents, 'hello ack.settings.maxBatchEvents', 1);
    if (a.hold !== undefined && typeof a.hold !== 'boolean') throw new ProtocolError('hello ack.hold', 'a boolean', a.hold);
  } else {
    parseWireError(a.error, 'hello ack.error');
  }
  return a as unknown as HelloAck;
}

function parseWireError(v: unknown, field: string): WireError {
  const e = object(v, field);
  if (typeof e.message !== 'string') throw new ProtocolError(`${field}.message`, 'a string', e.message);
  if (typeof e.code !== 'string') throw new ProtocolError(`${field}.code`, 'a string', e.code);
  return e as unknown as WireError;
}

export function parseCommandRequest(v: unknown): CommandRequest {
  const c = object(v, 'command');
  string(c.id, 'command.id', 100);
  string(c.name, 'command.name', 64);
  if (c.args !== undefined) {
    if (!isObject(c.args)) throw new ProtocolError('command.args', 'an object', c.args);
    const path = findPrototypeKey(c.args);
    if (path) {
      const value = path.reduce<unknown>((at, key) => (at as Record<string | number, unknown>)[key], c.args);
      throw new ProtocolError(`command.args${path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('')}`, 'no such key (it names the object prototype)', value);
    }
  }
  integer(c.timeoutMs, 'command.timeoutMs', 1);
  return c as unknown as CommandRequest;
}

export function parseCommandReply(v: unknown): CommandReply {
  const r = object(v, 'command reply');
  string(r.id, 'command reply.id', 100);
  if (r.ok === true) {
    if (nestsDeeperThan(r.result, MAX_VALUE_DEPTH)) throw new ProtocolError('command reply.result', `a value nested at most ${MAX_VALUE_DEPTH} levels deep`, '(deeper)');
    return r as unknown as CommandReply;
  }
  if (r.ok !== false) throw new ProtocolError('command reply.ok', 'true or false', r.ok);
  parseWireError(r.error, 'command reply.error');
  return r as unknown as CommandReply;
}

export function parseEventBatch(v: unknown): EventBatch {
  const b = object(v, 'events');
  if (!isValidPeerName(b.peer)) throw new ProtocolError('events.peer', 'a peer name', b.peer);
  if (!Array.isArray(b.events) || b.events.length > 100_000) throw new ProtocolError('events.events', 'a list of events', b.events);
  // Events come by the hundred thousand per second: the checks below build no field path unless one fails.
  const events = b.events as unknown[];
  let previous: number | undefined;
  for (let i = 0; i < events.length; i++) {
    const event = events[i];
    if (!isObject(event) || prototypeKey(event) !== undefined) object(event, `events.events[${i}]`);
    const {seq, time, type, data} = event as Record<string, unknown>;
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) integer(seq, `events.events[${i}].seq`, 1);
    // The hub keeps the batch's last seq as the high-water mark: out of order would skip or repeat events.
    if (previous !== undefined && seq !== previous + 1) {
      throw new ProtocolError(`events.events[${i}].seq`, `${previous + 1} (consecutive within a batch)`, seq);
    }
    previous = seq as number;
    if (typeof time !== 'number' || !Number.isFinite(time)) throw new ProtocolError(`events.events[${i}].time`, 'epoch ms', time);
    if (typeof type !== 'string' || type.length === 0 || type.length > 64) string(type, `events.events[${i}].type`, 64);
    // Prototype keys one level deep only: data is the peer's own, and a path per event would cost the stream its rate.
    if (!isObject(data) || prototypeKey(data) !== undefined) object(data, `events.events[${i}].data`);
    // The depth walk pushes only nested objects: flat data, nearly every event, costs one pass over its keys.
    if (nestsDeeperThan(data, MAX_VALUE_DEPTH)) throw new ProtocolError(`events.events[${i}].data`, `an object nested at most ${MAX_VALUE_DEPTH} levels deep`, '(deeper)');
  }
  return b as unknown as EventBatch;
}



export function parseSnapshotReply(v: unknown): SnapshotReply {
  const r = object(v, 'snapshot reply');
  if (r.ok !== true) {
    parseWireError(r.error, 'snapshot reply.error');
    return r as unknown as SnapshotReply;
  }
  const s = object(r.snapshot, 'snapshot');
  if (!isValidPeerName(s.peer)) throw new ProtocolError('snapshot.peer', 'a peer name', s.peer);
  if (!Array.isArray(s.members)) throw new ProtocolError('snapshot.members', 'a list', s.members);
  for (let i = 0; i < s.members.length; i++) {
    const member = object(s.members[i], `snapshot.members[${i}]`);
    string(member.name, `snapshot.members[${i}].name`, 64);
    if (!['alive', 'suspect', 'dead', 'left'].includes(member.state as string)) {
      throw new ProtocolError(`snapshot.members[${i}].state`, 'alive|suspect|dead|left', member.state);
    }
    integer(member.incarnation, `snapshot.members[${i}].incarnation`);
  }
  const messages = object(s.messages, 'snapshot.messages');
  integer(messages.count, 'snapshot.messages.count');
  if (!Array.isArray(messages.ids)) throw new ProtocolError('snapshot.messages.ids', 'a list', messages.ids);
  return r as unknown as SnapshotReply;
}

export function toWireError(error: unknown, code = 'failed'): WireError {
  if (error instanceof Error) {
    const withCode = error as Error & {code?: unknown};
    return {message: error.message, code: typeof withCode.code === 'string' ? withCode.code : code};
  }
  return {message: String(error), code};
}
