/**
 * The coordinator's end of the agent protocol: a socket.io namespace where
 * agents register, stream events and answer commands. The hub validates every
 * message it receives; a malformed one is answered with an error, logged, and
 * never brings the hub down. Duplicate names are refused while the first
 * holder is connected.
 */
import {EventEmitter} from 'node:events';
import type {Server, Socket} from 'socket.io';
import type {AgentSettings, Capabilities, CommandReply, CommandSpec, EventBatch, EventBatchAck, Hello, HelloAck, PeerEvent, Snapshot, WireError} from '@peerlab/client-agent/protocol';
import {Channel, NO_CAPABILITIES, ProtocolError, parseCommandReply, parseEventBatch, parseHello, parseSnapshotReply, toWireError} from '@peerlab/client-agent/protocol';
import {checkPeerEvent, eventPhrase} from '@peerlab/events/contract';
import type {CoordinatorEventData} from '@peerlab/events/contract';
import {describeValue} from '@peerlab/events/values';
import {tokenMatches} from '@peerlab/node-kit/require-token';
import {AUTHENTICATED_MAX_BYTES, setFrameLimit} from './frame-limit.js';
import {IngestQueue} from './ingest-queue.js';

export interface AgentInfo {
  name: string;
  pid: number;
  version: string;
  address: string;
  commands: CommandSpec[];
  /** What its hello declares it reports; nothing when the hello has no capabilities. */
  capabilities: Capabilities;
  connectedAt: number;
  /** Highest event sequence received; events at or below it are duplicates. */
  lastSeq: number;
  /** Times this agent registered in this run (reconnects count). */
  registrations: number;
}

export interface HubEvents {
  registered: [AgentInfo];
  disconnected: [name: string, reason: string];
  events: [name: string, events: PeerEvent[]];
  /** A sequence gap: events lost between lastSeq and the batch's first seq. */
  gap: [name: string, expected: number, got: number];
  'protocol-error': [detail: CoordinatorEventData<'protocol.error'>];
  /**
   * An event of a type the contract lists whose data breaks it: not passed on
   * as the peer's, but said so. Its seq counts all the same (it is no gap).
   */
  rejected: [detail: CoordinatorEventData<'event.rejected'>];
}

export interface HubOptions {
  runId: string;
  token: string;
  settings?: Partial<AgentSettings>;
  /** How long one turn of the event loop may spend taking in batches (IngestQueue); default 20 ms. */
  ingestSliceMs?: number;
}

export class HubError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'HubError';
  }
}

let commandIds = 0;

export class Hub extends EventEmitter<HubEvents> {
  readonly #agents = new Map<string, {info: AgentInfo; socket: Socket}>();
  /** Sequence state survives reconnects, so resent events are recognised as duplicates. */
  readonly #lastSeq = new Map<string, number>();
  readonly #registrations = new Map<string, number>();
  /** Which process run (hello.instance, else pid) last registered under each name. */
  readonly #instances = new Map<string, string>();
  /** Names of peers started together whose start-up work waits for `go` (`hold`). */
  readonly #held = new Set<string>();
  readonly settings: AgentSettings;
  /** Event batches beyond what one turn of the event loop may spend on them wait here, in arrival order. */
  readonly #ingest: IngestQueue;
  /** Per peer name, its batches, hellos and disconnects still waiting in #ingest. */
  readonly #waiting = new Map<string, number>();
  /** Per peer name, the last batch it sent that still waits in #ingest: a resend of it takes its place. */
  readonly #waitingBatch = new Map<string, WaitingBatch>();

