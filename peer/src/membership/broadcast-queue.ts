/**
 * memberlist's TransmitLimitedQueue: updates waiting to be piggybacked. The
 * least-sent go first, each is sent a bounded number of times (λ·log N), and
 * a newer update about a member replaces the older one still queued.
 */
import type {Update} from './messages.js';

interface Entry {
  update: Update;
  transmits: number;
  /** Insertion order breaks ties so newer news goes out first among equals. */
  id: number;
}

export class BroadcastQueue {
  readonly #entries = new Map<string, Entry>();
  #nextId = 0;

  queue(update: Update): void {
    this.#entries.set(update.n, {update, transmits: 0, id: this.#nextId++});
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
      const size = JSON.stringify(entry.update).length + 1;
      if (used + size > budgetBytes) continue;
      used += size;
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
