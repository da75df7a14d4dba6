/**
 * Which peers a chat message can have reached, when links are blocked.
 *
 * A message spreads within a side of the network (model.ts): the sender's
 * side when it is sent, then every side that holds a *holder* of it. A holder
 * is a peer that has shared a side with one since the send (the sender to
 * begin with), or that delivered the message itself (evidence that it crossed
 * some link, a one-way one say, the sides do not count), in the process it
 * had then: a respawned peer starts with nothing; a paused and resumed one
 * keeps what it held. So during a partition a message is expected on its
 * sender's side only, and once a heal (or a restart, or a bridge) puts the
 * sides together, everywhere.
 *
 * Only messages sent while their sender's side is not the whole live set are
 * tracked, and only until their holders cover the live set: without network
 * faults this costs one check per send.
 */
import type {Model, SentMessage} from './model.js';

interface Holder {
  generation: number;
  /** When it first shared a side with a holder, or delivered it. */
  since: number;
}

interface Tracked {
  sent: SentMessage;
  /** The sender's side when it was sent. */
  side: readonly string[];
  holders: Map<string, Holder>;
  /** When every live peer held it (undefined: not yet). */
  covered: number | undefined;
}

export class MessageReach {
  /** Every message ever tracked, by id, kept for the words of a verdict. */
  readonly #all = new Map<string, Tracked>();
  /** Those not yet held by every live peer: the only ones a change can spread. */
  readonly #open = new Set<Tracked>();
  /** Some message was sent into a side smaller than the live set. */
  everTracked = false;

  /** Some tracked message is not yet held by every live peer. */
  get open(): boolean {
    return this.#open.size > 0;
  }

  /** A send: tracked when its sender's side is not every live peer. */
  sent(model: Model, sent: SentMessage): void {
    if (!model.hasBlockedLinks()) return;
    const side = model.component(sent.sender);
    if (side && side.length === model.liveNames().size) return;
    const holders = new Map<string, Holder>();
    for (const peer of side ?? [sent.sender]) holders.set(peer, {generation: model.generation(peer), since: sent.t});
    const m: Tracked = {sent, side: side ?? [sent.sender], holders, covered: undefined};
    this.#all.set(sent.id, m);
    this.#open.add(m);
    this.everTracked = true;
  }

  /** A delivery by `peer` at `t`: it holds the message, and so does its side from now. */
  delivered(model: Model, peer: string, id: string, t: number): void {
    const m = this.#all.get(id);
    if (!m || m.covered !== undefined) return;
    const generation = model.generation(peer);
    if (m.holders.get(peer)?.generation === generation) return;
    m.holders.set(peer, {generation, since: t});
    this.#spread(model, m, t);
  }

  /** The live set or the links changed at `t`: sides that now hold a holder take the message. */
  changed(model: Model, t: number): void {
    for (const m of this.#open) this.#spread(model, m, t);
  }

  #holds(model: Model, m: Tracked, peer: string): boolean {
    return m.holders.get(peer)?.generation === model.generation(peer);
  }

  #spread(model: Model, m: Tracked, t: number): void {
    let covered = true;
    for (const side of model.components()) {
      if (!side.some((p) => this.#holds(model, m, p))) {
        covered = false;
        continue;
      }
      for (const p of side) if (!this.#holds(model, m, p)) m.holders.set(p, {generation: model.generation(p), since: t});
    }
    // Every live peer holds it: any peer still required later was live now, so it is expected everywhere from here.
    if (!covered) return;
    m.covered = t;
    this.#open.delete(m);
  }

  /** Whether `peer`'s current process is expected to have message `id` (untracked messages: yes). */
  expects(model: Model, peer: string, id: string): boolean {
    const m = this.#all.get(id);
    return !m || m.covered !== undefined || this.#holds(model, m, peer);
  }

  /**
   * For a tracked message: the sender's side when it was sent, and since when
   * `peer` is expected to have it (undefined: it is not).
   */
  about(model: Model, peer: string, id: string): {side: readonly string[]; since: number | undefined} | undefined {
    const m = this.#all.get(id);
    if (!m) return undefined;
    const own = this.#holds(model, m, peer) ? m.holders.get(peer)!.since : undefined;
    return {side: m.side, since: own ?? m.covered};
  }
}
