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
