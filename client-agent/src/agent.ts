/**
 * The client agent: connects a peer to the coordinator, registers its
 * commands, runs the commands it is sent (each under a deadline, errors as
 * values; a handler whose answer is no longer wanted hears so through its
 * AbortSignal, and its end is reported as a `command.late` event), streams
 * the peer's events in sequence-numbered batches, answers snapshots, and
 * reconnects with backoff. If the coordinator stays
 * unreachable past the grace period, the agent gives up and the peer exits:
 * a peer never outlives the run that started it.
 */
import {randomUUID} from 'node:crypto';
import {io} from 'socket.io-client';
import type {Socket} from 'socket.io-client';
import type {Registry} from './registry.js';
import {CommandError} from './registry.js';
import type {AgentSettings, Capabilities, CommandReply, EventBatch, EventBatchAck, Hello, HelloAck, PeerEvent, Snapshot, SnapshotReply} from './protocol.js';
import {Channel, PROTOCOL_VERSION, parseCommandRequest, parseHelloAck, toWireError} from './protocol.js';
// Types only: the contract's zod schemas stay out of every peer that embeds the agent.
import type {PeerEventData, PeerEventType} from '@peerlab/events/contract';

/** The data an event of type T carries: the contract's for a type it lists, any object for an extension type. */
export type EventDataFor<T extends string> = T extends PeerEventType ? PeerEventData<T> : Record<string, unknown>;

export interface AgentOptions<Ctx> {
  url: string;
  token: string;
  name: string;
  version: string;
  address: string;
  registry: Registry<Ctx>;
  /** What the peer reports beyond its commands (sent in hello); without it, nothing. */
  capabilities?: Capabilities;
  context: Ctx;
  snapshot(): Snapshot;
  /** How long the coordinator may stay unreachable before the agent gives up (default 5 s). */
  graceMs?: number;
  /** Called once when the grace period runs out or registration is refused. */
  onGiveUp(reason: string): void;
  log?(message: string): void;
}

const MAX_BATCH = 5000;
const BACKLOG = 500;
/**
 * How long the agent waits for the coordinator: a connection attempt, the
 * hello's ack, a batch's ack. A coordinator taking in a thousand peers at
 * once answers late, not never, and every retry after a short timeout is work
 * it does twice (the abandoned hello is still registered, the batch still
 * taken in): short timeouts there turn a slow start into a retry storm that
 * never registers the last peers. A coordinator that is gone is found out
 * sooner by the connection dropping (a refused connect, the heartbeat), not by these.
 *
 * A connection attempt waits longest. Node (libuv 1.46) accepts one
 * connection per turn of the coordinator's event loop, so while 2,000 peers
 * register the queue of connections not yet accepted was a thousand deep and
 * took longer than 20 s to reach. An attempt given up leaves its connection in
 * that queue, where the coordinator still spends a turn to accept it and find
 * it gone, ahead of the live ones: with 20 s, 2,000 agents made 4,000-5,800
 * attempts, and for up to a minute none registered. With 120 s, each made one.
 */
const CONNECT_TIMEOUT_MS = 120_000;
const ACK_TIMEOUT_MS = 30_000;
/**
 * How long a batch waits for its ack while its connection stands. The hub
 * answers every batch once it has taken it in, however far behind it is, and
 * a dropped connection ends the wait at once; a resend on the same
 * connection only sends and parses the same events again. With 30 s, a
 * 2,000-peer storm that put the coordinator minutes behind had every agent
 * resend its batch every 30 s: more events to parse than it could record, and
 * each copy held in its ingest queue until its turn, until it ran out of memory.
 */
const BATCH_ACK_TIMEOUT_MS = 300_000;

