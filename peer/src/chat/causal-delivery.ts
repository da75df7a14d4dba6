/**
 * Causal delivery of chat messages, without the network: which messages are
 * delivered here, which wait for their causes, and what this peer's own next
 * message depends on.
 *
 * A message names its causes in `deps`: the sender's causal frontier when it
 * sent (the ids it had delivered that none of its later deliveries depended
 * on). It is delivered once every dep and its sender's previous message are
 * delivered here; until then it is held. Since every stream is delivered in
 * order, "delivered here" is a prefix per stream (`sender:epoch`), and a
 * delivery only has to wake the held messages that wait for its id: they are
 * indexed by what they wait for, so a chain of n held messages is released
 * in O(n), never by rescanning the buffer.
 *
 * A held message may wait for an id that never comes: a forged dep, a cycle
 * of deps across streams, a cause whose only holders died. When the buffer is
 * full, the oldest held message is evicted to make room, rather than the new
 * one refused: otherwise a few such messages would fill it for good and every
 * later message that has to wait would be dropped. Eviction costs nothing
 * while there is room, and a genuine message evicted comes back by
 * anti-entropy once its causes are delivered; a forged one never does. The
 * oldest goes because a genuine message's causes are usually close behind
 * it: the one that has waited longest is the likeliest to wait for ever.
 * Expiry by age was not chosen: it needs a guess at how long a genuine cause
 * may be away (a partition lasts as long as it lasts), and it would throw
 * away messages that wait for good reason while the buffer still has room.
 */
import type {ChatMessage} from '../membership/messages.js';
import {parseChatId} from '../membership/messages.js';

/** What became of a message handed to `receive`. */
export type Arrival =
  | {outcome: 'delivered'}
  | {outcome: 'duplicate'}
  /** It had to wait, and it was too far ahead of its stream for the buffer: dropped, to come again by anti-entropy. */
  | {outcome: 'dropped'}
  /**
   * Waiting for `missing`: those of its deps (and its sender's previous message) not delivered here yet.
   * `evicted`: the oldest held message, dropped to make room for this one (the buffer was full).
   */
  | {outcome: 'held'; missing: string[]; evicted?: ChatMessage};

export interface CausalDeliveryOptions {
  /** How many messages may wait at once (beyond, the oldest is evicted), and how far ahead of its stream one may be. */
  maxHeld: number;
  /**
   * Whether a message waits for its causes. A peer that does not (a
   * deliberate defect, see policy.ts) delivers each new message on arrival.
   */
  waitsForCauses: boolean;
}

interface Held {
  message: ChatMessage;
  /** Ids it still waits for; delivered when this is empty. */
  missing: Set<string>;
}

interface Stream {
  /** Every sequence up to this one is delivered. */
  delivered: number;
  /** Sequences delivered beyond `delivered`: only a peer that does not wait for causes has any. */
  ahead: Set<number>;
  /** Messages of this stream that wait, by sequence. */
  held: Map<number, Held>;
}

export const streamOf = (message: Pick<ChatMessage, 'sender' | 'epoch'>): string => `${message.sender}:${message.epoch}`;

export class CausalDelivery {
  readonly #streams = new Map<string, Stream>();
  /** Held messages by each id they wait for. */
  readonly #waiting = new Map<string, Set<Held>>();
  /** Every held message, oldest first (a Set keeps insertion order): whom eviction picks. */
  readonly #byAge = new Set<Held>();
  /** Delivered ids that no later delivery here depended on. */
  readonly #frontier = new Set<string>();

  constructor(private readonly options: CausalDeliveryOptions) {}

  /** How many messages wait for their causes. */
  get heldCount(): number {
    return this.#byAge.size;
  }

  get streamCount(): number {
    return this.#streams.size;
  }

