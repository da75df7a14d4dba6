/**
 * The seam between a run and whatever runs its peers: the local runner
 * (processes on this machine), or an engine such as Docker Swarm. The
 * coordinator, the engine, the console, the REST API and conform use only
 * this. A runner starts and stops peers; it never decides when a peer is
 * ready: that is when its agent has registered at the hub (the coordinator
 * tells the runner with `markRegistered`), never when a backend says
 * "running".
 *
 * Every peer a runner starts carries the run id (the local runner: the
 * PEERLAB_RUN_ID variable; a remote one: labels), so that `peerlab down`
 * can find what a run left behind after its coordinator died.
 */
import type {EventEmitter} from 'node:events';
import type {PeerProgram} from '../peer-program/program.js';
import type {RunnerLimits} from './limits.js';
import type {PeerProfile} from '../peer-program/profile.js';

export type {RunnerLimits} from './limits.js';

/** The runners peerlab knows by name (`--runner`, `runner:` in the config file). */
export const RUNNER_KINDS = ['local', 'swarm', 'kubernetes'] as const;
export type RunnerKind = (typeof RUNNER_KINDS)[number];

/** starting until its agent registers, then running; paused between pause and resume; exited for good. */
export type PeerState = 'starting' | 'running' | 'paused' | 'exited';

export interface PeerExit {
  /** The process's exit code, if it exited by itself (a container's, for a remote runner). */
  code: number | null;
  /** The signal that ended it, if any. */
  signal: string | null;
  /** True when the coordinator did not ask the peer to stop. */
  unexpectedly: boolean;
  /** When the runner saw it end (ms since the epoch). */
  at: number;
}

/**
 * One process of a run (one peer, or several in peer-host mode), as the
 * runner's callers see it. Read-only: actions go through the runner, by name.
 */
export interface PeerHandle {
  /** Every peer this process carries: one, or several in peer-host mode. */
  readonly names: readonly string[];
  /** The first (often the only) peer this process carries. */
  readonly name: string;
  readonly state: PeerState;
  /** Not yet exited. */
  readonly alive: boolean;
  /** How it ended, once it has. */
  readonly exit: PeerExit | undefined;
  /** Settles once it has ended, however it ended (never rejects). */
  readonly exited: Promise<PeerExit>;
  /**
   * Its pid on this machine, which is also the pid its hello reports; absent
   * for a runner whose processes live elsewhere (a container's pid is its own).
   */
  readonly pid?: number | undefined;
  /** When the runner started it (ms since the epoch). */
  readonly startedAt: number;
}

export interface RunnerEvents {
  /** A process was started (each of its peers is to register next). */
  spawned: [PeerHandle];
  /** A process ended, asked to or not. */
  exit: [PeerHandle, PeerExit];
}

/** What every runner is made with: the run, and how its peers reach the coordinator. */
export interface RunnerOptions {
  /** The run's id: every peer carries it, so `peerlab down <run-id>` finds what the run left. */
  runId: string;
  /** The coordinator's URL as a peer on this machine reaches it (a remote runner may pass its own address instead). */
  coordinatorUrl: string;
  /** The run token; it reaches peers by their environment, never their argv. */
  token: string;
  bootstrapUrl?: string;
  /** Where each peer's log is kept, `<logDir>/<name>.log` (fetched there by a remote runner). */
  logDir: string;
  /** Where each peer's own folder goes (`<dataDir>/<name>`), passed as its `--data-dir`. */
  dataDir: string;
  profile?: PeerProfile;
  /** How long an agent waits for an unreachable coordinator before its peer exits. */
  agentGraceMs?: number;
  /** The program every peer runs; default: the reference peer, `node <peerBin>`. */
  peer?: PeerProgram;
  /** The reference peer's file (default: the bundled peerlab-peer); ignored with `peer`. */
  peerBin?: string;
  extraArgs?: string[];
  /**
   * Kernel fault mode: the address each peer binds, passed as `--host`, the same
   * for a name all run long. Only for a runner without a kernelFaults limit.
   */
  hostFor?: (name: string) => string;
}

