/**
 * The fleet supervisor: spawns peers by name, keeps one host per name, and
 * stops them all, whatever way the run ends. Peers stay in the coordinator's
 * process group (Ctrl-C in a terminal reaches them all), carry the
 * coordinator's pid so they exit when it is gone, and their agents give up
 * when it stops answering: three nets against orphans.
 */
import {EventEmitter} from 'node:events';
import {mkdirSync} from 'node:fs';
import path from 'node:path';
import {createRequire} from 'node:module';
import type {PeerExit, PeerLaunch} from './peer-host.js';
import {PeerHost} from './peer-host.js';
import {findExecutable} from '../../peer-program/executable.js';
import type {PeerProgram} from '../../peer-program/program.js';
import {REFERENCE_PEER} from '../../peer-program/program.js';
import {PEER_NAME_RULE, isValidPeerName} from '@peerlab/events/names';

export interface FleetOptions {
  coordinatorUrl: string;
  token: string;
  bootstrapUrl?: string;
  logDir: string;
  /**
   * Where each peer's own folder goes (`<dataDir>/<name>`), passed as its
   * `--data-dir`: the only files its run, load-config and save-config reach
   * when a scenario or the prompt sends them.
   */
  dataDir: string;
  profile?: 'local' | 'lan';
  /** Seconds an agent waits for an unreachable coordinator before its peer exits. */
  agentGraceMs?: number;
  /**
   * The program every peer runs, run directly (no wrapper), so the fleet's
   * signals reach it. Default: the reference peer, `node <peerBin>`.
   */
  peer?: PeerProgram;
  /** The reference peer's file, run with this Node (default: the bundled peerlab-peer); ignored with `peer`. */
  peerBin?: string;
  extraArgs?: string[];
  /**
   * Kernel fault mode: the address each peer binds, passed as `--host`, the same
   * for a name all run long (the kernel's rules name addresses). Absent: no --host.
   */
  hostFor?: (name: string) => string;
}

export interface FleetEvents {
  spawned: [PeerHost];
  exit: [PeerHost, PeerExit];
}

export class FleetError extends Error {
  constructor(
    message: string,
    readonly code: 'unknown-peer' | 'already-running' | 'bad-name' | 'not-running' | 'not-paused',
  ) {
    super(message);
    this.name = 'FleetError';
  }
}

export function defaultPeerBin(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('@peerlab/peer/package.json')), 'bin', 'peerlab-peer.mjs');
}

/** The reference peer as a peer program: this Node running peerBin, in the current folder. */
export function referencePeer(peerBin = defaultPeerBin()): PeerProgram {
  return {command: [process.execPath, peerBin], cwd: process.cwd(), env: {}, origin: REFERENCE_PEER};
}

/** Every fleet in this process, so a CLI's signal or exit handler can stop peers it never saw created. */
const fleets = new Set<Fleet>();

/** Synchronous SIGKILL of every peer of every fleet: the last resort on the way out. */
export function killAllPeersNow(): void {
  for (const fleet of fleets) fleet.killAllNow();
}

export class Fleet extends EventEmitter<FleetEvents> {
  readonly #hosts = new Map<string, PeerHost>();
  readonly #options: FleetOptions;
  /** Per-peer flags given at spawn, kept so a restart starts the peer the same way. */
  readonly #extra = new WeakMap<PeerHost, readonly string[]>();

  constructor(options: FleetOptions) {
    super();
    this.#options = options;
    mkdirSync(options.logDir, {recursive: true});
    fleets.add(this);
  }

  /** The processes, each once (a peer host carries several peers). */
  hosts(): PeerHost[] {
    return [...new Set(this.#hosts.values())];
  }

  /** Every peer by name, with the process that carries it. */
  peers(): Array<{name: string; host: PeerHost}> {
    return [...this.#hosts].map(([name, host]) => ({name, host}));
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

  spawn(name: string, extraArgs: readonly string[] = []): PeerHost {
    return this.spawnGroup([name], extraArgs);
  }

  /** One process for these peers: one name is a plain peer, several a peer host (`--names`). */
  spawnGroup(names: readonly string[], extraArgs: readonly string[] = []): PeerHost {
    for (const name of names) {
      if (!isValidPeerName(name)) throw new FleetError(`"${name}" is not a valid peer name (${PEER_NAME_RULE})`, 'bad-name');
      if (this.#hosts.get(name)?.alive) throw new FleetError(`${name} is already running`, 'already-running');
    }
    const host = new PeerHost(names, this.launch(names, extraArgs));
    for (const n of names) this.#hosts.set(n, host);
    this.#extra.set(host, extraArgs);
    host.on('exit', (exit) => this.emit('exit', host, exit));
    this.emit('spawned', host);
    return host;
  }

  /**
   * How the fleet starts a process for these peers: the program, its flags and
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
      env: {...program.env, PEERLAB_TOKEN: o.token, ...(o.bootstrapUrl ? {PEERLAB_BOOTSTRAP_TOKEN: o.token} : {}), PEERLAB_PARENT_PID: String(process.pid)},
      logFile: this.logFile(name),
    };
  }

  #require(name: string): PeerHost {
    const host = this.#hosts.get(name);
    if (!host) throw new FleetError(`no peer named ${name}`, 'unknown-peer');
    return host;
  }

  kill(name: string, signal: NodeJS.Signals = 'SIGKILL'): PeerHost {
    const host = this.#require(name);
    if (!host.kill(signal)) throw new FleetError(`${name} is not running`, 'not-running');
    return host;
  }

  async terminate(name: string, timeoutMs?: number): Promise<PeerExit> {
    const host = this.#require(name);
    if (!host.alive) throw new FleetError(`${name} is not running`, 'not-running');
    return host.terminate(timeoutMs);
  }

  /** Stops the current process (SIGKILL unless asked to be graceful) and starts a new one under the same name. */
  async restart(name: string, graceful = false): Promise<PeerHost> {
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

  pause(name: string): PeerHost {
    const host = this.#require(name);
    if (!host.pause()) throw new FleetError(`${name} is not running`, 'not-running');
    return host;
  }

  resume(name: string): PeerHost {
    const host = this.#require(name);
    if (!host.resume()) throw new FleetError(`${name} is not paused`, 'not-paused');
    return host;
  }

  /** Graceful stop of every peer at once, then SIGKILL for any still there at the deadline. */
  async stopAll(timeoutMs = 3000): Promise<void> {
    await Promise.all(this.hosts().filter((h) => h.alive).map((h) => h.terminate(timeoutMs)));
    fleets.delete(this);
  }

  /** Last resort on the way out: synchronous, no waiting. */
  killAllNow(): void {
    for (const host of this.#hosts.values()) host.kill('SIGKILL');
  }
}
