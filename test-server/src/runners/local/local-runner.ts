/**
 * The local runner: peers as processes on this machine. It spawns peers by
 * name, keeps one host per name, and stops them all, whatever way the run
 * ends. Peers stay in the coordinator's process group (Ctrl-C in a terminal
 * reaches them all), carry the coordinator's pid so they exit when it is
 * gone, and their agents give up when it stops answering: three nets against
 * orphans. A fourth, for whatever slips through: each carries the run id
 * (PEERLAB_RUN_ID), which `peerlab down` looks for (reap.ts).
 */
import {EventEmitter} from 'node:events';
import {mkdirSync} from 'node:fs';
import path from 'node:path';
import type {PeerLaunch} from './peer-host.js';
import {PeerHost} from './peer-host.js';
import {findExecutable} from '../../peer-program/executable.js';
import {referencePeer} from '../../peer-program/reference.js';
import {PEER_NAME_RULE, isValidPeerName} from '@peerlab/events/names';
import type {PeerExit, Runner, RunnerEvents, RunnerOptions} from '../runner.js';
import {RunnerError} from '../runner.js';
import type {RunnerLimits} from '../limits.js';

/** Every local runner in this process, so a CLI's signal or exit handler can stop peers it never saw created. */
const runners = new Set<LocalRunner>();

/** Synchronous SIGKILL of every peer of every local runner: the last resort on the way out. */
export function killAllLocalPeersNow(): void {
  for (const runner of runners) runner.killAllNow();
}

/**
 * How much lower than the coordinator's the CPU priority of a process that
 * carries several peers is (a nice increment). Forty such hosts of 25 busy
 * members each, on two cores, left the coordinator, one runnable process
 * among 41, a quarter of a core: it stopped accepting connections (its accept
 * queue sat full), hundreds of peers never registered, and agents gave up.
 * The coordinator is one thread, so it can take at most one core of the two;
 * the hosts still get every cycle it does not use. Even so, forty busy hosts
 * outweigh it (the scheduler weighs 1,024 against 40 x 110): it ran 0.3-0.6
 * of a core while 2,000 peers started. +19 registered them steadily but
 * formed the group no faster (docs/PERFORMANCE.md). A process of one peer
 * (the scenarios of a suite, a few to a few dozen of them) keeps the
 * coordinator's priority: there, a later scheduled peer would shift the timing
 * the checkers judge.
 */
export const PEER_HOST_NICE = 10;

/** Processes on this machine can do everything a scenario asks. */
export const LOCAL_LIMITS: RunnerLimits = {};

export class LocalRunner extends EventEmitter<RunnerEvents> implements Runner {
  readonly kind = 'local';
  readonly limits = LOCAL_LIMITS;
  readonly #hosts = new Map<string, PeerHost>();
  readonly #options: RunnerOptions;
  /** Per-peer flags given at spawn, kept so a restart starts the peer the same way. */
  readonly #extra = new WeakMap<PeerHost, readonly string[]>();

  constructor(options: RunnerOptions) {
    super();
    this.#options = options;
    mkdirSync(options.logDir, {recursive: true});
    runners.add(this);
  }

