/**
 * Loopback addresses for peers in kernel fault mode: one per peer name, for
 * the whole run, so a restarted peer comes back at the address its rules
 * name. Each run has its own block, 127.<block>.x.y; block 0 starts at
 * 127.0.0.2, since 127.0.0.1 is the coordinator's and must match no rule.
 */
export const MAX_BLOCK = 254;

/** The n-th address of a block (n from 0), skipping 127.0.0.1 and host parts ending in 0 or 255. */
export function addressAt(block: number, n: number): string {
  if (!Number.isInteger(block) || block < 0 || block > MAX_BLOCK) throw new RangeError(`block ${block}: expected 0-${MAX_BLOCK}`);
  // 254 usable last bytes (1-254) per third byte; block 0's first, 127.0.0.1, is the coordinator's.
  const index = n + (block === 0 ? 1 : 0);
  const third = Math.floor(index / 254);
  const fourth = (index % 254) + 1;
  if (third > 255) throw new RangeError(`no loopback address left for peer ${n + 1} in block ${block}`);
  return `127.${block}.${third}.${fourth}`;
}

export class AddressBook {
  readonly #byName = new Map<string, string>();

  constructor(readonly block: number) {}

  /** The peer's address, given on first asking and kept for the run. */
  addressOf(name: string): string {
    let address = this.#byName.get(name);
    if (address === undefined) {
      address = addressAt(this.block, this.#byName.size);
      this.#byName.set(name, address);
    }
    return address;
  }

  get addresses(): ReadonlyMap<string, string> {
    return this.#byName;
  }
}
