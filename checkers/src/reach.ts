/**
 * Which peers a chat message can have reached, when links are blocked.
 *
 * A message spreads within a side of the network (model.ts): the sender's
 * side when it is sent, then every side that holds a *holder* of it. A holder
 * is a peer that has shared a side with one since the send (the sender to
 * begin with), or that delivered the message itself (evidence that it crossed
 * some link the sides do not count, a one-way one say), in the process it had
 * then: a respawned peer starts with nothing; a paused and resumed one keeps
 * what it held. So during a partition a message is expected on its sender's
 * side only, and once a heal (or a bridge) puts the sides together, everywhere.
 *
 * A message sent before the sides parted may not have crossed by then (in
 * flight, or lost): when a change splits the live set, every message some
 * required process had not delivered yet is *carried* into tracking, its
 * holders those that had it then (its sender, if still the process that sent
 * it, and whoever delivered it), so it is due only on the sides that hold it.
 *
 * Only messages sent while their sender's side is not the whole live set, and
 * those carried, are tracked, and only until every running process holds them
 * (a paused peer too: it may be required, and resume on a side no holder is
 * on): without network faults this costs one check per send. Messages sent from one side between
 * two changes of the network spread alike, so they share one `Spread`: a
 * change costs a pass over the spreads, not over the messages.
 */
import type {Model, SentMessage} from './model.js';

interface Holder {
  generation: number;
  /** When it first shared a side with a holder, or delivered a message of the spread. */
  since: number;
}

/** The holders of the messages that share it. */
interface Spread {
  /** The sender's side at the first send; for carried messages, their holders when the sides parted. */
  side: readonly string[];
  /** Carried messages: when the sides parted (undefined: sent during the partition). */
  parted: number | undefined;
  holders: Map<string, Holder>;
  /** When every running process (live or paused) held it (undefined: not yet). */
  covered: number | undefined;
  /** The network epoch it was made in: sends and forks join it only within that epoch. */
  epoch: number;
  /** Copies with one more holder, for messages of this spread that peer delivered, per peer. */
  forks: Map<string, Spread> | undefined;
}

/** A message sent before the sides parted, not yet delivered by every process required to: who had it then. */
export interface Carried {
  sent: SentMessage;
  /** Peers whose current process held it, sorted. */
  holders: readonly string[];
}

export class MessageReach {
  /** Every message ever tracked, by id, with its spread, kept for the words of a verdict. */
  readonly #spreadOf = new Map<string, {sent: SentMessage; spread: Spread}>();
  /** Spreads not yet held by every running process: the only ones a change can widen. */
  readonly #open = new Set<Spread>();
  /** The spreads sends in this epoch join, by the first name of the sender's side. */
  #current = new Map<string, Spread>();
  #epoch = 0;
  /** Some message was sent into a side smaller than the live set, or carried. */
  everTracked = false;
  /** Some message sent before the sides parted was carried into tracking. */
  everCarried = false;

  /** Some tracked message is not yet held by every running process. */
  get open(): boolean {
    return this.#open.size > 0;
  }

