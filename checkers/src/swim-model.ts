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
  /** Each update is gossiped retransmitMult · ceil(log10(N + 1)) times (SWIM's λ·log N). */
  readonly retransmitMult: number;
  /** How often a member exchanges its full state with one random member (the slow path that catches up what gossip missed). */
  readonly pushPullIntervalMs: number;
  /** How often a member compares its chat digest with one random member (anti-entropy for messages a direct send lost). */
  readonly chatSyncIntervalMs: number;
  /**
   * Lifeguard's local health multiplier at its highest (memberlist's
   * AwarenessMaxMultiplier): a member that finds itself slow stretches its
   * probe window up to this many times. Optional: a peer that does not say
   * runs without it (1).
   */
  readonly awarenessMaxMultiplier?: number;
}

/** The knobs, in the order a peer reports them (the `timing` of its peer.started). */
export const swimTimingFields = [
  'probeIntervalMs',
  'suspicionMult',
  'suspicionMaxTimeoutMult',
  'gossipIntervalMs',
  'gossipNodes',
  'retransmitMult',
  'pushPullIntervalMs',
  'chatSyncIntervalMs',
] as const satisfies ReadonlyArray<keyof SwimTiming>;
const fields = swimTimingFields;

/** Checks a timing record that came from outside (a peer's JSON): each knob a positive finite number. */
export function parseSwimTiming(value: unknown, source = 'timing'): SwimTiming {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError(`${source}: expected an object, got ${describeValue(value)}`);
  const record = value as Record<string, unknown>;
  for (const field of fields) {
    const v = record[field];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new TypeError(`${source}.${field}: expected a positive number, got ${describeValue(v)}`);
  }
  const timing = Object.fromEntries(fields.map((f) => [f, record[f]])) as Record<string, number>;
  const awareness = record.awarenessMaxMultiplier;
  if (awareness !== undefined) {
    if (typeof awareness !== 'number' || !Number.isFinite(awareness) || awareness < 1) throw new TypeError(`${source}.awarenessMaxMultiplier: expected a number of at least 1, got ${describeValue(awareness)}`);
    timing.awarenessMaxMultiplier = awareness;
  }
  return timing as unknown as SwimTiming;
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
 * timeout, and a few gossip rounds to spread the verdict. A peer with
 * Lifeguard's local health may stretch each probe's window up to its
 * multiplier when it finds itself slow (a starved machine), so the probes'
 * share is stretched by as much: a correct peer is not failed for slowing
 * down as memberlist does.
 */
export function failureDetectionBoundMs(timing: SwimTiming, n: number): number {
  const probeWindowMs = timing.probeIntervalMs * (timing.awarenessMaxMultiplier ?? 1);
  return (n + 1) * probeWindowMs + suspicionMaxMs(timing, n) + 10 * timing.gossipIntervalMs + probeWindowMs;
}

/**
 * The expected detection time of a crash: SWIM's e/(e-1) probe periods until
 * some member probes the victim, then the suspicion timeout's floor.
 */
export function expectedDetectionMs(timing: SwimTiming, n: number): number {
  return (Math.E / (Math.E - 1)) * timing.probeIntervalMs + suspicionMinMs(timing, n);
}

/**
 * Serf's convergence model, as its convergence simulator computes it
 * (serf.io/docs/internals/simulator.html; the page's JavaScript is
 * `convergenceAtRound` in hashicorp/serf, website/source/assets/javascripts/_simulator.js):
 * a logistic epidemic in which each member that has heard the news tells
 * `fanout` random members every gossip round, over `nodes` members, with a
 * fraction of packets lost and of members failed:
 *
 *   contact  = (fanout / nodes) · (1 − packetLoss) · (1 − nodeFail) · 0.5
 *   infected = nodes / (1 + (nodes + 1) · e^(−contact · nodes · round))
 *
 * and the simulator draws rounds until 99.99% have heard it. (The page's first
 * version, website/source/javascripts/simulator.js, had no factor 0.5; the
 * current one halves the contact rate, which is the one restated here.)
 */
export interface SerfSimulation {
  /** Members in the group (the simulator's "Nodes"). */
  readonly nodes: number;
  /** Random members told each round (its "Gossip Fanout", memberlist's GossipNodes). */
  readonly fanout: number;
  /** Fraction of packets lost, in [0, 1). */
  readonly packetLoss?: number;
  /** Fraction of members failed, in [0, 1). */
  readonly nodeFail?: number;
}

/** Where the simulator stops drawing: the news has reached 99.99% of the members. */
export const SERF_MAX_CONVERGE = 0.9999;

/** Serf's convergenceAtRound: the fraction of members that have heard the news after `round` rounds (not necessarily whole). */
export function serfConvergenceAtRound(sim: SerfSimulation, round: number): number {
  const contact = serfContact(sim);
  const infected = sim.nodes / (1 + (sim.nodes + 1) * Math.exp(-contact * sim.nodes * round));
  return infected / sim.nodes;
}

/**
 * The simulator's rounds to converge: the first whole round whose fraction
 * reaches `maxConverge` (the last point it draws). Worked out in closed form,
 * then nudged by one where floating point lands beside the boundary, so it is
 * exactly the round the simulator's loop stops at.
 */
export function serfConvergenceRounds(sim: SerfSimulation, maxConverge = SERF_MAX_CONVERGE): number {
  const rate = serfContact(sim) * sim.nodes;
  let rounds = Math.max(0, Math.ceil(Math.log((sim.nodes + 1) / (1 / maxConverge - 1)) / rate));
  while (serfConvergenceAtRound(sim, rounds) < maxConverge) rounds++;
  while (rounds > 0 && serfConvergenceAtRound(sim, rounds - 1) >= maxConverge) rounds--;
  return rounds;
}

function serfContact(sim: SerfSimulation): number {
  const {nodes, fanout, packetLoss = 0, nodeFail = 0} = sim;
  if (!(nodes >= 1) || !(fanout > 0)) throw new RangeError(`Serf's model needs nodes >= 1 and fanout > 0, got ${nodes} and ${fanout}`);
  if (!(packetLoss >= 0 && packetLoss < 1) || !(nodeFail >= 0 && nodeFail < 1)) throw new RangeError(`packetLoss and nodeFail must be in [0, 1), got ${packetLoss} and ${nodeFail}`);
  return (fanout / nodes) * (1 - packetLoss) * (1 - nodeFail) * 0.5;
}

/**
 * Serf's model with no loss and no failure: the gossip rounds until 99.99% of
 * N members have heard a piece of news. Each round multiplies the informed
 * fraction by about e^(fanout/2) while few know, so the count of rounds grows
 * with log N and shrinks with the fan-out.
 */
export function epidemicRounds(n: number, fanout: number): number {
  return serfConvergenceRounds({nodes: n, fanout});
}

/**
 * The same model as a curve: the fraction of N members that have heard the
 * news after `rounds` gossip rounds (not necessarily whole), Serf's
 * convergenceAtRound with no loss: odds(r) = e^(fanout/2 · r) / (N + 1), so
 * the curve reaches 99.99% exactly at epidemicRounds.
 */
export function epidemicFraction(n: number, fanout: number, rounds: number): number {
  return serfConvergenceAtRound({nodes: n, fanout}, rounds);
}

/**
 * The epidemic curve in time, one point per gossip round from the news (t =
 * 0) until epidemicSpreadMs, where it reaches 99.99%: what a chart draws
 * beside a measured spread.
 */
export function epidemicCurve(n: number, fanout: number, intervalMs: number): {t: number[]; fraction: number[]} {
  const rounds = epidemicRounds(n, fanout);
  const t: number[] = [];
  const fraction: number[] = [];
  for (let r = 0; r <= rounds; r++) {
    t.push(r * intervalMs);
    fraction.push(epidemicFraction(n, fanout, r));
  }
  return {t, fraction};
}

/** The epidemic model in time: its rounds at one gossip interval each. */
export function epidemicSpreadMs(n: number, fanout: number, intervalMs: number): number {
  return epidemicRounds(n, fanout) * intervalMs;
}

/**
 * How long after the last peer of a group registers until every member sees
 * every other: one probe interval for the joiner's push-pull with its seed and
 * the first gossip tick that carries its `alive` (news waits for a tick or a
 * probe to ride on), then the epidemic's rounds to spread it to all N.
 * Concurrent joins spread in parallel, so the last join's news is what counts.
 */
export function convergeModelMs(timing: SwimTiming, n: number): number {
  return timing.probeIntervalMs + epidemicSpreadMs(n, timing.gossipNodes, timing.gossipIntervalMs);
}

/**
 * How long one new member's arrival takes to reach every member of a formed,
 * quiet group of `n`: Serf's rounds for the group with the newcomer (n + 1
 * nodes, the profile's fan-out), one gossip interval each. What stands
 * between the change and its gossip in this peer, and how it is counted:
 *
 * - The newcomer's `alive` first reaches the group through its join: a
 *   push-pull with each of its seeds (up to three), which merges the
 *   newcomer's state before answering. That hop is the news coming into
 *   existence, not its spread: the clock starts when the first member holds it
 *   (no later than the newcomer's own `peer.joined`), so it is not in the model.
 *   Serf's model starts from one informed member; the seeds make up to three,
 *   a start about log(3)/(fanout/2) rounds ahead that is not subtracted.
 * - News waits for a gossip tick: the model charges every hop a whole round.
 *   This peer sends the first news after a quiet spell at once and the rest at
 *   each tick (gossip.ts), so nothing is added for the wait; in a quiet group
 *   the first hop from each newly informed member is quicker than the model's.
 * - Updates also ride on probes (every probe interval): more paths than the
 *   model has, not counted.
 * - Each member sends an update only retransmitMult · ceil(log10(N + 1)) times
 *   where the model has it tell others forever; a member the epidemic misses
 *   waits for a push-pull (pushPullIntervalMs). Not in the model: it would
 *   show as a tail far above it.
 */
export function joinSpreadModelMs(timing: SwimTiming, n: number): number {
  return serfConvergenceRounds({nodes: n + 1, fanout: timing.gossipNodes}) * timing.gossipIntervalMs;
}

/**
 * How long one member's graceful leave takes to reach every other member in
 * Serf's model: the same epidemic as a join's news (n + 1 nodes, the
 * profile's fan-out, one gossip interval a round). memberlist's Leave queues
 * its own `dead` for gossip like any broadcast, and Serf's simulator models
 * every broadcast alike. This peer does better than the model describes: the
 * leaver sends its `left` straight to every live member it knows, one hop
 * (membership.ts leave), then gossips it for a member it did not know of. What
 * one hop takes is the network's and the machine's, not the protocol's: with
 * N processes on two cores it is N wake-ups (the bench's note gives it in
 * rounds beside the model).
 */
export function leaveSpreadModelMs(timing: SwimTiming, n: number): number {
  return serfConvergenceRounds({nodes: n + 1, fanout: timing.gossipNodes}) * timing.gossipIntervalMs;
}

/**
 * How long after a restart until every member has the peer alive again at a
 * higher incarnation: the restarted process joins with a push-pull (one probe
 * interval, as for any join), learns from its seed's state that the group
 * holds it dead or suspect and refutes at once with a higher incarnation, and
 * that `alive` spreads by gossip like any other news. A peer that forgot it
 * (reaped) takes the same `alive` as a new member.
 */
export function rejoinModelMs(timing: SwimTiming, n: number): number {
  return timing.probeIntervalMs + epidemicSpreadMs(n, timing.gossipNodes, timing.gossipIntervalMs);
}

/**
 * How long a chat message takes to reach every member: the sender sends it
 * straight to each member it knows, one hop, so no gossip rounds; a datagram
 * lost on the way is repaired by anti-entropy, where every member compares
 * digests with one random member each interval, so a member that missed it
 * meets one that has it within about two intervals (it pulls, or is pushed
 * to). N does not appear: the direct send does not grow with the group.
 */
export function deliveryModelMs(timing: SwimTiming, _n: number): number {
  return 2 * timing.chatSyncIntervalMs;
}