export type RunnerErrorCode = 'unknown-peer' | 'already-running' | 'bad-name' | 'not-running' | 'not-paused' | 'unsupported';

/** A request the runner refuses; the code says why (the REST API maps it to a status). */
export class RunnerError extends Error {
  constructor(
    message: string,
    readonly code: RunnerErrorCode,
  ) {
    super(message);
    this.name = 'RunnerError';
  }
}

/**
 * A run's peers, by name. Methods that act on a peer take any name the
 * process carries and act on the whole process. A runner that cannot do
 * something declares it in `limits` (checked when scenarios load) and throws
 * a RunnerError 'unsupported' if asked all the same.
 */
export interface Runner extends EventEmitter<RunnerEvents> {
  readonly kind: RunnerKind;
  readonly limits: RunnerLimits;

  /** The processes, each once. */
  handles(): PeerHandle[];
  /** Every peer by name, with the process that carries it (the latest, after restarts). */
  peers(): Array<{name: string; handle: PeerHandle}>;
  get(name: string): PeerHandle | undefined;

  /**
   * Starts one process for these peers: one name is a plain peer, several a
   * peer host (`--names`). Resolves once it is started, not registered: the
   * coordinator waits for the hub. Rejects with a RunnerError for a bad or
   * running name.
   */
  start(names: readonly string[], extraArgs?: readonly string[]): Promise<PeerHandle>;
  /** The hub has this peer registered: its process is running (the only readiness there is). */
  markRegistered(name: string): void;

  /** Hard stop, no goodbye (SIGKILL); resolves once it has exited. */
  kill(name: string): Promise<PeerExit>;
  /** Graceful stop (SIGTERM: the peer leaves), hard at the deadline; resolves once it has exited. */
  terminate(name: string, deadlineMs?: number): Promise<PeerExit>;
  /**
   * Stops the process (hard unless graceful) and starts a new one for the same
   * peers, with the same flags; the old one's `exit` is emitted before the new
   * one's `spawned` (the coordinator then drops the old connection, so the new
   * hello is not refused as a duplicate name).
   */
  restart(name: string, options?: {graceful?: boolean}): Promise<PeerHandle>;
  /** Freezes the process (SIGSTOP): alive, silent. */
  pause(name: string): Promise<void>;
  /** Lets a paused process go on (SIGCONT). */
  resume(name: string): Promise<void>;

  /** Where the peer's log is kept in the run folder (the process carrying it writes there, or collectLogs fetches it). */
  logFile(name: string): string;
  /** Brings the logs of these peers (default: all) into their logFile; a no-op where peers write there themselves. */
  collectLogs(names?: readonly string[]): Promise<void>;
  /** The peer's own folder (its --data-dir), on the machine that runs it. */
  dataDir(name: string): string;

  /** Teardown: every peer stopped gracefully at once, hard at the deadline, logs collected, nothing of the run left. */
  stopAll(deadlineMs?: number): Promise<void>;
  /** Last resort on the way out (an exit handler): synchronous, no waiting; best effort for a remote runner. */
  killAllNow(): void;
}

/** One thing `peerlab down` removed (or found gone): for its output. */
export interface Reaped {
  /** process, service, container, network... */
  kind: string;
  /** A pid, a name or an id. */
  id: string;
  runId: string;
  /** More words for a person: the peer's name, its command. */
  detail?: string;
}

/**
 * A runner by kind, before any run: its limits (for the loader), how to
 * make one for a run, and how to reap what earlier runs left behind.
 */
export interface RunnerModule {
  readonly kind: RunnerKind;
  readonly limits: RunnerLimits;
  create(options: RunnerOptions): Runner;
  /**
   * Removes what the run `runId` left (every peer, service, container or
   * network carrying its id); without a run id, what runs whose coordinator
   * is gone left. Resolves with what was removed; none is no error.
   */
  reap(runId?: string): Promise<Reaped[]>;
  /** Every peer of every runner of this kind in this process, synchronously: the last resort on the way out. */
  killAllNow(): void;
}
