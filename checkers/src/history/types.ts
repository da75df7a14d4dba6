/**
 * The history: one immutable event per line of `history.jsonl`, for
 * everything the coordinator did and everything a peer reported. It is the
 * single source of truth of a run; verdicts, reports and `peerlab check` are
 * all derived from it. Checkers import only this module.
 */

export type {
  Source,
  PeerSource,
  HistoryEvent,
  HistoryEventOf,
  CoordinatorHistoryEvent,
  PeerHistoryEvent,
  ExtensionHistoryEvent,
  EventType,
  EventData,
  PeerEventType,
  CoordinatorEventType,
  Condition,
  Status,
  MemberState,
  Declared,
  FaultKind,
  TrafficBounds,
} from '@peerlab/events/contract';
import type {EventType, HistoryEvent, HistoryEventOf, Status} from '@peerlab/events/contract';
import {coordinatorEventTypes, peerEventTypes} from '@peerlab/events/contract';

/**
 * Narrows an event to a type the contract lists, so its data reads typed:
 * `if (isEvent(e, 'member.dead')) e.data.incarnation` is a number. A peer
 * event must come from a peer and a coordinator event from the coordinator.
 */
export function isEvent<K extends EventType>(e: HistoryEvent, type: K): e is HistoryEventOf<K> {
  return e.type === type && (e.src === 'coordinator' ? coordinatorEventTypes.has(type) : peerEventTypes.has(type));
}

/** An event of any type the contract lists, narrowed by a `switch` on its type to that type's data. */
export type ContractHistoryEvent = HistoryEventOf<EventType>;

/**
 * The event is of a type the contract lists for its source (a peer event
 * from a peer, a coordinator event from the coordinator): not an extension.
 * Then `switch (e.type)` narrows its data, as `isEvent` does for one type.
 */
export function isContractEvent(e: HistoryEvent): e is ContractHistoryEvent {
  return e.src === 'coordinator' ? coordinatorEventTypes.has(e.type) : peerEventTypes.has(e.type);
}

/** What an awaited condition or invariant concluded. */
export interface Verdict {
  status: Status;
  /** One line a person can read: which peer, which expectation, what was seen instead. */
  message: string;
  /** Measured values, e.g. {converge_ms: 812} or {latency_p50_ms: 3, latency_p99_ms: 9}. */
  figures?: Record<string, number>;
  /** The last relevant events, already formatted for a person. */
  evidence?: string[];
}

/** Invariants a scenario may list; each is checked over the whole history at the end. */
export const invariantNames = ['no-duplicate-delivery', 'per-sender-order', 'no-unsent-delivery', 'no-false-dead', 'no-dead', 'membership-legality', 'causal'] as const;
export type InvariantName = (typeof invariantNames)[number];

/**
 * Invariants every scenario checks unless it opts out (`-name` in its list):
 * what no correct peer can break, whatever the scenario does to it.
 */
export const defaultInvariants = ['membership-legality'] as const satisfies readonly InvariantName[];

/**
 * The invariants a scenario checks: the defaults, less those it opts out of
 * with `-name`, then those it lists, each once, in the order listed.
 */
export function effectiveInvariants(listed: readonly string[]): InvariantName[] {
  const dropped = new Set(listed.filter((n) => n.startsWith('-')).map((n) => n.slice(1)));
  const named = listed.filter((n): n is InvariantName => (invariantNames as readonly string[]).includes(n));
  return [...new Set([...named, ...defaultInvariants.filter((n) => !dropped.has(n))])];
}

/*
 * The event vocabulary (every type and its data) is the contract in
 * events/src/contract.ts; docs/events.schema.json is generated from it.
 */
