/**
 * Network faults a peer applies to its own traffic, through the transport's
 * link filter: cut links (in, out or both) to named peers, drop a share of
 * packets, or hold them back. Rules are by member name, resolved from the
 * packet's address at the moment it passes, so they survive a peer's restart
 * on a new port. Loss and delay act on outgoing packets only, so a rule between
 * two peers means what it says and is not applied twice.
 */
import type {Address} from './types.js';
import type {LinkFilter, LinkVerdict} from './transport.js';

export const EVERYONE = '*';

export interface FaultStatus {
  cutIn: string[];
  cutOut: string[];
  loss: Record<string, number>;
  delay: Record<string, {ms: number; jitter: number}>;
  dropped: number;
  delayed: number;
}

const pass: LinkVerdict = {action: 'pass'};
const drop: LinkVerdict = {action: 'drop'};

export class NetworkFaults {
  readonly #cutIn = new Set<string>();
  readonly #cutOut = new Set<string>();
  readonly #loss = new Map<string, number>();
  readonly #delay = new Map<string, {ms: number; jitter: number}>();
  #dropped = 0;
  #delayed = 0;

  constructor(
    /** The member name at an address, if any. */
    private readonly nameAt: (address: Address) => string | undefined,
    private readonly random: () => number = Math.random,
  ) {}

  readonly filter: LinkFilter = (link) => {
    if (this.#empty()) return pass;
    const name = this.nameAt(link.remote);
    const matches = (set: ReadonlySet<string> | ReadonlyMap<string, unknown>) => set.has(EVERYONE) || (name !== undefined && set.has(name));
    if (matches(link.direction === 'in' ? this.#cutIn : this.#cutOut)) return this.#drop();
    if (link.direction === 'in') return pass;
    const rate = (name !== undefined ? this.#loss.get(name) : undefined) ?? this.#loss.get(EVERYONE);
    if (rate !== undefined && this.random() < rate) return this.#drop();
    const delay = (name !== undefined ? this.#delay.get(name) : undefined) ?? this.#delay.get(EVERYONE);
    if (delay) {
      this.#delayed++;
      const ms = Math.max(0, Math.round(delay.ms + delay.jitter * (2 * this.random() - 1)));
      return {action: 'delay', ms};
    }
    return pass;
  };

  cut(names: readonly string[], direction: 'in' | 'out' | 'both'): void {
    for (const name of names) {
      if (direction !== 'out') this.#cutIn.add(name);
      if (direction !== 'in') this.#cutOut.add(name);
    }
  }

  loss(rate: number, names: readonly string[]): void {
    for (const name of names.length > 0 ? names : [EVERYONE]) this.#loss.set(name, rate);
  }

  delay(ms: number, jitter: number, names: readonly string[]): void {
    for (const name of names.length > 0 ? names : [EVERYONE]) this.#delay.set(name, {ms, jitter});
  }

  heal(): void {
    this.#cutIn.clear();
    this.#cutOut.clear();
    this.#loss.clear();
    this.#delay.clear();
  }

  status(): FaultStatus {
    return {
      cutIn: [...this.#cutIn].sort(),
      cutOut: [...this.#cutOut].sort(),
      loss: Object.fromEntries(this.#loss),
      delay: Object.fromEntries(this.#delay),
      dropped: this.#dropped,
      delayed: this.#delayed,
    };
  }

  #empty(): boolean {
    return this.#cutIn.size === 0 && this.#cutOut.size === 0 && this.#loss.size === 0 && this.#delay.size === 0;
  }

  #drop(): LinkVerdict {
    this.#dropped++;
    return drop;
  }
}
