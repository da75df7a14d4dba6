import type {SwimConfig} from '../config.js';
import type {Logger} from '../log.js';
import type {Policy} from '../policy.js';
import type {Awareness} from './awareness.js';
import type {MemberTable} from './member-table.js';
import type {Transport} from './transport.js';

/**
 * What the protocol's loops ask before each round: whether the membership is
 * running and not leaving, and which run this is. A leave and a join bump
 * the run, so a loop still awaiting its work when they happened ends instead
 * of running twice beside the new one.
 */
export interface RunState {
  /** Running and not leaving: the protocol does its rounds. */
  active(): boolean;
  /** Bumped when the timers stop. */
  generation(): number;
}

/** What each of the protocol's parts (probe, gossip, push-pull) is built on: the one member table and what it runs with, as memberlist's parts share one *Memberlist. */
export interface ProtocolContext {
  name: string;
  config: SwimConfig;
  policy: Policy;
  transport: Transport;
  table: MemberTable;
  log: Logger;
  run: RunState;
  /** This member's own health (Lifeguard): what the probe reads to stretch its window, and what its outcomes move. */
  awareness: Awareness;
}
