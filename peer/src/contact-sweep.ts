/**
 * After a join through some of the bootstrap's contacts, reaches the others
 * this peer has never heard of, so that two groups formed around different
 * contacts merge.
 *
 * memberlist's Join pushes and pulls with every seed it is given, so any two
 * groups that share a seed become one. A newcomer here asks three of the
 * contacts it is given (Peer.join), and in a large group one at a time, done
 * at the first answer (Membership.join's hedge): that spares the contacts,
 * but merges nothing. On a starved machine a contact can be registered with
 * the service and still be outside the group: its own registration was
 * answered past its deadline, it tried again, and the contacts it was then
 * given included another such peer, which answered. Every newcomer that
 * asked one of those two first joined them, and no gossip or push-pull ever
 * crosses between groups that do not know each other: a 2,000-peer run
 * ended its ten minutes with 70 peers in islands of 7 to 14.
 *
 * A contact never heard of some time after the join means that it and this
 * peer are in different groups, or that it has not joined yet: one state
 * exchange with it merges the two either way, both sides passing on what
 * they learn. In a formed group every contact is known, and a sweep sends
 * nothing; a contact known once (since dead, left and forgotten) is not
 * asked again.
 */
import type {BootstrapSeed} from './bootstrap-client.js';
import type {Address} from './membership/types.js';
import {shuffle} from './membership/shuffle.js';

/** What a sweep needs of the peer's membership (Membership is one). */
export interface SweepTarget {
  /** Whether the member is in the table in any state, or was forgotten dead (the reconnect's to try). */
  knows(name: string): boolean;
  /** Running and not leaving: a sweep never brings a peer back into the group. */
  readonly active: boolean;
  bridge(address: Address, name: string): Promise<void>;
}

export interface SweepLog {
  bridged(contact: BootstrapSeed): void;
  failed(contact: BootstrapSeed, error: unknown): void;
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

/** At most this many unknown contacts are tried in one sweep: one exchange that succeeds merges two groups. */
const TRIES_PER_SWEEP = 3;

export class ContactSweep {
  readonly #timers: NodeJS.Timeout[] = [];
  /** Contacts never seen in the table yet: one seen is never asked, even once forgotten. */
  readonly #unseen: BootstrapSeed[];
  #cancelled = false;

  constructor(
    readonly target: SweepTarget,
    contacts: readonly BootstrapSeed[],
    readonly log: SweepLog = {bridged: () => {}, failed: () => {}},
  ) {
    this.#unseen = [...contacts];
    this.#forgetSeen();
  }

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

  /** Tries up to three unknown contacts, in random order, until one exchange succeeds; returns that one. */
  async sweep(): Promise<BootstrapSeed | undefined> {
    if (this.#cancelled || !this.target.active) return undefined;
    this.#forgetSeen();
    for (const contact of shuffle([...this.#unseen]).slice(0, TRIES_PER_SWEEP)) {
      if (this.#cancelled || !this.target.active) return undefined;
      try {
        await this.target.bridge(contact.address, contact.name);
      } catch (error) {
        // Gone or starved: the next one, and the next sweep.
        this.log.failed(contact, error);
        continue;
      }
      this.log.bridged(contact);
      return contact;
    }
    return undefined;
  }

  cancel(): void {
    this.#cancelled = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.length = 0;
  }

  #forgetSeen(): void {
    for (let i = this.#unseen.length - 1; i >= 0; i--) if (this.target.knows(this.#unseen[i]!.name)) this.#unseen.splice(i, 1);
  }
}
