/**
 * The harness's model of SWIM timing (with Lifeguard's suspicion timeout):
 * pure functions of a profile's timing record and the group size N, for
 * bounds that are relative to the model rather than to wall-clock constants.
 *
 * This is the model the peer is judged against, so it is written here, on the
 * judge's side, and not imported from the peer: a peer in another language
 * has the same knobs (memberlist's names) and says what they are set to when
 * asked (`peerlab-peer --print-profile <name>` prints them as JSON).
 */
import {describeValue} from '@peerlab/events/values';

/** The knobs the model reads, as the peer reports them. */
export interface SwimTiming {
  /** How often each member probes one other member. */
  readonly probeIntervalMs: number;
  /** Suspicion timeout floor = suspicionMult · max(1, log10(N)) · probeInterval. */
  readonly suspicionMult: number;
  /** Lifeguard: the timeout starts at this multiple of the floor while no confirmations arrive. */
  readonly suspicionMaxTimeoutMult: number;
  /** How often piggybacked updates are gossiped... */
  readonly gossipIntervalMs: number;
  /** ...and to how many random members. */
  readonly gossipNodes: number;
}

const fields = ['probeIntervalMs', 'suspicionMult', 'suspicionMaxTimeoutMult', 'gossipIntervalMs', 'gossipNodes'] as const;

/** Checks a timing record that came from outside (a peer's JSON): each knob a positive finite number. */
export function parseSwimTiming(value: unknown, source = 'timing'): SwimTiming {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError(`${source}: expected an object, got ${describeValue(value)}`);
  const record = value as Record<string, unknown>;
  for (const field of fields) {
    const v = record[field];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new TypeError(`${source}.${field}: expected a positive number, got ${describeValue(v)}`);
  }
  return Object.fromEntries(fields.map((f) => [f, record[f]])) as unknown as SwimTiming;
}

/** Lifeguard's suspicion timeout floor: grows with log10(N). */
export function suspicionMinMs(timing: SwimTiming, n: number): number {
  const scale = Math.max(1, Math.log10(Math.max(1, n)));
  return Math.round(timing.suspicionMult * scale * timing.probeIntervalMs);
}

/** The suspicion timeout with no confirmations: where Lifeguard's timer starts. */
export function suspicionMaxMs(timing: SwimTiming, n: number): number {
  return timing.suspicionMaxTimeoutMult * suspicionMinMs(timing, n);
}

/**
 * The bound within which every other member should record a crashed member as
 * dead: a full round-robin of probes before the victim's turn comes up for
 * certain, one probe period for the indirect probes, the unconfirmed suspicion
 * timeout, and a few gossip rounds to spread the verdict.
 */
export function failureDetectionBoundMs(timing: SwimTiming, n: number): number {
  return (n + 1) * timing.probeIntervalMs + suspicionMaxMs(timing, n) + 10 * timing.gossipIntervalMs + timing.probeIntervalMs;
}

/**
 * The expected detection time of a crash: SWIM's e/(e-1) probe periods until
 * some member probes the victim, then the suspicion timeout's floor.
 */
export function expectedDetectionMs(timing: SwimTiming, n: number): number {
  return (Math.E / (Math.E - 1)) * timing.probeIntervalMs + suspicionMinMs(timing, n);
}
