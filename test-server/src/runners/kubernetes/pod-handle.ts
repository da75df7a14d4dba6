/** One pod of a run as the runner's callers see it: a PeerHandle whose process lives on a cluster. */
import type {V1Pod} from '@kubernetes/client-node';
import {constants} from 'node:os';
import type {PeerExit, PeerHandle, PeerState} from '../runner.js';

export type Asked = 'kill' | 'terminate';

const signalNames = new Map(Object.entries(constants.signals).map(([name, number]) => [number, name]));

export class PodHandle implements PeerHandle {
  readonly names: readonly string[];
  readonly startedAt = Date.now();
  readonly exited: Promise<PeerExit>;
  #state: PeerState = 'starting';
  #exit: PeerExit | undefined;
  #settle!: (exit: PeerExit) => void;
  /** What the coordinator asked for, if it did: an exit after that is not unexpected. */
  asked: Asked | undefined;
  /** How much of its log is already in the log file. */
  logged = 0;
  /** The API server has it (a re-list before then must not take its absence for an exit). */
  created = false;
  /** A delete of it was sent. */
  deleted = false;
  /** Its log is complete in the file: it has ended and its log was read after, or it is gone. */
  logDone = false;

  constructor(
    readonly name: string,
    readonly podName: string,
    readonly generation: number,
  ) {
    this.names = [name];
    this.exited = new Promise((resolve) => (this.#settle = resolve));
  }

  get state(): PeerState {
    return this.#state;
  }

  get alive(): boolean {
    return this.#state !== 'exited';
  }

  get exit(): PeerExit | undefined {
    return this.#exit;
  }

  markRunning(): void {
    if (this.#state === 'starting') this.#state = 'running';
  }

  /** Ends it once; later calls are ignored. Returns the exit when this call ended it. */
  end(pod: V1Pod | undefined): PeerExit | undefined {
    if (this.#exit) return undefined;
    const terminated = pod?.status?.containerStatuses?.find((s) => s.name === 'peer')?.state?.terminated;
    const code = terminated?.exitCode ?? null;
    // A container's exit code above 128 is a signal's number plus 128, as a shell reports it.
    const bySignal = terminated?.signal ?? (code !== null && code > 128 ? code - 128 : undefined);
    const signal = bySignal !== undefined ? (signalNames.get(bySignal) ?? `signal ${bySignal}`) : code === null ? (this.asked === 'kill' ? 'SIGKILL' : this.asked === 'terminate' ? 'SIGTERM' : null) : null;
    this.#exit = {code: signal && code !== null && code > 128 ? null : code, signal, unexpectedly: this.asked === undefined, at: Date.now()};
    this.#state = 'exited';
    this.#settle(this.#exit);
    return this.#exit;
  }
}

/** The pod has ended for good (restartPolicy Never: Succeeded or Failed never change). */
export function podEnded(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}
