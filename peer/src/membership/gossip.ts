/**
 * Dissemination: updates the member table queues wait in memberlist's
 * transmit-limited queue, ride along on every probe packet (piggyback) and,
 * while there is news, go to a few random members every gossip interval.
 */
import {retransmitLimit} from '../config.js';
import {BroadcastQueue} from './broadcast-queue.js';
import type {Update, WireUpdate} from './messages.js';
import {toWire} from './messages.js';
import type {ProtocolContext} from './run-state.js';

export class Gossip {
  readonly #queue = new BroadcastQueue<WireUpdate>(undefined, toWire);
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly context: ProtocolContext) {}

  /**
   * @param atOnce whether news after a quiet spell goes out now (the default) or at the next tick: news
   * its subject already sent to every member itself (a leaver's `left`) gains nothing from a resend now,
   * and N members each resending it at once would compete with the last of them still taking it in.
   */
  queue(update: Update, atOnce = true): void {
    this.#queue.queue(update);
    this.arm(atOnce);
  }

  /** Drops all queued news: a leaving member has only its `left` left to say. */
  clear(): void {
    this.#queue.clear();
  }

  /**
   * The queued updates that fit in one datagram, each counted as sent once; undefined when there are none.
   * `reservedBytes`: room the caller keeps for updates of its own in the same datagram.
   */
  piggyback(reservedBytes = 0): WireUpdate[] | undefined {
    const limit = this.context.policy.retransmitLimit(retransmitLimit(this.context.config, this.context.table.liveCount()));
    const updates = this.#queue.take(this.context.config.maxPacketBytes - 200 - reservedBytes, limit);
    return updates.length > 0 ? updates : undefined;
  }

  /**
   * Gossip ticks only while there is news: a group at rest would otherwise wake
   * every member 1000/gossipInterval times a second for nothing, and on one
   * machine carrying hundreds of members those wake-ups are most of the load.
   */
  arm(atOnce = true): void {
    if (this.#timer || !this.context.run.active()) return;
    // Alone, there is nobody to tell: the next member we learn of queues news and re-arms the timer.
    const newsToTell = () => this.context.run.active() && this.#queue.size > 0 && this.context.table.liveCount() > 1;
    this.#timer = setInterval(() => {
      if (newsToTell()) return this.#gossip();
      clearInterval(this.#timer);
      this.#timer = undefined;
    }, this.context.config.gossipIntervalMs);
    // First news after a quiet spell goes out at once (once the current packet is applied), not a
    // whole interval later: a ticking timer would have fired half an interval later on average.
    if (!atOnce) return;
    setImmediate(() => {
      if (this.#timer && newsToTell()) this.#gossip();
    });
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #gossip(): void {
    if (this.#queue.size === 0) return;
    const targets = this.context.table.sampleOthers(this.context.config.gossipNodes);
    for (const target of targets) {
      const updates = this.piggyback();
      if (!updates) return;
      this.context.transport.sendUdp(target.address, {t: 'gossip', f: this.context.name, u: updates});
    }
  }
}
