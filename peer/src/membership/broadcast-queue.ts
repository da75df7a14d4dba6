/**
 * memberlist's TransmitLimitedQueue: updates waiting to be piggybacked. The
 * least-sent go first, each is sent a bounded number of times (λ·log N), and
 * a newer update about a member replaces the older one still queued.
 *
 * take() runs for every datagram sent, and a group forming all at once keeps
 * about N updates queued in every member. Sorting the queue per datagram
 * (as this once did) made that O(N log N) a packet, most of a 1,000-peer
 * host's CPU; the queue is kept instead as one list per transmit count, read
 * from the least-sent list's newest end, so a take costs what it returns
 * plus what it skips for size.
 */
import type {Update} from './messages.js';

interface Entry<T> {
  update: Update;
  /** As it goes into a datagram, encoded once: take() runs for every packet sent. */
  encoded: T;
  /** Encoded length, counted once. */
  bytes: number;
  transmits: number;
  /** Replaced by newer news, or sent its limit of times: skipped, and dropped from its list when next passed. */
  gone: boolean;
}

/** Below this many bytes left, no update fits (the smallest is a type, a name and an incarnation). */
const SMALLEST_UPDATE_BYTES = 16;

/** T: an update as the datagram carries it (by default the Update itself). */
export class BroadcastQueue<T = Update> {
  readonly #entries = new Map<string, Entry<T>>();
  /** By transmit count; each list oldest first, so its end is the newest (memberlist sends newer news first among equals). */
  #byTransmits: Entry<T>[][] = [];
  /** Gone entries still sitting in some list: when they outnumber the live ones, the lists are rebuilt. */
  #gone = 0;

  /** @param onQueue called after each queue(), so the owner can wake its gossip timer. */
  constructor(
    readonly onQueue: () => void = () => {},
    private readonly encode: (update: Update) => T = (update) => update as unknown as T,
  ) {}

  queue(update: Update): void {
    const old = this.#entries.get(update.n);
    if (old) this.#retire(old);
    const encoded = this.encode(update);
    const entry: Entry<T> = {update, encoded, bytes: JSON.stringify(encoded).length + 1, transmits: 0, gone: false};
    this.#entries.set(update.n, entry);
    (this.#byTransmits[0] ??= []).push(entry);
    if (this.#gone > 2 * this.#entries.size + 64) this.#compact();
    this.onQueue();
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Takes the updates that fit in `budgetBytes`, least-sent first, counting one transmission for each. */
  take(budgetBytes: number, limit: number): T[] {
    const out: T[] = [];
    let used = 0;
    const promoted: Entry<T>[] = [];
    for (let t = 0; t < this.#byTransmits.length && budgetBytes - used >= SMALLEST_UPDATE_BYTES; t++) {
      const list = this.#byTransmits[t];
      if (!list || list.length === 0) continue;
      const tooBig: Entry<T>[] = [];
      let i = list.length - 1;
      for (; i >= 0 && budgetBytes - used >= SMALLEST_UPDATE_BYTES; i--) {
        const entry = list[i]!;
        if (entry.gone) {
          this.#gone--;
          continue;
        }
        // The limit shrinks when members go: news already sent that often has been sent enough.
        if (entry.transmits >= limit) {
          this.#drop(entry);
          continue;
        }
        if (used + entry.bytes > budgetBytes) {
          tooBig.push(entry);
          continue;
        }
        used += entry.bytes;
        out.push(entry.encoded);
        entry.transmits++;
        if (entry.transmits >= limit) this.#drop(entry);
        else promoted.push(entry);
      }
      // What was passed over stays, in its order, where the list now ends.
      list.length = i + 1;
      for (let k = tooBig.length - 1; k >= 0; k--) list.push(tooBig[k]!);
    }
    // Newest last, so the next take meets it first among those sent as often.
    for (let k = promoted.length - 1; k >= 0; k--) {
      const entry = promoted[k]!;
      (this.#byTransmits[entry.transmits] ??= []).push(entry);
    }
    return out;
  }

  clear(): void {
    this.#entries.clear();
    this.#byTransmits = [];
    this.#gone = 0;
  }

  /** Sent its limit of times: out of the queue (it leaves its list as the take that sent it last rebuilds it). */
  #drop(entry: Entry<T>): void {
    if (this.#entries.get(entry.update.n) === entry) this.#entries.delete(entry.update.n);
  }

  /** Replaced while still in a list: skipped there until a take or a compaction passes it. */
  #retire(entry: Entry<T>): void {
    entry.gone = true;
    this.#gone++;
  }

  #compact(): void {
    this.#byTransmits = this.#byTransmits.map((list) => list.filter((e) => !e.gone));
    this.#gone = 0;
  }
}
