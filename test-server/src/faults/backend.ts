/**
 * The seam between the engine's fault plan and the thing that makes network
 * faults real. Two backends: the peers' own `net-*` commands (each peer
 * filters its own traffic; no root needed), and nftables rules in the kernel
 * (root; for peers that cannot cut their own links). The engine plans the
 * same rules either way and records the same `fault` events.
 */
import type {Link} from '../engine/fault-plan.js';

/** What a run asks for: the peers' commands, the kernel, or whichever fits (`--faults`, a scenario's or the config file's `faults:`). */
export type FaultsMode = 'peer' | 'kernel' | 'auto';
/** What a run uses once chosen. */
export type FaultsBackendName = 'peer' | 'kernel';

export const FAULTS_MODES: readonly FaultsMode[] = ['peer', 'kernel', 'auto'];

/**
 * Network faults as one backend makes them. Every method brings the network
 * in line with the rules in force (the owner's FaultState, read through the
 * getter the backend was made with) and returns the problems, if any. The
 * new rule is already part of the rules in force when `cut`, `loss` or
 * `delay` is called; `heal` is called once the healed rules are gone from them.
 */
export interface NetworkFaultBackend {
  readonly name: FaultsBackendName;
  cut(links: readonly Link[]): Promise<string[]>;
  loss(percent: number, links: Link[] | 'all'): Promise<string[]>;
  /** Absent when the backend cannot hold packets back (kernel faults here: no netem). */
  delay?(ms: number, jitter: number, links: Link[] | 'all'): Promise<string[]>;
  heal(): Promise<string[]>;
  /** A peer that restarted gets the rules in force again. */
  reapply(peer: string): Promise<string[]>;
  /** The peers of a process that was paused and resumed: whatever a heal meanwhile missed is put right. */
  refresh(peers: readonly string[]): Promise<string[]>;
}
