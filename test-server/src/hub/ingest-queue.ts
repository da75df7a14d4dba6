/**
 * Takes in agents' event batches a time slice at a time, so a flood of them
 * cannot hold the coordinator's event loop.
 *
 * Socket reads all happen in one phase of the event loop: with two thousand
 * agents each sending a batch, handing every batch to the history at once
 * took tens of seconds per turn, and in that time no connection was
 * accepted, no hello answered and no bootstrap request served, so agents
 * timed out and peers gave up. Here a batch is taken in at once while the
 * turn has budget left; after that it waits, in arrival order, and the queue
 * is worked off a slice per turn, with sockets served in between. A batch is
 * acknowledged only once taken in, so an agent sends its next one only then:
 * the agents slow down to what the coordinator can record, and nothing is lost.
 */
export class IngestQueue {
  readonly #jobs: Array<() => void> = [];
  #head = 0;
  /** Time spent on jobs since the current turn began (a turn ends at the next check phase). */
  #spentMs = 0;
  #turnEnds = false;
  #draining = false;

  /** `sliceMs`: how long one turn of the event loop may spend on batches before the rest wait. */
  constructor(readonly sliceMs = 20) {}

  get length(): number {
    return this.#jobs.length - this.#head;
  }

  /** Runs `job` now when nothing waits and the turn has budget left; else after what waits. */
  run(job: () => void): void {
    this.#markTurn();
    if (this.length === 0 && this.#spentMs < this.sliceMs) return this.#timed(job);
    this.#jobs.push(job);
    this.#scheduleDrain();
  }

  /** Runs everything that waits, now: the hub is closing and nothing may be lost. */
  flush(): void {
    let failure: {error: unknown} | undefined;
    while (this.length > 0) {
      try {
        this.#next()();
      } catch (error) {
        failure ??= {error};
      }
    }
    this.#compact();
    if (failure) throw failure.error;
  }

  #next(): () => void {
    const job = this.#jobs[this.#head]!;
    this.#jobs[this.#head++] = undefined as unknown as () => void;
    return job;
  }

  #compact(): void {
    if (this.#head === this.#jobs.length) {
      this.#jobs.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#jobs.length) {
      this.#jobs.splice(0, this.#head);
      this.#head = 0;
    }
  }

  #timed(job: () => void): void {
    const start = performance.now();
    try {
      job();
    } finally {
      this.#spentMs += performance.now() - start;
    }
  }

  /** The budget is per turn: it is spent by reads in the poll phase and refilled at the check phase after them. */
  #markTurn(): void {
    if (this.#turnEnds) return;
    this.#turnEnds = true;
    setImmediate(() => {
      this.#turnEnds = false;
      this.#spentMs = 0;
    });
  }

  #scheduleDrain(): void {
    if (this.#draining) return;
    this.#draining = true;
    // setImmediate from a check phase runs in the next turn, after that turn's reads.
    setImmediate(() => this.#drain());
  }

  #drain(): void {
    this.#draining = false;
    // flush() may have taken everything in since this was scheduled.
    if (this.length === 0) return;
    const start = performance.now();
    try {
      // At least one a turn, whatever the slice: a queue that waits always moves.
      do this.#next()();
      while (this.length > 0 && performance.now() - start < this.sliceMs);
    } finally {
      // A job that throws fails as it would have inline, without stranding the ones behind it.
      this.#compact();
      if (this.length > 0) this.#scheduleDrain();
    }
  }
}
