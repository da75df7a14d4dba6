/**
 * Every timing knob and limit of the peer lives here, in the spirit of memberlist's
 * Config: nothing else in the peer reads a magic number. Three named profiles:
 * `lan` mirrors memberlist's DefaultLANConfig and `wan` its DefaultWANConfig;
 * `local` is tuned for many peers on one loopback machine, fast enough for
 * tests yet slack enough that a busy 2-core CI box does not turn slow acks
 * into false `dead` verdicts.
 */
import {MAX_MEMBER_ENTRY_BYTES} from './membership/messages.js';

export interface SwimConfig {
  readonly profile: ProfileName;
  /** How often each member probes one other member. */
  readonly probeIntervalMs: number;
  /** How long to wait for a direct ack before asking others to probe indirectly. */
  readonly probeTimeoutMs: number;
  /** How many members are asked for an indirect probe (SWIM's k). */
  readonly indirectChecks: number;
  /**
   * Lifeguard's local health multiplier at its highest (memberlist's
   * AwarenessMaxMultiplier): a member whose probes fail without the helpers'
   * nacks, or that has to refute a suspicion of itself, stretches its probe
   * window up to this many times (awareness.ts). 1: never.
   */
  readonly awarenessMaxMultiplier: number;
  /** Suspicion timeout = suspicionMult · max(1, log10(N)) · probeInterval at the least... */
  readonly suspicionMult: number;
  /** ...and up to this multiple of that while no confirmations arrive (Lifeguard). */
  readonly suspicionMaxTimeoutMult: number;
  /** Each update is retransmitted retransmitMult · ceil(log10(N + 1)) times (SWIM's λ·log N). */
  readonly retransmitMult: number;
  /** How often piggyback updates are also gossiped to a few random members. */
  readonly gossipIntervalMs: number;
  readonly gossipNodes: number;
  /** Full-state exchange over TCP with one random member. */
  readonly pushPullIntervalMs: number;
  /**
   * A member whose probe is acked by one that holds more member records than
   * it does, once its own view has not changed for this long, pulls that
   * member's state at once (at most once per this long); 0: never, only the
   * periodic push-pull closes a gap, and acks carry no count. See
   * PushPull.heardCount.
   */
  readonly gapPullQuietMs: number;
  /** How often a push-pull is tried with one random dead member, so healed partitions merge. */
  readonly reconnectIntervalMs: number;
  /** TCP connect + exchange deadline. */
  readonly tcpTimeoutMs: number;
  /** How long a leaving member keeps gossiping its `left` before it stops. */
  readonly leavePropagateMs: number;
  /** Chat anti-entropy: how often a member compares its message digest with a random member. */
  readonly chatSyncIntervalMs: number;
  /**
   * Anti-entropy leaves a message this young (delivered here this recently) to
   * its broadcast, which is on its way: repairing it too would only race the
   * broadcast and arrive twice.
   */
  readonly chatRepairGraceMs: number;
  /** Upper bound for one UDP datagram; piggybacked updates and chat batches are cut to fit. */
  readonly maxPacketBytes: number;
  /**
   * How often the peer reports its traffic counters (a net.counters event);
   * 0: never. Every report is a line in the run's history, so with hundreds of
   * peers a second is about as often as it should go; the rates the checkers
   * derive from it are only as fine as this.
   */
  readonly countersIntervalMs: number;

  // --- limits: what one peer holds on behalf of others --------------------

  /**
   * The largest group the peer is sized for, counting dead and left members
   * not yet reaped: a member that would go beyond it is not recorded. The
   * push-pull byte cap is derived from it (maxPushPullBytes).
   */
  readonly maxMembers: number;
  /**
   * How many members one gossip datagram may introduce. Honest packets carry
   * a few newcomers; the rest of a mass join arrives in later packets and
   * push-pulls, so a forged packet cannot fill the member table at once.
   */
  readonly maxNewMembersPerPacket: number;
  /**
   * How many members one inbound push-pull request may introduce. The reply
   * to a push-pull this peer started (its join, its periodic exchange) is not
   * capped: it comes from a member it chose, and a joiner must learn the group.
   */
  readonly maxNewMembersPerPushPull: number;
  /** Inbound TCP connections served at once; more are closed on arrival. */
  readonly maxInboundConnections: number;
  /**
   * How long a dead or left member is kept before it is forgotten:
   * memberlist's GossipToTheDeadTime, after which its resetNodes drops the
   * member. Forgetting frees the name; a dead member's address stays a
   * reconnect target (Serf's failed members), so a partition that outlasts
   * it still heals.
   */
  readonly deadReapMs: number;
  /**
   * Chat messages held back waiting for a gap to fill, over all senders, and
   * how far ahead of its stream's delivered sequence a message may be held.
   * What is dropped comes back through anti-entropy once the gap fills.
   */
  readonly maxHeldMessages: number;
}

