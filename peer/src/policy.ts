/**
 * Deliberate defects a peer can be started with (`--bug NAME`), so that
 * peerlab's own tests can show each checker failing on a real run. A harness
 * that cannot fail is worthless; these make it fail on purpose.
 *
 * The peer asks one Policy object at each point where a defect could bend
 * the protocol; the correct policy is the default, and each defect overrides
 * one hook. The state machine, the probe, the chat and the peer carry no
 * branches on defect names: a new defect is one more override here.
 */
import type {ChatMessage} from './membership/messages.js';
import type {MemberState} from './membership/types.js';

export interface Policy {
  /** Whether the peer drops every packet in and out (`deaf`). */
  readonly dropsAllPackets: boolean;
  /** Whether a leave is told to the others (`left` sent and gossiped), or the peer just goes quiet. */
  readonly announcesLeave: boolean;
  /** Whether a probe with no ack, direct or indirect, makes the target suspect. */
  readonly suspectsOnMissedAck: boolean;
  /** Whether the peer refutes a claim about itself with a higher incarnation. */
  readonly refutes: boolean;
  /** Whether the peer keeps trying push-pull with dead members, so a healed partition merges. */
  readonly reconnectsToDead: boolean;
  /** Whether the peer runs chat anti-entropy, which repairs what pushes missed: a partition, a loss. */
  readonly syncsChat: boolean;
  /**
   * Whether a chat message from another member waits until what it depends on
   * (its deps and its sender's previous message) is delivered here.
   */
  readonly waitsForCauses: boolean;
  /**
   * Whether an `alive` at `incoming` replaces what this peer holds about another
   * member: `held` at incarnation `heldIncarnation`. SWIM: only a higher incarnation does.
   */
  aliveOverrides(incoming: number, heldIncarnation: number, held: MemberState): boolean;
  /** The suspicion timeout bounds used, given Lifeguard's (config.ts). */
  suspicionBounds(minMs: number, maxMs: number): readonly [number, number];
  /** How many times one update is piggybacked, given the λ·log N limit (config.ts). */
  retransmitLimit(limit: number): number;
  /**
   * Hands a message from another member, its turn come (once its causes are
   * delivered, when the peer waits for them), to `record` (the delivery
   * itself). `stream` names its sender stream. One instance per peer: an
   * override may keep state across calls.
   */
  deliver(message: ChatMessage, stream: string, record: (message: ChatMessage) => void): void;
}

export const correctPolicy: Policy = Object.freeze({
  dropsAllPackets: false,
  announcesLeave: true,
  suspectsOnMissedAck: true,
  refutes: true,
  reconnectsToDead: true,
  syncsChat: true,
  waitsForCauses: true,
  aliveOverrides: (incoming: number, heldIncarnation: number) => incoming > heldIncarnation,
  suspicionBounds: (minMs: number, maxMs: number) => [minMs, maxMs] as const,
  retransmitLimit: (limit: number) => limit,
  deliver: (message: ChatMessage, _stream: string, record: (message: ChatMessage) => void) => record(message),
});

/**
 * Each defect: what it does, and the one hook it overrides on the policy it
 * is given. Overrides apply in this order, so that defects combine as they
 * always have: `drop-delivery` beats everything in delivery, then `reorder`,
 * and `phantom-delivery`'s extra message comes before `duplicate-delivery`'s.
 */
