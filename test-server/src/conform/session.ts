/**
 * One check's coordinator and peer: a real coordinator (hub, local runner, REST)
 * on 127.0.0.1 running the program under test, with a tap on the wire that
 * records every hello and event batch as the peer sent them, and can hold a
 * message back unanswered. Closing it kills whatever it started, and every
 * open session is reachable from `killEverythingNow` for a signal handler.
 */
import {readFileSync} from 'node:fs';
import path from 'node:path';
import type {Socket} from 'socket.io';
import type {CommandSpec} from '@peerlab/client-agent';
import type {PeerEvent} from '@peerlab/client-agent/protocol';
import {Coordinator} from '../coordinator.js';
import type {AgentInfo} from '../hub/hub.js';
import {HubError} from '../hub/hub.js';
import type {PeerHost, PeerLaunch} from '../runners/local/peer-host.js';
import type {PeerProgram} from '../peer-program/program.js';
import {killAllPeersNow} from '../runners/factory.js';
import {LocalRunner} from '../runners/local/local-runner.js';
import {CheckStop} from './stop.js';

export interface SessionOptions {
  /** The peer's --agent-grace (default 30 s: long enough that only the check's own cause ends it). */
  graceMs?: number;
}

export interface WireMessage {
  at: number;
  /** The connection it came on. */
  socket: string;
  payload: unknown;
}

/** Decides, for each hello or events message, whether the hub sees it; false holds it back unanswered. */
export type WireFilter = (socket: Socket, channel: string, payload: unknown) => boolean;

/** The name every check's peer registers under. */
export const PEER_NAME = 'probe';

const REGISTER_TIMEOUT_MS = 10_000;

const open = new Set<Session>();

/** Synchronous SIGKILL of every peer and helper process any session started: for signal and exit handlers. */
export function killEverythingNow(): void {
  killAllPeersNow();
  for (const session of open) session.killExtrasNow();
}

export class Session {
  readonly name = PEER_NAME;
  readonly hellos: WireMessage[] = [];
  readonly batches: WireMessage[] = [];
  /** Events as the hub recorded them: in order, duplicates dropped, contract violations left out. */
  readonly events: PeerEvent[] = [];
  readonly registrations: AgentInfo[] = [];
  readonly gaps: Array<{expected: number; got: number}> = [];
  readonly rejected: Array<{seq: number; message: string}> = [];
  readonly protocolErrors: Array<{channel: string; message: string}> = [];
  /** The command requests the coordinator sent, as they went out. */
  readonly sentCommands: Array<{id: string; name: string}> = [];
  filter: WireFilter | undefined;
  host: PeerHost | undefined;
  readonly #extras = new Set<number>();

  /**
   * The coordinator's runner as what it is: conformance is about a process on
   * this machine (its pid, its signals, its parent), so conform runs peers locally.
   */
  readonly local: LocalRunner;

  private constructor(
    readonly coordinator: Coordinator,
    readonly logDir: string,
  ) {
    if (!(coordinator.runner instanceof LocalRunner)) throw new Error(`conform runs peers as local processes, not with the ${coordinator.runner.kind} runner`);
    this.local = coordinator.runner;
    open.add(this);
    const hub = coordinator.hub;
    hub.on('events', (_name, events) => this.events.push(...events));
    hub.on('registered', (info) => this.registrations.push(info));
    hub.on('gap', (_name, expected, got) => this.gaps.push({expected, got}));
    hub.on('rejected', (detail) => this.rejected.push({seq: detail.seq, message: detail.message}));
    hub.on('protocol-error', (detail) => this.protocolErrors.push({channel: detail.channel, message: detail.message}));
    coordinator.io.on('connection', (socket) => {
      socket.onAnyOutgoing((channel: string, request: {id: string; name: string}) => {
        if (channel === 'command') this.sentCommands.push({id: request.id, name: request.name});
      });
      socket.use((packet, next) => {
        const [channel, payload] = packet as [string, unknown];
        if (channel === 'hello' || channel === 'events') {
          (channel === 'hello' ? this.hellos : this.batches).push({at: Date.now(), socket: socket.id, payload});
          if (this.filter && !this.filter(socket, channel, payload)) return;
        }
        next();
      });
    });
  }