  /** A send: tracked when its sender's side is not every live peer. */
  sent(model: Model, sent: SentMessage): void {
    if (!model.hasBlockedLinks()) return;
    const live = model.component(sent.sender);
    if (live && live.length === model.liveNames().size) return;
    const side = live ?? [sent.sender];
    const key = live ? live[0]! : `\u0000${sent.sender}`;
    let spread = this.#current.get(key);
    if (!spread) {
      const holders = new Map<string, Holder>();
      for (const peer of side) holders.set(peer, {generation: model.generation(peer), since: sent.t});
      spread = {side, parted: undefined, holders, covered: undefined, epoch: this.#epoch, forks: undefined};
      this.#current.set(key, spread);
      this.#open.add(spread);
    }
    this.#spreadOf.set(sent.id, {sent, spread});
    this.everTracked = true;
  }

  /** A delivery by `peer` at `t`: it holds the message, and so does its side from now. */
  delivered(model: Model, peer: string, id: string, t: number): void {
    const tracked = this.#spreadOf.get(id);
    if (!tracked) return;
    const spread = tracked.spread;
    if (spread.covered !== undefined || this.#holds(model, spread, peer)) return;
    let fork = spread.forks?.get(peer);
    if (!fork || fork.epoch !== this.#epoch) {
      fork = {side: spread.side, parted: spread.parted, holders: new Map(spread.holders), covered: undefined, epoch: this.#epoch, forks: undefined};
      fork.holders.set(peer, {generation: model.generation(peer), since: t});
      (spread.forks ??= new Map()).set(peer, fork);
      this.#open.add(fork);
      this.#widen(model, fork, t);
    }
    tracked.spread = fork;
  }

  /** Whether message `id` is tracked (sent during a partition, or carried). */
  tracks(id: string): boolean {
    return this.#spreadOf.has(id);
  }

  /**
   * The live set, the links or a peer's process changed at `t`: sides that
   * now hold a holder take the messages. `carried`: the messages the change
   * parted from some of the peers due them (the caller finds them, each once).
   */
  changed(model: Model, t: number, carried: readonly Carried[] = []): void {
    this.#epoch++;
    if (this.#current.size > 0) this.#current = new Map();
    // Carried messages with the same holders spread alike: one spread each.
    const made = new Map<string, Spread>();
    for (const c of carried) {
      if (this.#spreadOf.has(c.sent.id)) continue;
      const key = c.holders.join('\u0000');
      let spread = made.get(key);
      if (!spread) {
        // They held it before now: `about` reads a holder's -Infinity as the send.
        const holders = new Map<string, Holder>();
        for (const p of c.holders) holders.set(p, {generation: model.generation(p), since: -Infinity});
        spread = {side: c.holders, parted: t, holders, covered: undefined, epoch: this.#epoch, forks: undefined};
        made.set(key, spread);
        this.#open.add(spread);
        // Until now the live set was one side (else the message was carried or tracked before): a peer of a holder's side has shared it since it was live.
        this.#widen(model, spread, t, true);
      }
      this.#spreadOf.set(c.sent.id, {sent: c.sent, spread});
      this.everTracked = true;
      this.everCarried = true;
    }
    const fresh = new Set(made.values());
    for (const spread of this.#open) if (!fresh.has(spread)) this.#widen(model, spread, t);
  }

  #holds(model: Model, spread: Spread, peer: string): boolean {
    return spread.holders.get(peer)?.generation === model.generation(peer);
  }

  /** With `sinceLive`, a peer that joins the holders has shared a side with them since it was last live, not since `t`. */
  #widen(model: Model, spread: Spread, t: number, sinceLive = false): void {
    let covered = true;
    for (const side of model.components()) {
      if (!side.some((p) => this.#holds(model, spread, p))) {
        covered = false;
        continue;
      }
      for (const p of side) if (!this.#holds(model, spread, p)) spread.holders.set(p, {generation: model.generation(p), since: sinceLive ? model.liveSince(p) : t});
    }
    // A paused peer keeps its process, so it may still be required, and it can come back on a side no holder is on.
    if (covered) covered = model.absent().every((p) => this.#holds(model, spread, p));
    // Every running process holds it: any peer still required later runs now, so it is expected everywhere from here.
    if (!covered) return;
    spread.covered = t;
    spread.forks = undefined;
    this.#open.delete(spread);
  }

  /** Whether `peer`'s current process is expected to have message `id` (untracked messages: yes). */
  expects(model: Model, peer: string, id: string): boolean {
    const spread = this.#spreadOf.get(id)?.spread;
    return !spread || spread.covered !== undefined || this.#holds(model, spread, peer);
  }

  /**
   * For a tracked message: the sender's side when it was sent (for a carried
   * one, its holders when the sides parted, and when), and since when
   * `peer` is expected to have it (undefined: it is not).
   */
  about(model: Model, peer: string, id: string): {side: readonly string[]; parted: number | undefined; since: number | undefined} | undefined {
    const tracked = this.#spreadOf.get(id);
    if (!tracked) return undefined;
    const {sent, spread} = tracked;
    const own = this.#holds(model, spread, peer) ? spread.holders.get(peer)!.since : undefined;
    const since = own ?? spread.covered;
    return {side: spread.side, parted: spread.parted, since: since === undefined ? undefined : Math.max(since, sent.t)};
  }
}
