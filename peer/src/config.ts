/**
 * Every timing knob of the peer lives here, in the spirit of memberlist's
 * Config: nothing else in the peer reads a magic number. Two named profiles:
 * `lan` mirrors memberlist's DefaultLANConfig, `local` is tuned for many peers
 * on one loopback machine, fast enough for tests yet slack enough that a busy
 * 2-core CI box does not turn slow acks into false `dead` verdicts.
 */
export interface SwimConfig {
  readonly profile: ProfileName;
  /** How often each member probes one other member. */
  readonly probeIntervalMs: number;
  /** How long to wait for a direct ack before asking others to probe indirectly. */
  readonly probeTimeoutMs: number;
  /** How many members are asked for an indirect probe (SWIM's k). */
  readonly indirectChecks: number;
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
  /** How often a push-pull is tried with one random dead member, so healed partitions merge. */
  readonly reconnectIntervalMs: number;
  /** TCP connect + exchange deadline. */
  readonly tcpTimeoutMs: number;
  /** How long a leaving member keeps gossiping its `left` before it stops. */
  readonly leavePropagateMs: number;
  /** Chat anti-entropy: how often a member compares its message digest with a random member. */
  readonly chatSyncIntervalMs: number;
  /** Upper bound for one UDP datagram; piggybacked updates and chat batches are cut to fit. */
  readonly maxPacketBytes: number;
}

export type ProfileName = 'lan' | 'local';

export const profiles: Readonly<Record<ProfileName, SwimConfig>> = {
  lan: {
    profile: 'lan',
    probeIntervalMs: 1000,
    probeTimeoutMs: 500,
    indirectChecks: 3,
    suspicionMult: 4,
    suspicionMaxTimeoutMult: 6,
    retransmitMult: 4,
    gossipIntervalMs: 200,
    gossipNodes: 3,
    pushPullIntervalMs: 30_000,
    reconnectIntervalMs: 10_000,
    tcpTimeoutMs: 10_000,
    leavePropagateMs: 1000,
    chatSyncIntervalMs: 1000,
    maxPacketBytes: 1400,
  },
  local: {
    profile: 'local',
    probeIntervalMs: 150,
    probeTimeoutMs: 60,
    indirectChecks: 3,
    suspicionMult: 4,
    suspicionMaxTimeoutMult: 4,
    retransmitMult: 4,
    gossipIntervalMs: 50,
    gossipNodes: 3,
    pushPullIntervalMs: 2000,
    reconnectIntervalMs: 1000,
    tcpTimeoutMs: 2000,
    leavePropagateMs: 300,
    chatSyncIntervalMs: 300,
    maxPacketBytes: 16_000,
  },
};

export function isProfileName(value: string): value is ProfileName {
  return value === 'lan' || value === 'local';
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
 * The bound within which every other member should record a crashed member as
 * dead: a full round-robin of probes before the victim's turn comes up for
 * certain, one probe period for the indirect probes, the unconfirmed suspicion
 * timeout, and a few gossip rounds to spread the verdict.
 */
export function failureDetectionBoundMs(config: SwimConfig, n: number): number {
  return (n + 1) * config.probeIntervalMs + suspicionMaxMs(config, n) + 10 * config.gossipIntervalMs + config.probeIntervalMs;
}
