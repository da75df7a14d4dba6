/**
 * Lifeguard's suspicion timer: it starts at `max` and shrinks towards `min`
 * as independent members confirm the suspicion, so a member many agree is
 * gone is declared dead sooner, while a lone slow prober cannot kill it fast.
 */
export class Suspicion {
  readonly #confirmations = new Set<string>();
  readonly #start = performance.now();
  #timer: NodeJS.Timeout;

  constructor(
    from: string,
    private readonly expected: number,
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly onTimeout: () => void,
  ) {
    this.#confirmations.add(from);
    this.#timer = setTimeout(onTimeout, this.#timeoutMs());
  }

  /** Records a confirmation from another member; returns true if it was new. */
  confirm(from: string): boolean {
    if (this.#confirmations.has(from)) return false;
    this.#confirmations.add(from);
    clearTimeout(this.#timer);
    const remaining = this.#timeoutMs() - (performance.now() - this.#start);
    this.#timer = setTimeout(this.onTimeout, Math.max(0, remaining));
    return true;
  }

  get confirmations(): number {
    return this.#confirmations.size - 1;
  }

  cancel(): void {
    clearTimeout(this.#timer);
  }

  #timeoutMs(): number {
    if (this.expected < 1) return this.minMs;
    const c = Math.min(this.confirmations, this.expected);
    const fraction = Math.log(c + 1) / Math.log(this.expected + 1);
    return Math.max(this.minMs, Math.floor(this.maxMs - fraction * (this.maxMs - this.minMs)));
  }
}