export const PROFILE_NAMES = ['local', 'lan', 'wan'] as const;

export type ProfileName = (typeof PROFILE_NAMES)[number];

/** The limits every profile shares; only the reap time is a matter of timing. */
function limits(deadReapMs: number) {
  return {
    // 2× the largest group measured (1,000 peers, docs/PERFORMANCE.md).
    maxMembers: 2048,
    maxNewMembersPerPacket: 64,
    maxNewMembersPerPushPull: 256,
    maxInboundConnections: 32,
    deadReapMs,
    // At the 4,000-character text limit, 4 MB of text at most.
    maxHeldMessages: 1024,
  } as const;
}

/**
 * How far above what a peer knows of a member the incarnation in news about
 * it may be (uint32 range: messages.ts). Honest groups move one per
 * refutation, and an observer lags only by the refutations it missed, so 256
 * never refuses honest news in practice (and a lagging observer catches up
 * from the member itself, whose word about itself is not held to the step).
 * A forged packet moves a member at most 256 up: reaching the top of the range
 * takes 2^24 of them, not one. A protocol constant, not a profile knob:
 * members must agree on it, or one refuses what another sent.
 */
export const MAX_INCARNATION_STEP = 2 ** 8;

/** A push-pull header (type, sender name and address, join flag) is well under this. */
const PUSH_PULL_HEADER_BYTES = 1024;

/**
 * Byte cap for one push-pull request or reply: the full state of the largest
 * group the peer is sized for, at the longest entry the decoder accepts (about
 * 400 bytes; 2048 members make 0.8 MiB). Anything larger cannot be a state a
 * peer sent honestly, so the connection is cut there, before it is parsed.
 */
export function maxPushPullBytes(config: SwimConfig): number {
  return config.maxMembers * MAX_MEMBER_ENTRY_BYTES + PUSH_PULL_HEADER_BYTES;
}

