/**
 * Deliberate defects a peer can be started with (`--bug NAME`), so that
 * peerlab's own tests can show each checker failing on a real run. A harness
 * that cannot fail is worthless; these make it fail on purpose.
 */
export const bugNames = [
  /** Drops every packet in and out: the peer never meets anyone. */
  'deaf',
  /** Delivers every message from others twice. */
  'duplicate-delivery',
  /** Never delivers messages from others. */
  'drop-delivery',
  /** Delivers each odd-numbered message from others only after the one that follows it. */
  'reorder',
  /** Also delivers a message nobody sent, for each one it receives. */
  'phantom-delivery',
  /** Leaves without telling anyone, so others see it dead instead of left. */
  'silent-leave',
  /** Never suspects anyone, so crashed peers are never declared dead. */
  'never-suspect',
  /** Declares a suspect dead at once: no time to refute, so slow links kill live peers. */
  'hair-trigger',
  /** Never refutes a claim about itself, so a restarted peer is never accepted back. */
  'no-refute',
  /** Never tries to reach dead members again, so the sides of a healed partition stay apart. */
  'no-reconnect',
] as const;

export type BugName = (typeof bugNames)[number];

export function isBugName(value: string): value is BugName {
  return (bugNames as readonly string[]).includes(value);
}

export type Bugs = ReadonlySet<BugName>;