  /** The processes, each once (a peer host carries several peers). */
  handles(): PeerHost[] {
    return [...new Set(this.#hosts.values())];
  }

  /** Every peer by name, with the process that carries it. */
  peers(): Array<{name: string; handle: PeerHost}> {
    return [...this.#hosts].map(([name, handle]) => ({name, handle}));
  }

  get(name: string): PeerHost | undefined {
    return this.#hosts.get(name);
  }

  logFile(name: string): string {
    return path.join(this.#options.logDir, `${name}.log`);
  }

  /** The peer's own folder; the peer creates it when it starts. */
  dataDir(name: string): string {
    return path.resolve(this.#options.dataDir, name);
  }

  async start(names: readonly string[], extraArgs: readonly string[] = []): Promise<PeerHost> {
    return this.spawnGroup(names, extraArgs);
  }

  /** One process for these peers, at once: one name is a plain peer, several a peer host (`--names`). */
  spawnGroup(names: readonly string[], extraArgs: readonly string[] = []): PeerHost {
    for (const name of names) {
      if (!isValidPeerName(name)) throw new RunnerError(`"${name}" is not a valid peer name (${PEER_NAME_RULE})`, 'bad-name');
      if (this.#hosts.get(name)?.alive) throw new RunnerError(`${name} is already running`, 'already-running');
    }
    const host = new PeerHost(names, this.launch(names, extraArgs));
    for (const n of names) this.#hosts.set(n, host);
    this.#extra.set(host, extraArgs);
    host.on('exit', (exit) => this.emit('exit', host, exit));
    this.emit('spawned', host);
    return host;
  }

  markRegistered(name: string): void {
    this.#hosts.get(name)?.markRunning();
  }

  /**
   * How the runner starts a process for these peers: the program, its flags and
   * environment, its log. Public so that a tool can start one the same way
   * with a detail changed (peerlab conform: a wrong token, another parent).
   */
  launch(names: readonly string[], extraArgs: readonly string[] = []): PeerLaunch {
    const name = names[0]!;
    const o = this.#options;
    const program = o.peer ?? referencePeer(o.peerBin);
    // The file as the load-time check found it; if it has gone since, spawning the word as given fails in the peer's exit.
    const found = findExecutable(program);
    const args = [
      ...program.command.slice(1),
      ...(names.length === 1 ? ['--name', name] : ['--names', names.join(',')]),
      '--port', '0',
      ...(o.hostFor ? ['--host', o.hostFor(name)] : []),
      '--profile', o.profile ?? 'local',
      '--coordinator', o.coordinatorUrl,
      '--agent-grace', String(o.agentGraceMs ?? 3000),
      ...(o.bootstrapUrl ? ['--bootstrap', o.bootstrapUrl] : []),
      // A peer host appends each peer's name to the folder itself.
      '--data-dir', names.length === 1 ? this.dataDir(name) : path.resolve(o.dataDir),
      ...(o.extraArgs ?? []),
      ...extraArgs,
    ];
    return {
      command: found.ok ? found.file : program.command[0]!,
      args,
      cwd: program.cwd,
      // The token goes by environment, not argv, which anyone can read with ps. The peer sends
      // PEERLAB_BOOTSTRAP_TOKEN before PEERLAB_TOKEN to its bootstrap service: one left in the user's
      // shell (for a stand-alone service) would reach the coordinator's, which wants the run token.
      env: {...program.env, PEERLAB_TOKEN: o.token, ...(o.bootstrapUrl ? {PEERLAB_BOOTSTRAP_TOKEN: o.token} : {}), PEERLAB_PARENT_PID: String(process.pid), PEERLAB_RUN_ID: o.runId},
      logFile: this.logFile(name),
      ...(names.length > 1 ? {nice: PEER_HOST_NICE} : {}),
    };
  }

  #require(name: string): PeerHost {
    const host = this.#hosts.get(name);
    if (!host) throw new RunnerError(`no peer named ${name}`, 'unknown-peer');
    return host;
  }

  async kill(name: string): Promise<PeerExit> {
    const host = this.#require(name);
    if (!host.kill('SIGKILL')) throw new RunnerError(`${name} is not running`, 'not-running');
    return host.exited;
  }

  async terminate(name: string, deadlineMs?: number): Promise<PeerExit> {
    const host = this.#require(name);
    if (!host.alive) throw new RunnerError(`${name} is not running`, 'not-running');
    return host.terminate(deadlineMs);
  }

  /** Stops the current process (SIGKILL unless asked to be graceful) and starts a new one under the same name. */
  async restart(name: string, {graceful = false}: {graceful?: boolean} = {}): Promise<PeerHost> {
    const host = this.#require(name);
    const extra = this.#extra.get(host) ?? [];
    if (host.alive) {
      if (graceful) await host.terminate();
      else {
        host.kill('SIGKILL');
        await host.exited;
      }
    }
    return this.spawnGroup(host.names, extra);
  }

  async pause(name: string): Promise<void> {
    const host = this.#require(name);
    if (!host.pause()) throw new RunnerError(`${name} is not running`, 'not-running');
  }

  async resume(name: string): Promise<void> {
    const host = this.#require(name);
    if (!host.resume()) throw new RunnerError(`${name} is not paused`, 'not-paused');
  }

  /** Each peer writes its log into the run folder itself: nothing to fetch. */
  async collectLogs(): Promise<void> {}

  /** Graceful stop of every peer at once, then SIGKILL for any still there at the deadline. */
  async stopAll(deadlineMs = 3000): Promise<void> {
    await Promise.all(this.handles().filter((h) => h.alive).map((h) => h.terminate(deadlineMs)));
    runners.delete(this);
  }

  /** Last resort on the way out: synchronous, no waiting. */
  killAllNow(): void {
    for (const host of this.#hosts.values()) host.kill('SIGKILL');
  }
}