  /** Highest in-order sequence per stream: what anti-entropy compares. */
  *prefixes(): IterableIterator<[stream: string, delivered: number]> {
    for (const [key, stream] of this.#streams) yield [key, stream.delivered];
  }

  delivered(stream: string): number {
    return this.#streams.get(stream)?.delivered ?? 0;
  }

  isDelivered(id: string): boolean {
    const parts = parseChatId(id);
    if (!parts) return false;
    const stream = this.#streams.get(parts.stream);
    return stream !== undefined && (parts.seq <= stream.delivered || stream.ahead.has(parts.seq));
  }

  /**
   * What a message sent now depends on: the frontier, and the message it
   * answers if that is not already in it. The caller checks `replyTo` is
   * delivered here.
   */
  depsForSend(replyTo?: string): string[] {
    const deps = [...this.#frontier];
    if (replyTo !== undefined && !this.#frontier.has(replyTo)) deps.push(replyTo);
    return deps;
  }

  /** The ids a message waits for: its deps and its sender's previous message, those not delivered here. */
  missingFor(message: ChatMessage): string[] {
    const missing = new Set<string>();
    if (message.seq > 1 && this.delivered(streamOf(message)) < message.seq - 1) missing.add(`${streamOf(message)}:${message.seq - 1}`);
    for (const dep of message.deps) if (!this.isDelivered(dep)) missing.add(dep);
    return [...missing];
  }

  /**
   * Takes a message in: `deliver` is called for it, and for every held
   * message it released, each once its causes are delivered, in causal order.
   */
  receive(message: ChatMessage, deliver: (message: ChatMessage) => void): Arrival {
    const key = streamOf(message);
    const stream = this.#streams.get(key);
    if (stream && (message.seq <= stream.delivered || stream.ahead.has(message.seq) || stream.held.has(message.seq))) return {outcome: 'duplicate'};
    const missing = this.options.waitsForCauses ? this.missingFor(message) : [];
    if (missing.length === 0) {
      this.#deliverFrom(message, deliver);
      return {outcome: 'delivered'};
    }
    const {maxHeld} = this.options;
    // Dropped when it is further ahead of its stream than the buffer could ever hold (a forged
    // far-future seq would otherwise take a slot): once its causes arrive, anti-entropy brings it again.
    if (message.seq > (stream?.delivered ?? 0) + maxHeld || maxHeld <= 0) return {outcome: 'dropped'};
    const evicted = this.#byAge.size >= maxHeld ? this.#evictOldest() : undefined;
    const held: Held = {message, missing: new Set(missing)};
    this.#stream(key).held.set(message.seq, held);
    this.#byAge.add(held);
    for (const id of missing) {
      const waiters = this.#waiting.get(id);
      if (waiters) waiters.add(held);
      else this.#waiting.set(id, new Set([held]));
    }
    return {outcome: 'held', missing, ...(evicted ? {evicted} : {})};
  }

  /** Forgets the held message that has waited longest, everywhere it is indexed. */
  #evictOldest(): ChatMessage {
    const oldest = this.#byAge.values().next().value as Held;
    this.#byAge.delete(oldest);
    this.#streams.get(streamOf(oldest.message))!.held.delete(oldest.message.seq);
    for (const id of oldest.missing) {
      const waiters = this.#waiting.get(id)!;
      waiters.delete(oldest);
      if (waiters.size === 0) this.#waiting.delete(id);
    }
    return oldest.message;
  }

  #stream(key: string): Stream {
    let stream = this.#streams.get(key);
    if (!stream) {
      stream = {delivered: 0, ahead: new Set(), held: new Map()};
      this.#streams.set(key, stream);
    }
    return stream;
  }

  #deliverFrom(first: ChatMessage, deliver: (message: ChatMessage) => void): void {
    const queue = [first];
    for (let i = 0; i < queue.length; i++) {
      const message = queue[i]!;
      this.#markDelivered(message);
      deliver(message);
      const waiters = this.#waiting.get(message.id);
      if (!waiters) continue;
      this.#waiting.delete(message.id);
      for (const held of waiters) {
        held.missing.delete(message.id);
        if (held.missing.size > 0) continue;
        this.#streams.get(streamOf(held.message))!.held.delete(held.message.seq);
        this.#byAge.delete(held);
        queue.push(held.message);
      }
    }
  }

  #markDelivered(message: ChatMessage): void {
    const stream = this.#stream(streamOf(message));
    if (message.seq === stream.delivered + 1) {
      stream.delivered++;
      while (stream.ahead.delete(stream.delivered + 1)) stream.delivered++;
    } else stream.ahead.add(message.seq);
    // Its sender's previous message is one of its causes even when deps do not name it.
    this.#frontier.delete(`${streamOf(message)}:${message.seq - 1}`);
    for (const dep of message.deps) this.#frontier.delete(dep);
    this.#frontier.add(message.id);
  }
}