  static async start(program: PeerProgram, dir: string, options: SessionOptions = {}): Promise<Session> {
    const coordinator = await Coordinator.start({
      peer: program,
      runner: 'local',
      logDir: path.join(dir, 'logs'),
      dataDir: path.join(dir, 'peers'),
      agentGraceMs: options.graceMs ?? 30_000,
      registerTimeoutMs: REGISTER_TIMEOUT_MS,
      // Protocol errors are findings, collected from the hub; not lines on conform's stderr.
      log: () => {},
    });
    return new Session(coordinator, path.join(dir, 'logs'));
  }

  get logFile(): string {
    return this.local.logFile(this.name);
  }

  /** The peer's log so far, or '' when it wrote none. */
  log(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** The last line of the peer's log that says something, for a failure's reason. */
  lastLogLine(): string {
    return this.log().trim().split('\n').filter((l) => l.trim() !== '').at(-1)?.slice(0, 300) ?? '';
  }

  /** What the runner would run for this check's peer, to start it some other way. */
  launch(): PeerLaunch {
    return this.local.launch([this.name]);
  }

  /** A process the check started itself (not through the runner), killed when the session closes. */
  track(pid: number | undefined): void {
    if (pid !== undefined) this.#extras.add(pid);
  }

  /**
   * Starts the peer through the runner, as a run does, and waits for its
   * registration; a CheckStop saying what went wrong if it does not come.
   */
  async spawn(): Promise<PeerHost> {
    try {
      await this.coordinator.spawn([this.name]);
      this.host = this.local.get(this.name);
      return this.host!;
    } catch (error) {
      if (!(error instanceof HubError)) throw error;
      this.host ??= this.local.get(this.name);
      throw new CheckStop(this.whyNotRegistered(error.message));
    }
  }

  /** The peer's hello on its current connection, as it sent it. */
  lastHello(): Record<string, unknown> | undefined {
    return this.hellos.at(-1)?.payload as Record<string, unknown> | undefined;
  }

  /** The commands the peer registered with. */
  commands(): CommandSpec[] {
    return this.coordinator.hub.get(this.name)?.commands ?? this.registrations.at(-1)?.commands ?? [];
  }

  /** Why a registration failed, from what reached the wire. */
  whyNotRegistered(fallback: string): string {
    const helloErrors = this.protocolErrors.filter((e) => e.channel === 'hello');
    if (helloErrors.length > 0) return `its hello was refused: ${helloErrors[0]!.message}`;
    const names = this.hellos.map((h) => (h.payload as {peer?: unknown} | undefined)?.peer).filter((n) => n !== this.name);
    if (names.length > 0) return `it said hello as ${JSON.stringify(names[0])}, not the --name ${this.name} it was given (§2)`;
    const exit = this.host?.exit;
    const log = this.lastLogLine();
    const logged = log ? `; its log ends: ${log}` : '';
    if (exit) return `it exited (${exit.signal ?? `code ${exit.code}`}) before it registered${logged}`;
    if (this.hellos.length === 0) return `it did not say hello within ${REGISTER_TIMEOUT_MS / 1000} s of its start (${fallback})${logged}`;
    return `${fallback}${logged}`;
  }

  /** A tracked process seen gone: its pid may be reused, so it must not be killed later. */
  untrack(pid: number | undefined): void {
    if (pid !== undefined) this.#extras.delete(pid);
  }

  killExtrasNow(): void {
    for (const pid of this.#extras) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }

  /** Kills every process the session started, then stops the coordinator. */
  async close(): Promise<void> {
    this.local.killAllNow();
    this.killExtrasNow();
    await this.coordinator.close(1000);
    open.delete(this);
  }
}
