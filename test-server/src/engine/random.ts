/** A small seeded PRNG (mulberry32): every random choice of a run comes from its seed. */
export class Random {
  #state: number;

  constructor(readonly seed: number) {
    this.#state = seed >>> 0;
  }

  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  pick<T>(items: readonly T[]): T | undefined {
    return items.length === 0 ? undefined : items[Math.floor(this.next() * items.length)];
  }
}

export function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}

/**
 * The nemesis's stream, split from the run's seed: the steps use `new Random(seed)`,
 * the nemesis this one, so neither's draws shift the other's.
 */
export function nemesisRandom(seed: number): Random {
  return new Random((seed ^ 0x9e3779b9) >>> 0);
}
