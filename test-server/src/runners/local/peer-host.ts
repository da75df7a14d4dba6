/**
 * The coordinator's side of one peer process (Playwright's ProcessHost is
 * the model): it spawns the peer with execa, sends its output to a log file,
 * delivers signals, and turns the process's end into a value that says
 * whether we asked for it.
 */
import {EventEmitter} from 'node:events';
import {closeSync, openSync} from 'node:fs';
import {getPriority, setPriority} from 'node:os';
import {execa} from 'execa';
import type {ResultPromise} from 'execa';
import type {PeerExit, PeerHandle, PeerState} from '../runner.js';

export type {PeerExit, PeerState} from '../runner.js';

export interface PeerLaunch {
  command: string;
  args: string[];
  /** The folder the process runs in (default: the coordinator's). */
  cwd?: string;
  env: Record<string, string>;
  logFile: string;
  /** How much lower than the coordinator's the process's CPU priority is (a nice increment); none when absent. */
  nice?: number;
}

function ownPriority(): number {
  try {
    return getPriority();
  } catch {
    return 0;
  }
}

export interface PeerHostEvents {
  exit: [PeerExit];
}

export class PeerHost extends EventEmitter<PeerHostEvents> implements PeerHandle {
  state: PeerState = 'starting';
  exit: PeerExit | undefined;
  readonly startedAt = Date.now();
  readonly exited: Promise<PeerExit>;
  readonly #child: ResultPromise;
  #expected = false;

  /** The first (often the only) peer this process carries. */
  readonly name: string;

  constructor(
    /** Every peer this process carries: one, or several in peer-host mode. */
    readonly names: readonly string[],
    readonly launch: PeerLaunch,
  ) {
    super();
    this.name = names[0]!;
    // Appending keeps the output of every process that ran under this name, restarts included.
    // The peer gets the file itself: execa's {file} pipes the output through this process, so
    // a busy coordinator can stall its peers' writes, and a dead one kills them with EPIPE
    // before they can log why they exit.
    // (execa's types list descriptors 3-9 only; it hands any integer to spawn() as is.)
    const log = openSync(launch.logFile, 'a') as 3;
    try {
      this.#child = execa(launch.command, launch.args, {
        stdin: 'ignore',
        stdout: log,
        stderr: log,
        env: launch.env,
        ...(launch.cwd ? {cwd: launch.cwd} : {}),
        reject: false,
        // execa kills the child when the coordinator exits normally or by SIGINT/SIGTERM.
        cleanup: true,
      });
    } finally {
      // The child has its own copy of the descriptor once spawned.
      closeSync(log);
    }
    if (launch.nice && this.#child.pid !== undefined) {
      try {
        setPriority(this.#child.pid, Math.min(19, ownPriority() + launch.nice));
      } catch {
        // Not allowed here, or the process is already gone: it runs at the coordinator's priority.
      }
    }
    this.exited = this.#child.then((result) => {
      const exit: PeerExit = {
        code: result.exitCode ?? null,
        signal: result.signal ?? null,
        unexpectedly: !this.#expected,
        at: Date.now(),
      };
      this.exit = exit;
      this.state = 'exited';
      this.emit('exit', exit);
      return exit;
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get alive(): boolean {
    return this.state !== 'exited';
  }

  markRunning(): void {
    if (this.state === 'starting') this.state = 'running';
  }

  /** SIGKILL by default: no goodbye. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): boolean {
    if (!this.alive) return false;
    this.#expected = true;
    return this.#child.kill(signal);
  }

  /** SIGTERM (the peer leaves gracefully), then SIGKILL if it is still there at the deadline. */
  async terminate(timeoutMs = 3000): Promise<PeerExit> {
    if (!this.alive) return this.exited;
    this.#expected = true;
    if (this.state === 'paused') this.#child.kill('SIGCONT');
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), timeoutMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  pause(): boolean {
    if (this.state !== 'running' && this.state !== 'starting') return false;
    this.#child.kill('SIGSTOP');
    this.state = 'paused';
    return true;
  }

  resume(): boolean {
    if (this.state !== 'paused') return false;
    this.#child.kill('SIGCONT');
    this.state = 'running';
    return true;
  }
}