const defects = {
  /** Drops every packet in and out: the peer never meets anyone. */
  deaf: (base: Policy): Policy => ({...base, dropsAllPackets: true}),
  /** Delivers every message from others twice. */
  'duplicate-delivery': (base: Policy): Policy => ({
    ...base,
    deliver: (message, stream, record) => {
      record(message);
      base.deliver(message, stream, record);
    },
  }),
  /** Also delivers a message nobody sent, for each one it receives. */
  'phantom-delivery': (base: Policy): Policy => ({
    ...base,
    deliver: (message, stream, record) => {
      record({...message, id: `${message.id}-phantom`, seq: message.seq + 1_000_000});
      base.deliver(message, stream, record);
    },
  }),
  /** Delivers each odd-numbered message from others only after the one that follows it. */
  reorder: (base: Policy): Policy => {
    /** An odd-numbered message held back, per stream. */
    const held = new Map<string, ChatMessage>();
    return {
      ...base,
      deliver: (message, stream, record) => {
        if (message.seq % 2 === 1) return void held.set(stream, message);
        record(message);
        const odd = held.get(stream);
        held.delete(stream);
        if (odd) record(odd);
      },
    };
  },
  /**
   * Delivers each message from others as soon as it arrives, ignoring what it
   * depends on and its sender's order: a reply that overtakes its cause is
   * shown first, and nothing is ever held. Exact duplicates are still dropped.
   */
  'deliver-on-arrival': (base: Policy): Policy => ({...base, waitsForCauses: false}),
  /** Never delivers messages from others. */
  'drop-delivery': (base: Policy): Policy => ({...base, deliver: () => {}}),
  /** Leaves without telling anyone, so others see it dead instead of left. */
  'silent-leave': (base: Policy): Policy => ({...base, announcesLeave: false}),
  /** Never suspects anyone, so crashed peers are never declared dead. */
  'never-suspect': (base: Policy): Policy => ({...base, suspectsOnMissedAck: false}),
  /** Declares a suspect dead at once: no time to refute, so slow links kill live peers. */
  'hair-trigger': (base: Policy): Policy => ({...base, suspicionBounds: () => [0, 0] as const}),
  /** Never refutes a claim about itself, so a restarted peer is never accepted back. */
  'no-refute': (base: Policy): Policy => ({...base, refutes: false}),
  /** Never tries to reach dead members again, so the sides of a healed partition stay apart. */
  'no-reconnect': (base: Policy): Policy => ({...base, reconnectsToDead: false}),
  /** Takes an `alive` at the same incarnation for a member it holds dead, which SWIM forbids: stale news resurrects the dead. */
  resurrect: (base: Policy): Policy => ({
    ...base,
    aliveOverrides: (incoming, heldIncarnation, held) => (held === 'dead' && incoming === heldIncarnation) || base.aliveOverrides(incoming, heldIncarnation, held),
  }),
  /** Gossips each membership update once instead of λ·log N times: news spreads slowly, and only push-pull catches the rest up. */
  'gossip-once': (base: Policy): Policy => ({...base, retransmitLimit: () => 1}),
  /** Never runs chat anti-entropy, so a message pushed while a partition kept some members away never reaches them after the heal. */
  'no-anti-entropy': (base: Policy): Policy => ({...base, syncsChat: false}),
  /**
   * Never stops retransmitting an update: every piece of news ever heard rides
   * on every packet and keeps the gossip timer ticking, so a group at rest
   * talks as much as one that is forming. Nothing else goes wrong: only the
   * traffic figures (and a bound on them) show it.
   */
  chatty: (base: Policy): Policy => ({...base, retransmitLimit: () => Infinity}),
} satisfies Record<string, (base: Policy) => Policy>;

export type BugName = keyof typeof defects;

/** The `--bug` names, in the order the CLI lists them. */
export const bugNames: readonly BugName[] = [
  'deaf',
  'duplicate-delivery',
  'drop-delivery',
  'reorder',
  'phantom-delivery',
  'deliver-on-arrival',
  'silent-leave',
  'never-suspect',
  'hair-trigger',
  'no-refute',
  'no-reconnect',
  'resurrect',
  'gossip-once',
  'no-anti-entropy',
  'chatty',
];

/** The defects a peer was started with. */
export type Bugs = ReadonlySet<BugName>;

export function isBugName(value: string): value is BugName {
  return Object.hasOwn(defects, value);
}

/** The correct policy with the given defects applied; a fresh object, since a defect may keep state. */
export function policyFor(bugs: Iterable<BugName>): Policy {
  const wanted = new Set(bugs);
  let policy = correctPolicy;
  for (const [name, override] of Object.entries(defects) as Array<[BugName, (base: Policy) => Policy]>) {
    if (wanted.has(name)) policy = override(policy);
  }
  return policy;
}
