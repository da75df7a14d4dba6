/**
 * After a hedged join, reaches the bootstrap contacts this peer has never
 * heard of, so that two groups formed around different contacts merge.
 *
 * memberlist's Join pushes and pulls with every seed it is given, so any two
 * groups that share a seed become one. A newcomer to a large group here asks
 * one contact at a time and is done at the first answer (Membership.join's
 * hedge), which spares the contacts but merges nothing. On a starved machine
 * a contact can be registered with the service and still be outside the
 * group: its own registration was answered past its deadline, it tried
 * again, and the contacts it was then given included another such peer,
 * which answered. Every newcomer that asked one of those two first joined
 * them, and no gossip or push-pull ever crosses between groups that do not
 * know each other: a 2,000-peer run ended its ten minutes with 70 peers in
 * islands of 7 to 14.
 *
 * A contact never heard of some time after the join means that it and this
 * peer are in different groups, or that it has not joined yet: one state
 * exchange with it merges the two either way. In a formed group every
 * contact is known, and a sweep sends nothing.
 */
import type {Address} from './membership/types.js';
import {shuffle} from './membership/shuffle.js';

export interface SweptContact {
  name: string;
  address: Address;
}

/** What a sweep needs of the peer's membership. */
export interface SweepTarget {
  /** Whether the member has ever been heard of, in any state (one held dead is for the reconnect to try). */
  knows(name: string): boolean;
  /** Running and not leaving: a sweep never brings a peer back into the group. */
  active(): boolean;
  bridge(address: Address, name: string): Promise<void>;
}

/**
 * When to look, in push-pull intervals after the join: a contact still
 * joining is heard of within about one (gossip spreads its alive, and
 * push-pull catches up what gossip missed), so a contact unknown after that
 * is in another group. Looking sooner bridged to contacts that were only
 * late: a 2,000-peer start made 940 such exchanges, each carrying the whole
 * table, while its group formed. Later looks cover an exchange that timed out
 * with a starved contact.
 */
export const SWEEP_PUSH_PULL_INTERVALS: readonly number[] = [1, 3, 9];

/** At most this many unknown contacts are tried in one sweep until one answers: one exchange merges two groups. */
const TRIES_PER_SWEEP = 3;

export class ContactSweep {
  readonly #timers: NodeJS.Timeout[] = [];
  #cancelled = false;

  constructor(
    readonly target: SweepTarget,
    readonly contacts: readonly SweptContact[],
    readonly onBridged: (contact: SweptContact) => void = () => {},
  ) {}

  /** Sweeps once after each delay, counted from now, each stretched by up to half at random. */
  start(delaysMs: readonly number[]): this {
    for (const ms of delaysMs) {
      // Newcomers that joined together do not all look at once.
      const timer = setTimeout(() => void this.sweep(), ms * (1 + Math.random() / 2));
      // A sweep is not a reason for the process to stay up.
      timer.unref();
      this.#timers.push(timer);
    }
    return this;
  }

  /** Tries the unknown contacts, in random order, until one exchange succeeds. Returns the contact bridged to. */
  async sweep(): Promise<SweptContact | undefined> {
    if (this.#cancelled || !this.target.active()) return undefined;
    const unknown = shuffle(this.contacts.filter((c) => !this.target.knows(c.name)));
    for (const contact of unknown.slice(0, TRIES_PER_SWEEP)) {
      if (this.#cancelled || !this.target.active()) return undefined;
      try {
        await this.target.bridge(contact.address, contact.name);
        this.onBridged(contact);
        return contact;
      } catch {
        // Gone or starved: the next one, and the next sweep.
      }
    }
    return undefined;
  }

  cancel(): void {
    this.#cancelled = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.length = 0;
  }
}
