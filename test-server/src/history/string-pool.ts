/**
 * One copy of each string that recurs across a history's events: peer
 * names, addresses, event types. Every event a peer reports arrives as JSON
 * text and parses into strings of its own, so a 2,000-peer run's millions of
 * membership events held a copy of a name or an address for every mention of
 * one, and the coordinator holds every event until the verdict: a run of 6.7
 * million events peaked at 3 GB of its 4.3 GB heap. Only fields that name a
 * peer, an address or one of a few states are pooled: a chat text or a
 * message id is seen once, and pooling it would only cost a map entry.
 * `readHistory` (offline: `peerlab check`, reports) does not pool: there it
 * cost 6 % of the read for 27 % of the heap, with the machine to itself.
 */

/** `data` fields whose values come from a small set: peer names, addresses, enumerated states. */
const RECURRING_FIELDS = new Set(['name', 'from', 'address', 'via', 'sender', 'previous', 'reason', 'state', 'profile', 'peer']);

/** Names and addresses at 2,000 peers are about 4,000: far below this, which only bounds a peer sending made-up names. */
const MAX_STRINGS = 1 << 16;

/** Longer values are not names or addresses worth a map entry (a peer name is at most 64 characters). */
const MAX_LENGTH = 128;

export class StringPool {
  readonly #strings = new Map<string, string>();

  /** The pooled copy of `value`, pooling it if there is room. */
  get(value: string): string {
    const pooled = this.#strings.get(value);
    if (pooled !== undefined) return pooled;
    if (this.#strings.size < MAX_STRINGS && value.length <= MAX_LENGTH) this.#strings.set(value, value);
    return value;
  }

  /** Replaces `data`'s recurring string fields by their pooled copies, in place (its keys stay as they were). */
  fields(data: Record<string, unknown>): Record<string, unknown> {
    for (const key in data) {
      const value = data[key];
      if (typeof value === 'string' && RECURRING_FIELDS.has(key)) data[key] = this.get(value);
    }
    return data;
  }

  get size(): number {
    return this.#strings.size;
  }
}
