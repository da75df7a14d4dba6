/**
 * Lifeguard's local health multiplier (memberlist's awareness): a score of
 * how far this member itself falls behind, from 0 (healthy) to max - 1. A
 * probe that failed while the members asked to help did not even say they
 * failed (no nack) says more about this member than about its target, and
 * so does having to refute a suspicion of itself; a probe that succeeded
 * says it keeps up. The probe's whole window is scaled by score + 1, so a
 * starved member probes more slowly and waits longer before it accuses
 * anyone, instead of turning its own slowness into suspicions of others
 * that every member then hears, refutes and gossips.
 */
export class Awareness {
  #score = 0;

  /** `max`: the largest multiplier (memberlist's AwarenessMaxMultiplier); 1 turns it off. */
  constructor(private readonly max: number) {}

  get score(): number {
    return this.#score;
  }

  /** Moves the score by `delta`, held between 0 and max - 1. */
  apply(delta: number): void {
    this.#score = Math.max(0, Math.min(this.max - 1, this.#score + delta));
  }

  /** `ms` stretched by the score: ms · (score + 1). */
  scale(ms: number): number {
    return ms * (this.#score + 1);
  }
}
