/**
 * What each check needs the peers to have declared they report, and whether
 * a run's peers declared it: a check whose input some peer never said it
 * reports judges nothing there, so its verdict is unknown, with the reason,
 * never a pass by silence. The scenario loader reads the same table to
 * refuse, before any peer starts, what a peer program cannot feed.
 */
import type {Capabilities, Capability} from '@peerlab/events/capabilities';
import {declares} from '@peerlab/events/capabilities';
import type {HistoryEvent, InvariantName} from './history/types.js';
import {isEvent} from './history/types.js';

/** The capabilities each invariant reads. */
export const invariantNeeds: Record<InvariantName, readonly Capability[]> = {
  'no-duplicate-delivery': ['chat'],
  'per-sender-order': ['chat'],
  'no-unsent-delivery': ['chat'],
  'no-false-dead': ['membership'],
  'no-dead': ['membership'],
  'membership-legality': ['membership', 'incarnation'],
  causal: ['causal-chat'],
};

/** What the awaited conditions read from peer events rather than snapshots. */
export const conditionNeeds: Partial<Record<'converged' | 'delivered' | 'detected' | 'rejoined' | 'state', readonly Capability[]>> = {
  delivered: ['chat'],
};

/** Traffic bounds read the peers' counters. */
export const trafficNeeds: readonly Capability[] = ['traffic'];

/** The first of `needs` that `capabilities` does not declare. */
export function firstLacking(capabilities: Capabilities, needs: readonly Capability[]): Capability | undefined {
  return needs.find((need) => !declares(capabilities, need));
}

/**
 * Why a check needing `needs` cannot be judged on this history: the peers
 * whose registration did not declare them. Undefined when every peer did, or
 * when the history records no declarations at all (written before peers made
 * them, when every peer was taken to report everything).
 */
export function undeclared(history: readonly HistoryEvent[], needs: readonly Capability[]): string | undefined {
  // The latest registration of each peer: a restarted program may declare otherwise.
  const declared = new Map<string, Capabilities>();
  for (const e of history) if (isEvent(e, 'peer.registered') && e.data.capabilities) declared.set(e.data.peer, e.data.capabilities);
  const lacking = new Map<Capability, string[]>();
  for (const [peer, capabilities] of declared) {
    for (const need of needs) if (!declares(capabilities, need)) lacking.set(need, [...(lacking.get(need) ?? []), peer]);
  }
  if (lacking.size === 0) return undefined;
  const reasons = [...lacking].map(([need, peers]) =>
    peers.length === declared.size ? `no peer declares ${need}` : `${peers.join(', ')} ${peers.length === 1 ? 'does' : 'do'} not declare ${need}`,
  );
  return `not judged: ${reasons.join('; ')} (in the capabilities of its hello)`;
}
