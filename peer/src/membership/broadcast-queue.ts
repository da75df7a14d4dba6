/**
 * memberlist's TransmitLimitedQueue: updates waiting to be piggybacked. The
 * least-sent go first, each is sent a bounded number of times (λ·log N), and
 * a newer update about a member replaces the older one still queued.
 */
import type {Update} from './messages.js';

interface Entry {
  update: Update;
  /** Encoded length, counted once: take() runs for every packet sent. */
  bytes: number;
  transmits: number;
  /** Insertion order breaks ties so newer news goes out first among equals. */
  id: number;
}

export class BroadcastQueue {
  readonly #entries = new Map<string, Entry>();
  #nextId = 0;

  /** @param onQueue called after each queue(), so the owner can wake its gossip timer. */
  constructor(readonly onQueue: () => void = () => {}) {}

  queue(update: Update): void {
    this.#entries.set(update.n, {update, bytes: JSON.stringify(update).length + 1, transmits: 0, id: this.#nextId++});
    this.onQueue();
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Takes the updates that fit in `budgetBytes`, counting one transmission for each. */
  take(budgetBytes: number, limit: number): Update[] {
    if (this.#entries.size === 0) return [];
    const ordered = [...this.#entries.values()].sort((a, b) => a.transmits - b.transmits || b.id - a.id);
    const out: Update[] = [];
    let used = 0;
    for (const entry of ordered) {
      if (used + entry.bytes > budgetBytes) continue;
      used += entry.bytes;
      out.push(entry.update);
      entry.transmits++;
      if (entry.transmits >= limit) this.#entries.delete(entry.update.n);
    }
    return out;
  }

  clear(): void {
    this.#entries.clear();
  }
}