  constructor(
    io: Server,
    private readonly options: HubOptions,
  ) {
    super();
    this.settings = {commandTimeoutMs: 10_000, flushIntervalMs: 50, ...options.settings};
    this.#ingest = new IngestQueue(options.ingestSliceMs);
    io.use((socket, next) => {
      const token = (socket.handshake.auth as {token?: unknown} | undefined)?.token;
      if (!tokenMatches(token, options.token)) return next(new Error('unauthorized: a valid run token is required'));
      if (!setFrameLimit(socket, AUTHENTICATED_MAX_BYTES)) {
        this.emit('protocol-error', {socket: socket.id, channel: 'connect', message: `cannot raise this connection's message limit above the pre-authentication one (transport ${socket.conn.transport.name})`});
      }
      next();
    });
    io.on('connection', (socket) => this.#onConnection(socket));
  }

  agents(): AgentInfo[] {
    return [...this.#agents.values()].map((a) => a.info).sort((a, b) => a.name.localeCompare(b.name));
  }

  get(name: string): AgentInfo | undefined {
    return this.#agents.get(name)?.info;
  }

  isConnected(name: string): boolean {
    return this.#agents.has(name);
  }

  /**
   * Peers started together register first and begin their own work (a join)
   * together: each is answered `hold` until the returned function is called,
   * which sends `go` to those registered and answers later hellos plainly.
   * Call it once their start has ended, registered or not.
   */
  hold(names: readonly string[]): () => void {
    for (const name of names) this.#held.add(name);
    return () => {
      for (const name of names) {
        if (!this.#held.delete(name)) continue;
        this.#agents.get(name)?.socket.emit(Channel.go);
      }
    };
  }

  /** Resolves when every name is registered, or rejects at the deadline naming the missing ones. */
  waitForRegistered(names: readonly string[], timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const missing = () => names.filter((n) => !this.#agents.has(n));
      const check = () => {
        if (missing().length === 0) done(resolve);
      };
      const done = (fn: () => void) => {
        clearTimeout(timer);
        this.off('registered', check);
        signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const onAbort = () => done(() => reject(new HubError('stopped while waiting for registration', 'aborted')));
      const timer = setTimeout(() => done(() => reject(new HubError(`not registered within ${timeoutMs} ms: ${missing().join(', ')}`, 'timeout'))), timeoutMs);
      this.on('registered', check);
      signal?.addEventListener('abort', onAbort);
      check();
    });
  }

  /** Sends one command and waits for the reply; never throws: errors come back as values. */
  async command(name: string, command: string, args?: Record<string, unknown>, timeoutMs = this.settings.commandTimeoutMs): Promise<CommandReply> {
    const id = `c${++commandIds}`;
    const agent = this.#agents.get(name);
    if (!agent) return {id, ok: false, error: {message: `no peer named ${name} is connected`, code: 'not-connected'}};
    let onDrop: (() => void) | undefined;
    // A dropped connection will never bring the answer: say so now, not at the deadline.
    const dropped = new Promise<CommandReply>((resolve) => {
      onDrop = () => resolve({id, ok: false, error: {message: `${name} disconnected before answering ${command}`, code: 'not-connected'}});
      agent.socket.once('disconnect', onDrop);
    });
    try {
      // The agent enforces the deadline itself; the extra margin covers the round trip.
      const answer = agent.socket
        .timeout(timeoutMs + 1000)
        .emitWithAck(Channel.command, {id, name: command, args, timeoutMs})
        .then((raw: unknown) => parseCommandReply(raw));
      return await Promise.race([answer, dropped]);
    } catch (error) {
      if (error instanceof ProtocolError) return {id, ok: false, error: {message: `malformed reply from ${name}: ${error.message}`, code: 'bad-message'}};
      return {id, ok: false, error: {message: `${name} did not answer ${command} within ${timeoutMs + 1000} ms`, code: 'timeout'}};
    } finally {
      agent.socket.off('disconnect', onDrop!);
    }
  }

  async snapshot(name: string, timeoutMs = 5000): Promise<{ok: true; snapshot: Snapshot} | {ok: false; error: WireError}> {
    const agent = this.#agents.get(name);
    if (!agent) return {ok: false, error: {message: `no peer named ${name} is connected`, code: 'not-connected'}};
    try {
      return parseSnapshotReply(await agent.socket.timeout(timeoutMs).emitWithAck(Channel.snapshot, {}));
    } catch (error) {
      return {ok: false, error: toWireError(error, error instanceof ProtocolError ? 'bad-message' : 'timeout')};
    }
  }

  /**
   * Resolves true once the peer's events up to `seq` have arrived, false at the
   * deadline or if it disconnects: a causal barrier after a command reply.
   */
  waitForSeq(name: string, seq: number, timeoutMs: number): Promise<boolean> {
    if ((this.#lastSeq.get(name) ?? 0) >= seq) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (value: boolean) => {
        clearTimeout(timer);
        this.off('events', onEvents);
        this.off('rejected', onRejected);
        this.off('disconnected', onGone);
        resolve(value);
      };
      const onEvents = (peer: string) => {
        if (peer === name && (this.#lastSeq.get(name) ?? 0) >= seq) done(true);
      };
      const onRejected = (detail: {peer: string}) => onEvents(detail.peer);
      const onGone = (peer: string) => {
        if (peer === name) done(false);
      };
      // The deadline is the peer's: while its events wait in this hub's own queue, it has not run out.
      const expire = () => (this.#waitingFor(name) > 0 ? (timer = setTimeout(expire, 50)) : done(false));
      let timer = setTimeout(expire, timeoutMs);
      this.on('events', onEvents);
      this.on('rejected', onRejected);
      this.on('disconnected', onGone);
    });
  }

  /** Takes in every event batch that still waits: the coordinator is closing, and what arrived belongs in the history. */
  flushEvents(): void {
    this.#ingest.flush();
  }

  #waitingFor(name: string): number {
    return this.#waiting.get(name) ?? 0;
  }

  /** Runs `job` for `name` through #ingest (at once while the turn has budget and nothing waits), counted as waiting meanwhile. */
  #queue(name: string, job: () => void): void {
    this.#waiting.set(name, this.#waitingFor(name) + 1);
    this.#ingest.run(() => {
      const left = this.#waitingFor(name) - 1;
      if (left > 0) this.#waiting.set(name, left);
      else this.#waiting.delete(name);
      job();
    });
  }

  /**
   * Runs `job` for `name` now, unless some of that peer's batches still wait: then after them, so its
   * history stays in the order it arrived (a restart's hello resets the count its old events are deduplicated
   * by; a disconnect ends a command's wait for the events it caused).
   */
  #afterWaiting(name: string, job: () => void): void {
    if (this.#waitingFor(name) > 0) this.#queue(name, job);
    else job();
  }

  /** A bare round trip to the agent: no registry, no validation. The floor a command pays; the bench's baseline. */
  async ping(name: string, timeoutMs = 5000): Promise<boolean> {
    const agent = this.#agents.get(name);
    if (!agent) return false;
    try {
      await agent.socket.timeout(timeoutMs).emitWithAck(Channel.ping, {t: Date.now()});
      return true;
    } catch {
      return false;
    }
  }

  /** Cuts an agent's connection (it will reconnect); for tests of the reconnect path. */
  disconnect(name: string): boolean {
    const agent = this.#agents.get(name);
    if (!agent) return false;
    // Forget it now: the socket's own disconnect event may come later.
    this.#agents.delete(name);
    agent.socket.disconnect(true);
    this.emit('disconnected', name, 'server namespace disconnect');
    return true;
  }

  /** Records a batch's new events (read when it is its turn, so a resent batch behind it counts as duplicates) and acknowledges it. */
  #takeIn(name: string, batch: EventBatch, reply: (answer: EventBatchAck) => void): void {
    const last = this.#lastSeq.get(name) ?? 0;
    let fresh = batch.events.filter((e) => e.seq > last);
    const rejected: CoordinatorEventData<'event.rejected'>[] = [];
    if (fresh.length > 0) {
      if (fresh[0]!.seq !== last + 1) this.emit('gap', name, last + 1, fresh[0]!.seq);
      const newLast = fresh.at(-1)!.seq;
      this.#lastSeq.set(name, newLast);
      const agent = this.#agents.get(name);
      if (agent) agent.info.lastSeq = newLast;
      // The contract, event by event: one dispatch on the type and one parse, nothing copied.
      // Events before and after a rejected one are passed on in order, around its rejection.
      let from = 0;
      for (let i = 0; i < fresh.length; i++) {
        const e = fresh[i]!;
        const problem = checkPeerEvent(e.type, e.data);
        if (!problem) continue;
        if (i > from) this.emit('events', name, fresh.slice(from, i));
        from = i + 1;
        const index = e.seq - batch.events[0]!.seq;
        const message = `events.events[${index}].${problem.field}: expected ${problem.expected} in ${eventPhrase(e.type)}, got ${describeValue(problem.value)}`;
        const detail = {peer: name, seq: e.seq, time: e.time, type: e.type, field: problem.field, message};
        rejected.push(detail);
        this.emit('rejected', detail);
      }
      fresh = from === 0 ? fresh : fresh.slice(from);
      if (fresh.length > 0) this.emit('events', name, fresh);
    }
    if (rejected.length > 0) {
      return reply({ok: true, lastSeq: this.#lastSeq.get(name) ?? 0, rejected: rejected.map(({seq, field, message}) => ({seq, field, message}))});
    }
    reply({ok: true, lastSeq: this.#lastSeq.get(name) ?? 0});
  }

  #protocolError(socket: Socket, channel: string, error: unknown, peer?: string): WireError {
    const message = error instanceof Error ? error.message : String(error);
    this.emit('protocol-error', {socket: socket.id, ...(peer ? {peer} : {}), channel, message});
    return {message, code: 'bad-message'};
  }

  #onConnection(socket: Socket): void {
    let name: string | undefined;
    socket.on(Channel.hello, (...args: unknown[]) => {
      const {payload, reply} = splitAck<HelloAck>(args);
      let hello;
      try {
        hello = parseHello(onePayload(Channel.hello, payload));
      } catch (error) {
        return reply({ok: false, error: this.#protocolError(socket, Channel.hello, error)});
      }
      const accepted = hello;
      this.#afterWaiting(hello.peer, () => register(accepted, reply));
    });

    const register = (hello: Hello, reply: (answer: HelloAck) => void) => {
      // Gone while its hello waited behind its name's batches: there is nobody to register.
      if (socket.disconnected) return;
      const existing = this.#agents.get(hello.peer);
      const instance = hello.instance ?? `pid:${hello.pid}`;
      if (existing && existing.socket.id !== socket.id && this.#instances.get(hello.peer) === instance) {
        // The same process on a new connection while the old one lingers half-open: the new one wins.
        this.#agents.delete(hello.peer);
        existing.socket.disconnect(true);
      } else if (existing && existing.socket.id !== socket.id) {
        const message = `a peer named ${hello.peer} is already registered (pid ${existing.info.pid}); names must be unique`;
        this.emit('protocol-error', {socket: socket.id, peer: hello.peer, channel: Channel.hello, message});
        return reply({ok: false, error: {message, code: 'duplicate-name'}});
      }
      if (name && name !== hello.peer) {
        return reply({ok: false, error: this.#protocolError(socket, Channel.hello, new Error(`this connection is already registered as ${name}`))});
      }
      name = hello.peer;
      // A new process under a known name (a restart) counts its events from 1 again.
      if (this.#instances.get(name) !== instance) this.#lastSeq.delete(name);
      this.#instances.set(name, instance);
      const registrations = (this.#registrations.get(name) ?? 0) + 1;
      this.#registrations.set(name, registrations);
      const info: AgentInfo = {
        name,
        pid: hello.pid,
        version: hello.version,
        address: hello.address,
        commands: hello.commands,
        capabilities: hello.capabilities ?? NO_CAPABILITIES,
        connectedAt: Date.now(),
        lastSeq: this.#lastSeq.get(name) ?? 0,
        registrations,
      };
      this.#agents.set(name, {info, socket});
      reply({ok: true, runId: this.options.runId, settings: this.settings, ...(this.#held.has(name) ? {hold: true} : {})});
      this.emit('registered', info);
    };

    socket.on(Channel.events, (...args: unknown[]) => {
      const {payload, reply} = splitAck<unknown>(args);
      if (!name) return reply({ok: false, error: this.#protocolError(socket, Channel.events, new Error('events before hello'))});
      let batch;
      try {
        batch = parseEventBatch(onePayload(Channel.events, payload));
        if (batch.peer !== name) throw new Error(`events.peer: expected ${name} (this connection's peer), got ${batch.peer}`);
      } catch (error) {
        return reply({ok: false, error: this.#protocolError(socket, Channel.events, error, name)});
      }
      const peer = name;
      // An agent that gave up waiting for the ack sends the same events again (and maybe more). Queued too,
      // each copy would wait its turn in memory: a coordinator minutes behind held several copies of every
      // agent's batch, until it ran out of memory. The resend takes the waiting one's place and its answer.
      const waiting = this.#waitingBatch.get(peer);
      if (waiting && waiting.socket === socket.id && covers(batch, waiting.batch)) {
        waiting.batch = batch;
        waiting.reply = reply;
        return;
      }
      const entry: WaitingBatch = {socket: socket.id, batch, reply};
      this.#waitingBatch.set(peer, entry);
      this.#queue(peer, () => {
        if (this.#waitingBatch.get(peer) === entry) this.#waitingBatch.delete(peer);
        this.#takeIn(peer, entry.batch, entry.reply);
      });
    });

    socket.on('disconnect', (reason) => {
      if (!name) return;
      const peer = name;
      this.#afterWaiting(peer, () => {
        const current = this.#agents.get(peer);
        if (current?.socket.id === socket.id) {
          this.#agents.delete(peer);
          this.emit('disconnected', peer, reason);
        }
      });
    });

    // Anything else an agent sends is not part of the protocol: say so, and carry on.
    socket.onAny((channel: string, ...args: unknown[]) => {
      if (channel === Channel.hello || channel === Channel.events) return;
      const error = this.#protocolError(socket, channel, new Error(`unknown message "${channel}"`), name);
      splitAck(args).reply({ok: false, error});
    });
  }
}

interface WaitingBatch {
  /** The connection it came on: a batch from a later connection (a restart's) never replaces it. */
  socket: string;
  batch: EventBatch;
  reply: (answer: EventBatchAck) => void;
}

/** Whether `newer` holds every event of `older`: a resend of the same oldest pending events, perhaps with more. */
function covers(newer: EventBatch, older: EventBatch): boolean {
  const first = older.events[0];
  if (!first) return true;
  const from = newer.events[0];
  return from !== undefined && from.seq <= first.seq && newer.events.at(-1)!.seq >= older.events.at(-1)!.seq;
}

/**
 * socket.io puts the ack, when the sender asked for one, after whatever
 * arguments came: it is the last one, not the second. Taking it by position
 * left a message without a payload (or with two) unanswered until the sender's
 * deadline.
 */
function splitAck<A>(args: unknown[]): {payload: unknown[]; reply: (answer: A) => void} {
  const last = args.at(-1);
  if (typeof last !== 'function') return {payload: args, reply: () => {}};
  return {payload: args.slice(0, -1), reply: last as (answer: A) => void};
}

/** Every agent message is one value; a missing or extra argument is a malformed message, said so. */
function onePayload(channel: string, payload: unknown[]): unknown {
  if (payload.length !== 1) throw new Error(`${channel}: expected one message, got ${payload.length} arguments`);
  return payload[0];
}
