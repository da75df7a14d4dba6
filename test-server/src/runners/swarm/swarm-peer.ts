/**
 * One start of a peer on the swarm: the container of one task of its
 * service. The runner feeds it the engine's container events (start, die);
 * a restart is a new SwarmPeer for the next generation of the same service.
 */
import {EventEmitter} from 'node:events';
import {constants} from 'node:os';
import type {PeerExit, PeerHandle, PeerState} from '../runner.js';

export interface SwarmPeerEvents {
  exit: [PeerExit];
}

/** A container's exit status as the local runner would report the process's: 128+n is death by signal n (tini passes it on). */
export function exitOf(status: number): {code: number | null; signal: string | null} {
  if (status > 128) {
    const signal = Object.entries(constants.signals).find(([, n]) => n === status - 128)?.[0];
    if (signal) return {code: null, signal};
  }
  return {code: status, signal: null};
}

export class SwarmPeer extends EventEmitter<SwarmPeerEvents> implements PeerHandle {
  state: PeerState = 'starting';
  exit: PeerExit | undefined;
  readonly startedAt = Date.now();
  readonly names: readonly string[];
  readonly exited: Promise<PeerExit>;
  /** Its container's id, once the engine has started it. */
  containerId: string | undefined;
  /** The coordinator asked for its end (kill, stop, teardown): not unexpected. */
  expected = false;
  readonly #settle: (exit: PeerExit) => void;
  readonly #waiters = new Set<{wake: (id: string) => void; fail: (error: Error) => void}>();

  constructor(
    readonly name: string,
    readonly generation: number,
  ) {
    super();
    this.names = [name];
    let settle!: (exit: PeerExit) => void;
    this.exited = new Promise((resolve) => (settle = resolve));
    this.#settle = settle;
  }

  get alive(): boolean {
    return this.state !== 'exited';
  }

  started(containerId: string): void {
    this.containerId = containerId;
    for (const waiter of this.#waiters) waiter.wake(containerId);
    this.#waiters.clear();
  }

  /** Its container's id, waiting for the engine to start it (a task may wait to be scheduled). */
  container(timeoutMs: number): Promise<string> {
    if (this.containerId) return Promise.resolve(this.containerId);
    if (!this.alive) return Promise.reject(new Error(`${this.name} ended before its container started`));
    return new Promise((resolve, reject) => {
      const waiter = {
        wake: (id: string): void => {
          clearTimeout(timer);
          resolve(id);
        },
        fail: (error: Error): void => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`${this.name}: no container started within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  ended(status: number | null, at = Date.now()): void {
    if (!this.alive) return;
    const exit: PeerExit = {...(status === null ? {code: null, signal: null} : exitOf(status)), unexpectedly: !this.expected, at};
    this.exit = exit;
    this.state = 'exited';
    // Nobody waits for a container that can no longer come (nor keeps this process up for it).
    for (const waiter of this.#waiters) waiter.fail(new Error(`${this.name} ended before its container started`));
    this.#waiters.clear();
    this.#settle(exit);
    this.emit('exit', exit);
  }
}