export const profiles: Readonly<Record<ProfileName, SwimConfig>> = {
  lan: {
    profile: 'lan',
    probeIntervalMs: 1000,
    probeTimeoutMs: 500,
    indirectChecks: 3,
    awarenessMaxMultiplier: 8,
    suspicionMult: 4,
    suspicionMaxTimeoutMult: 6,
    retransmitMult: 4,
    gossipIntervalMs: 200,
    gossipNodes: 3,
    pushPullIntervalMs: 30_000,
    // Five gossip ticks: news of a forming group arrives far more often than that.
    gapPullQuietMs: 1000,
    reconnectIntervalMs: 10_000,
    tcpTimeoutMs: 10_000,
    leavePropagateMs: 1000,
    chatSyncIntervalMs: 1000,
    chatRepairGraceMs: 250,
    maxPacketBytes: 1400,
    countersIntervalMs: 1000,
    ...limits(300_000),
  },
  /**
   * memberlist's DefaultWANConfig: members whose acks take seconds, as they
   * do across the internet, or among thousands of members on a few cores
   * (scenarios/scale/2000-peers.yaml). Probes every 5 s with 3 s to answer,
   * gossip to 4 members every 500 ms, 30 s for a TCP exchange. This peer's
   * own knobs: the gap pull, the leave's propagation and chat's anti-entropy
   * scaled from `lan` with the gossip interval, the reconnect at Serf's 30 s,
   * and dead members kept as long as on `lan` (memberlist reaps a WAN member
   * after 60 s, a LAN one after 30 s; both profiles keep it 300 s, so a
   * partition's other side is still known when it heals).
   */
  wan: {
    profile: 'wan',
    probeIntervalMs: 5000,
    probeTimeoutMs: 3000,
    indirectChecks: 3,
    awarenessMaxMultiplier: 8,
    suspicionMult: 6,
    suspicionMaxTimeoutMult: 6,
    retransmitMult: 4,
    gossipIntervalMs: 500,
    gossipNodes: 4,
    pushPullIntervalMs: 60_000,
    gapPullQuietMs: 2500,
    reconnectIntervalMs: 30_000,
    tcpTimeoutMs: 30_000,
    leavePropagateMs: 2500,
    chatSyncIntervalMs: 2500,
    chatRepairGraceMs: 600,
    maxPacketBytes: 1400,
    countersIntervalMs: 1000,
    ...limits(300_000),
  },
  local: {
    profile: 'local',
    probeIntervalMs: 150,
    probeTimeoutMs: 60,
    indirectChecks: 3,
    // Off: the suite judges detection within a few of these short probe periods on a loaded CI machine, where a
    // stretched window would turn the machine's load into slow detections.
    awarenessMaxMultiplier: 1,
    suspicionMult: 4,
    suspicionMaxTimeoutMult: 4,
    retransmitMult: 4,
    gossipIntervalMs: 50,
    gossipNodes: 3,
    pushPullIntervalMs: 2000,
    // The periodic exchange every 2 s already closes a gap about as soon as a pull could.
    gapPullQuietMs: 0,
    reconnectIntervalMs: 1000,
    tcpTimeoutMs: 2000,
    leavePropagateMs: 300,
    chatSyncIntervalMs: 300,
    chatRepairGraceMs: 100,
    maxPacketBytes: 16_000,
    countersIntervalMs: 1000,
    ...limits(30_000),
  },
};

export function isProfileName(value: string): value is ProfileName {
  return (PROFILE_NAMES as readonly string[]).includes(value);
}

/** Lifeguard's suspicion timeout floor: grows with log(N). */
export function suspicionMinMs(config: SwimConfig, n: number): number {
  const scale = Math.max(1, Math.log10(Math.max(1, n)));
  return Math.round(config.suspicionMult * scale * config.probeIntervalMs);
}

export function suspicionMaxMs(config: SwimConfig, n: number): number {
  return config.suspicionMaxTimeoutMult * suspicionMinMs(config, n);
}

/** How many times one update is piggybacked before it is dropped from the queue. */
export function retransmitLimit(config: SwimConfig, n: number): number {
  return config.retransmitMult * Math.ceil(Math.log10(n + 1));
}

/**
 * memberlist's pushPullScale: above 32 members the full-state exchange slows
 * down with log2(N), so the group's total TCP traffic stays about flat as it grows.
 */
export function pushPullIntervalMs(config: SwimConfig, n: number): number {
  const threshold = 32;
  if (n <= threshold) return config.pushPullIntervalMs;
  return (Math.ceil(Math.log2(n) - Math.log2(threshold)) + 1) * config.pushPullIntervalMs;
}

/**
 * When a member's first periodic push-pull falls: at a random point of the
 * base interval, as memberlist's pushPullTrigger staggers it. Members started
 * together then exchange state one after another through the interval; held
 * to its end, a forming group's gaps all waited for one synchronised round.
 */
export function firstPushPullDelayMs(config: SwimConfig, random: () => number = Math.random): number {
  return Math.floor(random() * config.pushPullIntervalMs);
}

/**
 * The bound within which every other member should record a crashed member as
 * dead: a full round-robin of probes before the victim's turn comes up for
 * certain, one probe period for the indirect probes, the unconfirmed suspicion
 * timeout, and a few gossip rounds to spread the verdict. The probes' share
 * is stretched by the local health multiplier: a member that finds itself
 * slow probes that much more slowly (awareness.ts).
 */
export function failureDetectionBoundMs(config: SwimConfig, n: number): number {
  const probeWindowMs = config.probeIntervalMs * config.awarenessMaxMultiplier;
  return (n + 1) * probeWindowMs + suspicionMaxMs(config, n) + 10 * config.gossipIntervalMs + probeWindowMs;
}