export class Agent<Ctx> {
  readonly #options: AgentOptions<Ctx>;
  readonly #socket: Socket;
  #settings: AgentSettings = {commandTimeoutMs: 10_000, flushIntervalMs: 50};
  #seq = 0;
  /** Events not yet acknowledged by the coordinator; resent after a reconnect. */
  #pending: PeerEvent[] = [];
  #inFlight = false;
  /** Counts batches sent and connections dropped: only the latest batch's outcome may end the wait. */
  #flight = 0;
  #registered = false;
  #flushTimer: NodeJS.Timeout | undefined;
  #graceTimer: NodeJS.Timeout | undefined;
  #closed = false;
  /** One per command whose handler is still running, deadline passed or not. */
  readonly #running = new Set<AbortController>();
  readonly #instance = randomUUID();
  #release: (() => void) | undefined;
  /**
   * Settles once the coordinator lets the peer begin its own start-up work
   * (a join): at the first accepted hello, or, when that hello's answer said
   * `hold`, at the coordinator's `go`. Never settles if the agent gives up.
   */
  readonly released = new Promise<void>((resolve) => {
    this.#release = resolve;
  });
  runId: string | undefined;

  constructor(options: AgentOptions<Ctx>) {
    this.#options = options;
    this.#socket = io(options.url, {
      transports: ['websocket'],
      auth: {token: options.token},
      reconnection: true,
      reconnectionDelay: 100,
      reconnectionDelayMax: 2000,
      randomizationFactor: 0.3,
      timeout: CONNECT_TIMEOUT_MS,
      autoConnect: false,
    });
    this.#socket.on('connect', () => void this.#hello());
    this.#socket.on('disconnect', (reason) => {
      this.#registered = false;
      this.#inFlight = false;
      this.#flight++;
      this.#log(`disconnected: ${reason}`);
      // A reply cannot reach a coordinator on a connection that is gone, and the hub has already
      // answered "disconnected before answering" to whoever asked.
      this.#abortRunning(`the connection to the coordinator dropped (${reason})`);
      this.#startGrace();
      // A server-side disconnect is not retried by socket.io on its own.
      if (reason === 'io server disconnect' && !this.#closed) this.#socket.connect();
    });
    this.#socket.on('connect_error', (error) => {
      this.#log(`cannot reach coordinator: ${error.message}`);
      // A refused or broken connection means the coordinator may be gone; a timeout only that the
      // machine is busy (hundreds of peers starting at once), which is no reason to give up.
      if (error.message !== 'timeout') this.#startGrace();
      if (/unauthorized/.test(error.message)) this.#giveUp(`coordinator refused the token: ${error.message}`);
    });
    this.#socket.on(Channel.command, (raw: unknown, ack: unknown) => void this.#onCommand(raw, ack));
    this.#socket.on(Channel.snapshot, (_raw: unknown, ack: unknown) => this.#onSnapshot(ack));
    this.#socket.on(Channel.go, () => this.#release?.());
    this.#socket.on(Channel.ping, (payload: unknown, ack: unknown) => {
      if (typeof ack === 'function') (ack as (p: unknown) => void)(payload);
    });
  }

  /** Connects; the returned promise settles with the first registration answer. */
  start(): Promise<HelloAck> {
    // The grace period runs from the first failure to connect, not from the start: a
    // coordinator that is merely slow under load is not unreachable.
    const first = new Promise<HelloAck>((resolve) => {
      this.#onFirstAck = resolve;
    });
    this.#socket.connect();
    return first;
  }

  #onFirstAck: ((ack: HelloAck) => void) | undefined;

  /**
   * Records one event; it is sent with the next flush. A type the event
   * contract lists must carry the data the contract gives it (checked at
   * build time here, and by the hub on arrival); any other type is an
   * extension, sent as it is.
   */
  emit<T extends string>(type: T, data: EventDataFor<T>): void {
    if (this.#closed) return;
    // The hub refuses a whole batch for one bad event, and the batch would be resent forever.
    if (typeof type !== 'string' || type.length === 0 || type.length > 64 || typeof data !== 'object' || data === null || Array.isArray(data)) {
      this.#log(`not sending a malformed event: type ${JSON.stringify(type)}`);
      return;
    }
    this.#pending.push({seq: ++this.#seq, time: Date.now(), type, data});
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    this.#flushTimer ??= setTimeout(() => {
      this.#flushTimer = undefined;
      this.#flush();
    }, this.#settings.flushIntervalMs);
  }

  /** Sends what is buffered and disconnects. */
  async close(): Promise<void> {
    if (this.#closed) return;
    clearTimeout(this.#flushTimer);
    if (this.#registered && this.#pending.length > 0) {
      await this.#socket.timeout(1000).emitWithAck(Channel.events, this.#batch()).catch(() => {});
    }
    this.#closed = true;
    this.#abortRunning('the agent is closing');
    clearTimeout(this.#graceTimer);
    this.#socket.disconnect();
  }

  get connected(): boolean {
    return this.#registered;
  }

  async #hello(): Promise<void> {
    const {name, version, address, registry} = this.#options;
    const hello: Hello = {protocol: PROTOCOL_VERSION, peer: name, pid: process.pid, version, address, commands: registry.specs(), instance: this.#instance, ...(this.#options.capabilities ? {capabilities: this.#options.capabilities} : {})};
    const connection = this.#socket.id;
    let ack: HelloAck;
    try {
      ack = parseHelloAck(await this.#socket.timeout(ACK_TIMEOUT_MS).emitWithAck(Channel.hello, hello));
    } catch (error) {
      this.#log(`hello failed: ${(error as Error).message}`);
      this.#socket.disconnect().connect();
      return;
    }
    // The answer can come in after that connection dropped; the next connection says hello
    // again. Acting on it would flush events into socket.io's buffer, which sends them on
    // the next connection before its hello, where the hub refuses them.
    if (!this.#socket.connected || this.#socket.id !== connection) {
      this.#log('hello answered on a connection that is gone; waiting for the next one');
      return;
    }
    this.#onFirstAck?.(ack);
    this.#onFirstAck = undefined;
    if (!ack.ok) {
      this.#giveUp(`coordinator refused registration: ${ack.error.message}`);
      return;
    }
    this.runId = ack.runId;
    this.#settings = ack.settings;
    this.#registered = true;
    if (ack.hold !== true) this.#release?.();
    clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    this.#flush();
  }

  #batch(): EventBatch {
    return {peer: this.#options.name, events: this.#pending.slice(0, Math.min(MAX_BATCH, this.#settings.maxBatchEvents ?? MAX_BATCH))};
  }

  #flush(): void {
    if (!this.#registered || !this.#socket.connected || this.#inFlight || this.#pending.length === 0) return;
    const batch = this.#batch();
    const last = batch.events.at(-1)!.seq;
    this.#inFlight = true;
    const flight = ++this.#flight;
    let refused = false;
    this.#socket
      .timeout(BATCH_ACK_TIMEOUT_MS)
      .emitWithAck(Channel.events, batch)
      .then(
        (ack: EventBatchAck | undefined) => {
          if (ack?.ok !== true) {
            // Refused: the events stay, and go again with the next registration or event.
            refused = true;
            this.#log(`event batch refused: ${ack?.error?.message ?? JSON.stringify(ack)}`);
            return;
          }
          // Drop what the coordinator has (the batch was the oldest events, in seq order); anything
          // newer stays for the next flush. Not a filter over the whole backlog: under a flood the
          // backlog holds a hundred thousand events and this runs for every batch.
          let acked = 0;
          while (acked < this.#pending.length && this.#pending[acked]!.seq <= last) acked++;
          this.#pending.splice(0, acked);
        },
        (error: Error) => this.#log(`event batch not acknowledged: ${error.message}`),
      )
      .finally(() => {
        // A batch sent on a connection since dropped ends its wait late (its timeout): a newer one may be in flight.
        if (flight !== this.#flight) return;
        this.#inFlight = false;
        if (this.#pending.length === 0 || refused) return;
        // A backlog goes out at once; a trickle waits for the flush interval, so batches stay large.
        if (this.#pending.length >= BACKLOG) setImmediate(() => this.#flush());
        else this.#scheduleFlush();
      });
  }

  async #onCommand(raw: unknown, ack: unknown): Promise<void> {
    if (typeof ack !== 'function') return;
    const reply = ack as (reply: CommandReply) => void;
    let request;
    try {
      request = parseCommandRequest(raw);
    } catch (error) {
      const id = typeof (raw as {id?: unknown})?.id === 'string' ? (raw as {id: string}).id : '?';
      reply({id, ok: false, error: toWireError(error, 'bad-message')});
      return;
    }
    const {registry, context} = this.#options;
    const args = request.args ?? {};
    // The handler hears through this signal that its answer is no longer wanted, so a long
    // script stops instead of running on unseen after the coordinator has moved on.
    const controller = new AbortController();
    this.#running.add(controller);
    const started = Date.now();
    const timeoutMessage = `${request.name} did not finish within ${request.timeoutMs} ms`;
    const deadlineAt = started + request.timeoutMs;
    const timedOut = () => {
      if (!controller.signal.aborted) controller.abort(new CommandError(timeoutMessage, 'timeout'));
      return controller.signal.reason as unknown;
    };
    const called = registry.execute(request.name, args, context, {signal: controller.signal, deadline: {at: deadlineAt, message: timeoutMessage}});
    // A handler that watched the clock may stop at the deadline before the timer below fires (timers run
    // late on a busy loop): that is the deadline too, and everyone downstream must see it as one.
    // (One that succeeds just past it has its answer sent: the coordinator may still be waiting.)
    const work = called.catch((error: unknown) => {
      if (Date.now() >= deadlineAt) timedOut();
      throw error;
    });
    void this.#reportIfLate(request, work, controller, started);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(timedOut()), request.timeoutMs);
    });
    try {
      const result = await Promise.race([work, deadline]);
      const text = registry.format(request.name, result, args);
      reply({id: request.id, ok: true, result: result ?? null, ...(text !== undefined ? {text} : {}), seq: this.#seq});
    } catch (error) {
      // Past the deadline the answer is the timeout, whatever the handler said as it stopped.
      const reason = controller.signal.aborted ? (controller.signal.reason as unknown) : undefined;
      const answer = reason instanceof CommandError && reason.code === 'timeout' ? reason : error;
      reply({id: request.id, ok: false, error: toWireError(answer), seq: this.#seq});
    } finally {
      clearTimeout(timer);
    }
    // The coordinator may wait for the events the command caused; send them now rather than at the next tick.
    this.#flush();
  }

  /**
   * Once a command that was given up on (deadline passed, connection lost) has
   * really ended, says so as a `command.late` event: the coordinator learns
   * when the work stopped, not only when it stopped waiting for it.
   */
  async #reportIfLate(request: {id: string; name: string}, work: Promise<unknown>, controller: AbortController, started: number): Promise<void> {
    let error: unknown;
    let ok = true;
    try {
      await work;
    } catch (caught) {
      ok = false;
      error = caught;
    }
    this.#running.delete(controller);
    if (!controller.signal.aborted) return;
    this.emit('command.late', {
      id: request.id,
      name: request.name,
      ms: Date.now() - started,
      ok,
      ...(ok ? {} : {error: error instanceof Error ? error.message : String(error)}),
    });
  }

  /** Tells every command still running that nobody will read its answer. */
  #abortRunning(reason: string): void {
    for (const controller of this.#running) controller.abort(new CommandError(reason, 'failed'));
    this.#running.clear();
  }

  #onSnapshot(ack: unknown): void {
    if (typeof ack !== 'function') return;
    let reply: SnapshotReply;
    try {
      reply = {ok: true, snapshot: this.#options.snapshot()};
    } catch (error) {
      reply = {ok: false, error: toWireError(error)};
    }
    (ack as (r: SnapshotReply) => void)(reply);
  }

  #startGrace(): void {
    if (this.#closed || this.#graceTimer) return;
    const graceMs = this.#options.graceMs ?? 5000;
    this.#graceTimer = setTimeout(() => this.#giveUp(`coordinator unreachable for ${graceMs} ms`), graceMs);
  }

  #giveUp(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#abortRunning(`the agent gave up: ${reason}`);
    clearTimeout(this.#graceTimer);
    clearTimeout(this.#flushTimer);
    this.#socket.disconnect();
    this.#onFirstAck?.({ok: false, error: {message: reason, code: 'unreachable'}});
    this.#options.onGiveUp(reason);
  }

  #log(message: string): void {
    this.#options.log?.(message);
  }
}
